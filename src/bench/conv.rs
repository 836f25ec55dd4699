//! `gan-gpu bench conv`: GFLOP/s and time per call of each convolution pass (forward, input
//! gradient, weight gradient) on the DCGAN MNIST model's conv layers.

use super::{repeats_for, time_dispatches};
use crate::error::Result;
use crate::gpu::{Dispatch, GpuContext, Tensor};
use crate::kernels::conv::{ConvOp, ConvScratch};

/// The DCGAN MNIST conv layers at this batch size: G's two ConvTranspose2d and D's two Conv2d
/// (all kernel 4, stride 2, padding 1).
pub fn dcgan_layers(batch: usize) -> Result<Vec<(&'static str, ConvOp)>> {
    Ok(vec![
        (
            "G ConvT 128→64 7→14",
            ConvOp::conv_transpose2d(batch, 128, 64, 7, 7, 4, 4, 2, 1)?,
        ),
        (
            "G ConvT 64→1 14→28",
            ConvOp::conv_transpose2d(batch, 64, 1, 14, 14, 4, 4, 2, 1)?,
        ),
        (
            "D Conv 1→64 28→14",
            ConvOp::conv2d(batch, 1, 64, 28, 28, 4, 4, 2, 1)?,
        ),
        (
            "D Conv 64→128 14→7",
            ConvOp::conv2d(batch, 64, 128, 14, 14, 4, 4, 2, 1)?,
        ),
    ])
}

/// Which pass a row measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConvPass {
    Forward,
    InputGradient,
    WeightGradient,
}

impl ConvPass {
    pub const ALL: [ConvPass; 3] = [
        ConvPass::Forward,
        ConvPass::InputGradient,
        ConvPass::WeightGradient,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ConvPass::Forward => "forward",
            ConvPass::InputGradient => "input grad",
            ConvPass::WeightGradient => "weight grad",
        }
    }
}

pub struct ConvRow {
    pub layer: &'static str,
    pub batch: usize,
    pub pass: ConvPass,
    /// Multiply-adds of the pass's matmul (each pass has the forward's count).
    pub macs: u64,
    pub seconds: f64,
}

impl ConvRow {
    pub fn gflops(&self) -> f64 {
        2.0 * self.macs as f64 / self.seconds / 1e9
    }
}

fn random_tensor(ctx: &GpuContext, shape: &[usize], seed: u64) -> Result<Tensor> {
    let len: usize = shape.iter().product();
    let mut state = seed;
    let values: Vec<f32> = (0..len)
        .map(|_| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((state >> 40) as f32 / (1u64 << 24) as f32) - 0.5
        })
        .collect();
    ctx.upload("bench input", shape, &values)
}

/// One row per (layer, pass). `repeats`: calls per measurement, or None to run each for about
/// `min_seconds` (calibrated from one call).
pub fn run(
    ctx: &GpuContext,
    batch: usize,
    repeats: Option<usize>,
    min_seconds: f64,
) -> Result<Vec<ConvRow>> {
    let mut rows = Vec::new();
    for (layer, op) in dcgan_layers(batch)? {
        let x = random_tensor(ctx, &op.input_shape(), 1)?;
        let w = random_tensor(ctx, &op.weight_shape(), 2)?;
        let dy = random_tensor(ctx, &op.output_shape(), 3)?;
        let bias = ctx.zeros("bench bias", &[op.output_shape()[1]])?;
        let y = ctx.zeros("bench y", &op.output_shape())?;
        let dx = ctx.zeros("bench dx", &op.input_shape())?;
        let dw = ctx.zeros("bench dw", &op.weight_shape())?;
        let db = ctx.zeros("bench db", &[op.output_shape()[1]])?;
        let scratch = ConvScratch::new(ctx, layer, &op)?;
        for pass in ConvPass::ALL {
            let dispatches = match pass {
                ConvPass::Forward => op.forward(ctx, &x, &w, Some(&bias), &y, &scratch)?,
                ConvPass::InputGradient => op.backward_input(ctx, &dy, &w, &dx, &scratch)?,
                ConvPass::WeightGradient => {
                    op.backward_params(ctx, &dy, &dw, Some(&db), false, &scratch)?
                }
            };
            let refs: Vec<&Dispatch> = dispatches.iter().collect();
            let repeats = match repeats {
                Some(repeats) => repeats.max(1),
                None => repeats_for(ctx, &refs, min_seconds)?,
            };
            let seconds = time_dispatches(ctx, &refs, repeats)?;
            rows.push(ConvRow {
                layer,
                batch,
                pass,
                macs: op.macs(),
                seconds,
            });
        }
    }
    Ok(rows)
}
