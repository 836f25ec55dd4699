//! `gan-gpu bench matmul`: GFLOP/s of each matmul layout on the reference MLP's shapes.

use super::{REFERENCE_D, REFERENCE_G, repeats_for, time_dispatches};
use crate::error::Result;
use crate::gpu::{Dispatch, GpuContext, Tensor};
use crate::kernels::matmul::{Layout, MatmulOptions, MatmulTuning, matmul};

/// (m, n, k) of one matmul.
type Shape = (usize, usize, usize);

pub struct MatmulRow {
    pub label: String,
    pub layout: Layout,
    pub flops: f64,
    /// Per run of all shapes, texture copies included.
    pub seconds: f64,
    /// The matmul dispatches alone, for kernels that copy their operands into textures first.
    pub seconds_without_copies: Option<f64>,
}

impl MatmulRow {
    pub fn gflops(&self) -> f64 {
        self.flops / self.seconds / 1e9
    }
}

/// (m, n, k) of one linear layer's matmul in `layout` at this batch size.
pub fn layer_shape(
    layout: Layout,
    batch: usize,
    (inputs, outputs): (usize, usize),
) -> (usize, usize, usize) {
    match layout {
        Layout::XW => (batch, outputs, inputs),
        Layout::DyWt => (batch, inputs, outputs),
        Layout::XtDy => (inputs, outputs, batch),
    }
}

/// `len` pseudo-random values in [−0.5, 0.5) on the GPU (an LCG: benchmarks need no RNG crate).
pub(super) fn random_tensor(ctx: &GpuContext, len: usize, seed: u64) -> Result<Tensor> {
    let mut state = seed;
    let values: Vec<f32> = (0..len)
        .map(|_| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((state >> 40) as f32 / (1u64 << 24) as f32) - 0.5
        })
        .collect();
    ctx.upload("bench input", &[len], &values)
}

fn shapes_dispatches(
    ctx: &GpuContext,
    layout: Layout,
    shapes: &[(usize, usize, usize)],
    tuning: MatmulTuning,
) -> Result<(Vec<Dispatch>, f64)> {
    let mut dispatches = Vec::new();
    let mut flops = 0.0;
    for (i, &(m, n, k)) in shapes.iter().enumerate() {
        let a = random_tensor(ctx, m * k, i as u64 + 1)?;
        let b = random_tensor(ctx, k * n, i as u64 + 100)?;
        let c = ctx.zeros("bench output", &[m * n])?;
        let options = MatmulOptions {
            tuning,
            ..Default::default()
        };
        dispatches.push(matmul(ctx, layout, &a, &b, &c, (m, n, k), options)?);
        flops += 2.0 * (m * n * k) as f64;
    }
    Ok((dispatches, flops))
}

/// One row per (batch, layout) over all layers of G and D, plus a square 512³ row per layout.
pub fn run(
    ctx: &GpuContext,
    batches: &[usize],
    tuning: MatmulTuning,
    min_seconds: f64,
) -> Result<Vec<MatmulRow>> {
    let mut rows = Vec::new();
    let layers: Vec<(usize, usize)> = REFERENCE_G
        .iter()
        .chain(REFERENCE_D.iter())
        .copied()
        .collect();
    let mut cases: Vec<(String, Vec<Shape>)> = batches
        .iter()
        .map(|&batch| (format!("reference MLP, batch {batch}"), Vec::new()))
        .collect();
    cases.push(("square 512×512×512".into(), vec![(512, 512, 512)]));
    for layout in Layout::ALL {
        for (case_index, (label, square)) in cases.iter().enumerate() {
            let shapes: Vec<_> = if square.is_empty() {
                layers
                    .iter()
                    .map(|&l| layer_shape(layout, batches[case_index], l))
                    .collect()
            } else {
                square.clone()
            };
            let (dispatches, flops) = shapes_dispatches(ctx, layout, &shapes, tuning)?;
            let refs: Vec<&Dispatch> = dispatches.iter().collect();
            let repeats = repeats_for(ctx, &refs, min_seconds)?;
            let seconds = time_dispatches(ctx, &refs, repeats)?;
            // The textures hold the operands now, so the bare matmuls read real values.
            let seconds_without_copies = if dispatches.iter().any(Dispatch::has_copies) {
                let bare: Vec<Dispatch> = dispatches.iter().map(Dispatch::without_copies).collect();
                let bare: Vec<&Dispatch> = bare.iter().collect();
                Some(time_dispatches(ctx, &bare, repeats)?)
            } else {
                None
            };
            rows.push(MatmulRow {
                label: label.clone(),
                layout,
                flops,
                seconds,
                seconds_without_copies,
            });
        }
    }
    Ok(rows)
}
