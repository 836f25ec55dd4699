//! The critic step of the Wasserstein losses: critic loss mean D(G(z)) − mean D(x), a Lipschitz
//! penalty with its exact parameter gradient, and the generator loss −mean D(G(z)).
//!
//! The gradient penalty P = λ/B Σ_b ψ(‖∂D/∂x̂_b‖) depends on the parameters through the input
//! gradient, so its parameter gradient is a second derivative. Without autograd it is written
//! out (src/reference/penalty.rs has the same algorithm in f64, checked by finite differences):
//!
//! 1. forward at x̂, keeping every layer's output y_l;
//! 2. the input-gradient chain e_{L−1} = 1, d_l = e_l·W_lᵀ, e_{l−1} = d_l ⊙ φ'(y_{l−1}), g = d_0;
//! 3. ū = dP/dg = λ/B ψ'(‖g‖) g/‖g‖ (gradient_penalty kernel, which also writes the metrics);
//! 4. that chain backwards: W̄_l += d̄_lᵀ·e_l, ē_l = d̄_l·W_l, d̄_{l+1} = ē_l ⊙ φ'(y_l);
//! 5. for tanh and sigmoid layers also ā_l = ē_l ⊙ d_{l+1} ⊙ φ''(y_l), which then flows down the
//!    ordinary forward chain: s_l = ā_l + (s_{l+1}·W_{l+1}ᵀ) ⊙ φ'(y_l), W̄_l += h_{l−1}ᵀ·s_l,
//!    b̄_l += Σ_rows s_l. Piecewise-linear critics have φ'' = 0 and skip this part entirely.
//!
//! Layers are 0-based here: layer l has weights W_l [in, out] and output y_l. Every step is a
//! matmul in one of the three existing layouts or an elementwise kernel, so the whole penalty is
//! a fixed list of dispatches like the rest of the training graph. The e_l and d_l of step 2 live
//! in their own buffers (the in-place backward of `Mlp::backward` would overwrite d with e, and
//! step 5 needs both).

use super::config::{GanLoss, Penalty, TrainConfig};
use super::graph::{slot, stream};
use crate::error::{Error, Result};
use crate::gpu::{Dispatch, GpuContext, Tensor};
use crate::kernels::matmul::{Layout, MatmulOptions, matmul};
use crate::kernels::penalty::{self, PenaltyShape, PenaltySlots};
use crate::kernels::{Activation, activation, random, reduce};
use crate::nn::{Mlp, MlpPass, ParamGrads};

/// The metric slots the penalties of a training graph write.
pub const TRAINING_SLOTS: PenaltySlots = PenaltySlots {
    penalty: slot::PENALTY,
    norm: slot::GRAD_NORM,
    loss: slot::D_LOSS,
};

fn smooth(activation: Activation) -> bool {
    matches!(activation, Activation::Tanh | Activation::Sigmoid)
}

fn check_critic(critic: &Mlp) -> Result<()> {
    match critic.spec.layers.last() {
        Some(last) if last.outputs == 1 && last.activation == Activation::Identity => Ok(()),
        _ => Err(Error::Input(format!(
            "a Lipschitz penalty needs a critic with one linear output, found {} ending in {:?}",
            critic.spec.sizes_text(),
            critic.spec.layers.last().map(|l| l.activation)
        ))),
    }
}

/// The gradient penalty of `critic` at fixed points (the interpolates x̂), its metrics, and its
/// exact gradient added to the critic's parameter gradients.
pub struct GradientPenalty {
    /// The critic's forward pass at the points.
    pub pass: MlpPass,
    /// g = ∂D/∂x at the points, [batch, inputs].
    pub input_gradient: Tensor,
    /// Forward, input gradient, penalty and its parameter gradient, in order.
    pub dispatches: Vec<Dispatch>,
}

impl GradientPenalty {
    pub fn new(
        ctx: &GpuContext,
        critic: &Mlp,
        points: &Tensor,
        batch: usize,
        shape: PenaltyShape,
        metrics: &Tensor,
        slots: PenaltySlots,
    ) -> Result<GradientPenalty> {
        check_critic(critic)?;
        let layers = &critic.spec.layers;
        let count = layers.len();
        let grads = &critic.grads.views;
        let pass = critic.pass(ctx, "D x̂", points, batch)?;
        let mut dispatches = pass.forward.clone();
        let buffer = |name: String, width: usize| ctx.zeros(&name, &[batch, width]);
        let accumulate = || MatmulOptions {
            accumulate: true,
            ..Default::default()
        };

        // 2. e[l] = ∂D/∂a_l, d[l] = ∂D/∂(input of layer l); ∂D/∂a of the last layer is 1.
        let mut e = Vec::with_capacity(count);
        let mut d = Vec::with_capacity(count);
        for (l, layer) in layers.iter().enumerate() {
            e.push(if l + 1 == count {
                ctx.upload("penalty ∂D/∂D", &[batch, 1], &vec![1.0f32; batch])?
            } else {
                buffer(format!("penalty e{l}"), layer.outputs)?
            });
            d.push(buffer(format!("penalty d{l}"), layer.inputs)?);
        }
        for l in (0..count).rev() {
            let layer = &layers[l];
            dispatches.push(matmul(
                ctx,
                Layout::DyWt,
                &e[l],
                critic.weight(l),
                &d[l],
                (batch, layer.inputs, layer.outputs),
                MatmulOptions::default(),
            )?);
            if l > 0 {
                dispatches.push(activation::activation_backward(
                    ctx,
                    &d[l],
                    &pass.outputs[l - 1],
                    &e[l - 1],
                    layers[l - 1].activation,
                )?);
            }
        }

        // 3. ū = dP/dg, the value and the metrics.
        let mut dbar = buffer("penalty dbar0".into(), layers[0].inputs)?;
        dispatches.push(penalty::gradient_penalty(
            ctx, &d[0], &dbar, metrics, shape, slots,
        )?);

        // 4. The chain in reverse, and 5a. the φ'' terms of smooth layers.
        let mut abar: Vec<Option<Tensor>> = vec![None; count];
        for (l, layer) in layers.iter().enumerate() {
            dispatches.push(matmul(
                ctx,
                Layout::XtDy,
                &dbar,
                &e[l],
                &grads[2 * l],
                (layer.inputs, layer.outputs, batch),
                accumulate(),
            )?);
            if l + 1 == count {
                break;
            }
            let ebar = buffer(format!("penalty ebar{l}"), layer.outputs)?;
            dispatches.push(matmul(
                ctx,
                Layout::XW,
                &dbar,
                critic.weight(l),
                &ebar,
                (batch, layer.outputs, layer.inputs),
                MatmulOptions::default(),
            )?);
            if smooth(layer.activation) {
                let a = buffer(format!("penalty abar{l}"), layer.outputs)?;
                dispatches.push(penalty::second_derivative(
                    ctx,
                    &ebar,
                    &d[l + 1],
                    &pass.outputs[l],
                    &a,
                    layer.activation,
                )?);
                abar[l] = Some(a);
            }
            let next = buffer(format!("penalty dbar{}", l + 1), layer.outputs)?;
            dispatches.push(activation::activation_backward(
                ctx,
                &ebar,
                &pass.outputs[l],
                &next,
                layer.activation,
            )?);
            dbar = next;
        }

        // 5b. The φ'' terms down the forward chain, from the highest smooth layer.
        if let Some(top) = (0..count).rev().find(|&l| abar[l].is_some()) {
            let mut above: Option<Tensor> = None;
            for l in (0..=top).rev() {
                let layer = &layers[l];
                let s = match &above {
                    None => abar[l].clone().expect("the top smooth layer has its term"),
                    Some(s_above) => {
                        let t = buffer(format!("penalty s{l}"), layer.outputs)?;
                        dispatches.push(matmul(
                            ctx,
                            Layout::DyWt,
                            s_above,
                            critic.weight(l + 1),
                            &t,
                            (batch, layer.outputs, layers[l + 1].outputs),
                            MatmulOptions::default(),
                        )?);
                        if layer.activation != Activation::Identity {
                            dispatches.push(activation::activation_backward_in_place(
                                ctx,
                                &t,
                                &pass.outputs[l],
                                layer.activation,
                            )?);
                        }
                        match &abar[l] {
                            Some(a) => {
                                dispatches.push(penalty::add_in_place(ctx, &t, a)?);
                                a.clone()
                            }
                            None => t,
                        }
                    }
                };
                let input = if l == 0 { points } else { &pass.outputs[l - 1] };
                dispatches.push(matmul(
                    ctx,
                    Layout::XtDy,
                    input,
                    &s,
                    &grads[2 * l],
                    (layer.inputs, layer.outputs, batch),
                    accumulate(),
                )?);
                dispatches.push(reduce::bias_gradient(ctx, &s, &grads[2 * l + 1], true)?);
                above = Some(s);
            }
        }
        Ok(GradientPenalty {
            input_gradient: d.swap_remove(0),
            pass,
            dispatches,
        })
    }
}

/// The finite-difference Lipschitz penalty of `critic` between fixed points y₁ and y₂: two
/// forward passes, the penalty kernel, and two ordinary backward passes adding its gradient to
/// the critic's parameter gradients.
pub struct LipschitzPenalty {
    pub passes: [MlpPass; 2],
    pub dispatches: Vec<Dispatch>,
}

impl LipschitzPenalty {
    pub fn new(
        ctx: &GpuContext,
        critic: &Mlp,
        (y1, y2): (&Tensor, &Tensor),
        batch: usize,
        shape: PenaltyShape,
        metrics: &Tensor,
        slots: PenaltySlots,
    ) -> Result<LipschitzPenalty> {
        check_critic(critic)?;
        let p1 = critic.pass(ctx, "D y1", y1, batch)?;
        let p2 = critic.pass(ctx, "D y2", y2, batch)?;
        let mut dispatches = p1.forward.clone();
        dispatches.extend(p2.forward.iter().cloned());
        dispatches.push(penalty::lipschitz_penalty(
            ctx,
            (p1.output(), p2.output()),
            (y1, y2),
            (p1.output_grad(), p2.output_grad()),
            metrics,
            shape,
            slots,
        )?);
        dispatches.extend(critic.backward(ctx, &p1, ParamGrads::Accumulate, None)?);
        dispatches.extend(critic.backward(ctx, &p2, ParamGrads::Accumulate, None)?);
        Ok(LipschitzPenalty {
            passes: [p1, p2],
            dispatches,
        })
    }
}

/// The Wasserstein critic loss mean D(G(z)) − mean D(x) after both forward passes (D(x) in
/// `real`, D(G(z)) in `fake`): its metrics, and ∂/∂D(x) = −1/B, ∂/∂D(G(z)) = +1/B into the
/// passes' output gradients, from which the graph's ordinary backward passes run.
pub fn critic_loss(
    ctx: &GpuContext,
    (real, fake): (&MlpPass, &MlpPass),
    metrics: &Tensor,
) -> Result<Vec<Dispatch>> {
    let mut dispatches = Vec::new();
    for (pass, scale, value_slot) in [(real, -1.0, slot::D_REAL), (fake, 1.0, slot::D_FAKE)] {
        let output = pass.output();
        dispatches.push(reduce::mean(ctx, output, metrics, value_slot, 1.0, true)?);
        dispatches.push(reduce::mean(
            ctx,
            output,
            metrics,
            slot::D_LOSS,
            scale,
            true,
        )?);
        dispatches.push(reduce::mean_backward(ctx, pass.output_grad(), scale)?);
    }
    Ok(dispatches)
}

/// wgan-gp's penalty at fresh interpolates of the step's real and generated batches (one
/// ε ~ U(0, 1] per sample from the GPU counter `rng_counter`), adding its exact gradient to the
/// critic's parameter gradients; no dispatches for the other losses. Runs after the loss's
/// backward passes have written the gradients.
pub fn penalty(
    ctx: &GpuContext,
    config: &TrainConfig,
    critic: &Mlp,
    (real, fake): (&MlpPass, &MlpPass),
    metrics: &Tensor,
    rng_counter: &Tensor,
) -> Result<Vec<Dispatch>> {
    let mut dispatches = Vec::new();
    if config.loss != GanLoss::WganGp {
        return Ok(dispatches);
    }
    let batch = config.batch_size;
    let dim = critic.spec.inputs();
    let settings = config.wasserstein;
    let shape = PenaltyShape {
        lambda: settings.lambda,
        one_sided: settings.penalty.one_sided(),
    };
    let mut interpolate = |name: &str, stream: u32| -> Result<Tensor> {
        let eps = ctx.zeros(&format!("{name} ε"), &[batch])?;
        let points = ctx.zeros(name, &[batch, dim])?;
        dispatches.push(random::fill_uniform(
            ctx,
            &eps,
            0.0,
            1.0,
            config.seed,
            stream,
            rng_counter,
        )?);
        dispatches.push(penalty::interpolate(
            ctx,
            &real.input,
            &fake.input,
            &eps,
            &points,
        )?);
        Ok(points)
    };
    match settings.penalty {
        Penalty::TwoSided | Penalty::OneSided => {
            let points = interpolate("x̂", stream::EPSILON)?;
            let gp =
                GradientPenalty::new(ctx, critic, &points, batch, shape, metrics, TRAINING_SLOTS)?;
            dispatches.extend(gp.dispatches);
        }
        Penalty::LipschitzFd | Penalty::LipschitzFdOneSided => {
            let y1 = interpolate("y1", stream::EPSILON)?;
            let y2 = interpolate("y2", stream::EPSILON_2)?;
            let lp = LipschitzPenalty::new(
                ctx,
                critic,
                (&y1, &y2),
                batch,
                shape,
                metrics,
                TRAINING_SLOTS,
            )?;
            dispatches.extend(lp.dispatches);
        }
    }
    Ok(dispatches)
}

/// The generator's Wasserstein loss −mean D(G(z)) into the G_LOSS slot, and its gradient
/// −1/B into `fake`'s output gradient (the graph then backpropagates through D into G).
pub fn generator_loss(ctx: &GpuContext, fake: &MlpPass, metrics: &Tensor) -> Result<Vec<Dispatch>> {
    Ok(vec![
        reduce::mean(ctx, fake.output(), metrics, slot::G_LOSS, -1.0, true)?,
        reduce::mean_backward(ctx, fake.output_grad(), -1.0)?,
    ])
}
