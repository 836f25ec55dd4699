//! `gan-gpu bench --tune`: every matmul kernel and workgroup shape this adapter can run, timed
//! on the reference MLP's shapes grouped by shape class (layout × size), the fastest per class
//! kept. Contenders are timed in two interleaved rounds and their faster round counts, so a
//! slow spell on a shared machine does not decide the winner.

use std::collections::BTreeMap;

use super::matmul::{layer_shape, random_tensor};
use super::{REFERENCE_D, REFERENCE_G, repeats_for, time_dispatches};
use crate::error::Result;
use crate::gpu::{Dispatch, GpuContext, Tensor};
use crate::kernels::matmul::{Layout, MatmulKernel, MatmulOptions, MatmulTuning, matmul};
use crate::kernels::matmul_tuning::{KernelChoice, ShapeClass, builtin_choice};

/// Workgroup shapes tried for the tiled kernels: llvmpipe's best (8×8) and shapes that suit
/// GPUs with 32- or 64-wide subgroups.
pub const WORKGROUPS: [(u32, u32); 4] = [(8, 8), (16, 8), (16, 16), (32, 8)];

/// Every configuration of these kernels this adapter can run.
pub fn candidates(ctx: &GpuContext, kernels: &[MatmulKernel]) -> Vec<KernelChoice> {
    let mut out = Vec::new();
    for &kernel in kernels {
        for &workgroup in &WORKGROUPS {
            let choice = KernelChoice::new(kernel, workgroup);
            // The subgroup kernels' fixed workgroup makes every shape the same candidate.
            if choice.runs_on(ctx) && !out.contains(&choice) {
                out.push(choice);
            }
        }
    }
    out
}

/// The kernel `Auto` runs here without tuning for a shape class, as a candidate (for the
/// speed-up column).
pub fn builtin(ctx: &GpuContext, class: ShapeClass) -> KernelChoice {
    let default = MatmulTuning::default();
    builtin_choice(ctx, class.size, (default.workgroup_x, default.workgroup_y))
}

/// One shape class: what every candidate took and the winner.
pub struct ClassResult {
    pub class: ShapeClass,
    pub shapes: usize,
    /// Multiply-adds × 2 of one run over the class's shapes.
    pub flops: f64,
    /// Seconds per run over the class's shapes, per candidate (None: it failed to run).
    pub timings: Vec<(KernelChoice, Option<f64>)>,
    pub builtin: KernelChoice,
}

impl ClassResult {
    /// The candidates that ran, fastest first.
    pub fn ranked(&self) -> Vec<(KernelChoice, f64)> {
        let mut ran: Vec<(KernelChoice, f64)> = self
            .timings
            .iter()
            .filter_map(|&(choice, seconds)| Some((choice, seconds?)))
            .collect();
        ran.sort_by(|a, b| a.1.total_cmp(&b.1));
        ran
    }

    pub fn best(&self) -> Option<(KernelChoice, f64)> {
        self.ranked().first().copied()
    }

    pub fn gflops_of(&self, choice: KernelChoice) -> Option<f64> {
        let seconds = self.timings.iter().find(|(c, _)| *c == choice)?.1?;
        Some(self.flops / seconds / 1e9)
    }
}

/// The reference MLP's matmul shapes at these batch sizes, by class.
pub fn shapes_by_class(batches: &[usize]) -> BTreeMap<ShapeClass, Vec<(usize, usize, usize)>> {
    let mut classes: BTreeMap<ShapeClass, Vec<_>> = BTreeMap::new();
    for &batch in batches {
        for &layer in REFERENCE_G.iter().chain(REFERENCE_D.iter()) {
            for layout in Layout::ALL {
                let shape = layer_shape(layout, batch, layer);
                classes
                    .entry(ShapeClass::of(layout, shape))
                    .or_default()
                    .push(shape);
            }
        }
    }
    classes
}

/// One shape's operands on the GPU: (m, n, k), A, B and C.
type Operands = ((usize, usize, usize), Tensor, Tensor, Tensor);

/// Seconds per run of `choice` over the shapes (operands given), or the error that stopped it.
fn time_choice(
    ctx: &GpuContext,
    layout: Layout,
    operands: &[Operands],
    choice: KernelChoice,
    min_seconds: f64,
) -> Result<f64> {
    let mut dispatches: Vec<Dispatch> = Vec::new();
    for ((m, n, k), a, b, c) in operands {
        let choice = choice.for_operands(ctx, (a.len(), b.len()));
        let options = MatmulOptions {
            tuning: choice.into(),
            ..Default::default()
        };
        dispatches.push(matmul(ctx, layout, a, b, c, (*m, *n, *k), options)?);
    }
    let refs: Vec<&Dispatch> = dispatches.iter().collect();
    let repeats = repeats_for(ctx, &refs, min_seconds)?;
    time_dispatches(ctx, &refs, repeats)
}

/// Time every candidate on every class; `report` sees each class as it finishes.
pub fn run(
    ctx: &GpuContext,
    kernels: &[MatmulKernel],
    batches: &[usize],
    min_seconds: f64,
    mut report: impl FnMut(&ClassResult),
) -> Result<Vec<ClassResult>> {
    let candidates = candidates(ctx, kernels);
    let mut results = Vec::new();
    for (class, shapes) in shapes_by_class(batches) {
        let mut operands = Vec::new();
        let mut flops = 0.0;
        for (i, &(m, n, k)) in shapes.iter().enumerate() {
            let a = random_tensor(ctx, m * k, i as u64 + 1)?;
            let b = random_tensor(ctx, k * n, i as u64 + 100)?;
            let c = ctx.zeros("tune output", &[m * n])?;
            operands.push(((m, n, k), a, b, c));
            flops += 2.0 * (m * n * k) as f64;
        }
        let mut best: Vec<Option<f64>> = vec![None; candidates.len()];
        let mut failed = vec![false; candidates.len()];
        for round in 0..2 {
            // The second round re-times only candidates within 1.5× of the first round's best:
            // the slow ones (the tiled kernels on llvmpipe) cannot win and cost the most time.
            let cutoff = best.iter().flatten().copied().fold(f64::INFINITY, f64::min) * 1.5;
            for (i, &choice) in candidates.iter().enumerate() {
                if failed[i] || (round > 0 && best[i].is_none_or(|seconds| seconds > cutoff)) {
                    continue;
                }
                match time_choice(ctx, class.layout, &operands, choice, min_seconds) {
                    Ok(seconds) => best[i] = Some(best[i].map_or(seconds, |b| b.min(seconds))),
                    Err(e) => {
                        crate::errln!("  {} skipped: {e}", choice.describe());
                        failed[i] = true;
                        best[i] = None;
                    }
                }
            }
        }
        let result = ClassResult {
            class,
            shapes: shapes.len(),
            flops,
            timings: candidates.iter().copied().zip(best).collect(),
            builtin: builtin(ctx, class),
        };
        report(&result);
        results.push(result);
    }
    Ok(results)
}
