//! One network's optimizer on the GPU: its state buffers (same flat layout as the parameters),
//! its settings tensor [lr, momentum|β₁|α, β₂, eps], its update counter (Adam's bias-correction
//! t) and, with a schedule, the dispatch that sets lr and momentum from that counter.

use super::config::{OptimizerConfig, OptimizerKind};
use crate::error::Result;
use crate::gpu::{Dispatch, GpuContext, Tensor};
use crate::kernels::{optim, random};
use crate::nn::Network;

pub struct Optimizer {
    pub config: OptimizerConfig,
    /// Moments (Adam: m, v; SGD: velocity; RMSProp: square average), each like the parameters.
    pub state: Vec<Tensor>,
    pub settings: Tensor,
    /// Updates made so far: Adam's t (bias correction) and the schedule's t; checkpointed.
    pub step: Tensor,
    pub dispatches: Vec<Dispatch>,
}

impl Optimizer {
    pub fn new(
        ctx: &GpuContext,
        name: &str,
        config: OptimizerConfig,
        network: &Network,
    ) -> Result<Optimizer> {
        let params = &network.params.whole;
        let grads = &network.gradients()?.whole;
        let moments = match config.kind {
            OptimizerKind::Adam => 2,
            OptimizerKind::Sgd | OptimizerKind::Rmsprop => 1,
        };
        let state = (0..moments)
            .map(|i| ctx.zeros(&format!("{name} optimizer state {i}"), params.shape()))
            .collect::<Result<Vec<_>>>()?;
        let settings = ctx.upload(
            &format!("{name} optimizer settings"),
            &[4],
            &[config.lr, config.momentum, config.beta2, config.eps],
        )?;
        let step = ctx.upload(&format!("{name} optimizer step"), &[1], &[0u32])?;
        // Adam counts before its update (it needs t ≥ 1); the others after theirs.
        let mut dispatches = match config.kind {
            OptimizerKind::Adam => {
                // Derived from the count and β's each step, so never checkpointed.
                let corrections = ctx.zeros(&format!("{name} Adam bias corrections"), &[2])?;
                vec![
                    optim::adam_count(ctx, &step, &settings, &corrections)?,
                    optim::adam(
                        ctx,
                        params,
                        grads,
                        &state[0],
                        &state[1],
                        &settings,
                        &corrections,
                        network.params_texture.as_ref(),
                    )?,
                ]
            }
            OptimizerKind::Sgd => vec![
                optim::sgd_momentum(ctx, params, grads, &state[0], &settings)?,
                random::increment_counter(ctx, &step)?,
            ],
            OptimizerKind::Rmsprop => vec![
                optim::rmsprop(ctx, params, grads, &state[0], &settings)?,
                random::increment_counter(ctx, &step)?,
            ],
        };
        // After the update and its count: the settings then hold what the next update uses.
        if let Some(schedule) = config.count_schedule() {
            dispatches.push(optim::schedule_from_count(ctx, &settings, &step, schedule)?);
        }
        Ok(Optimizer {
            config,
            state,
            settings,
            step,
            dispatches,
        })
    }
}
