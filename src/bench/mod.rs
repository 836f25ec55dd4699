//! Benchmarks behind `gan-gpu bench`: speed is measured here, never in timed tests.

pub mod conv;
pub mod matmul;
pub mod pytorch;
pub mod train;
pub mod tune;

use std::time::Instant;

use crate::error::Result;
use crate::gpu::{Dispatch, GpuContext, Recorder};

/// The reference MLP of the project (G and D), as (inputs, outputs) per linear layer.
pub const REFERENCE_G: [(usize, usize); 4] = [(100, 256), (256, 512), (512, 1024), (1024, 784)];
pub const REFERENCE_D: [(usize, usize); 3] = [(784, 512), (512, 256), (256, 1)];

/// Seconds per repetition of `dispatches`, recorded `repeats` times into one submission after a
/// warm-up, so submission overhead is amortised as it is in training.
pub fn time_dispatches(ctx: &GpuContext, dispatches: &[&Dispatch], repeats: usize) -> Result<f64> {
    let run = |count: usize| -> Result<f64> {
        let start = Instant::now();
        let mut recorder = Recorder::new(ctx);
        for _ in 0..count {
            recorder.record_all(dispatches.iter().copied());
        }
        recorder.submit()?;
        ctx.wait_idle()?;
        Ok(start.elapsed().as_secs_f64())
    };
    run(1)?; // compile pipelines, fault in memory
    Ok(run(repeats)? / repeats as f64)
}

/// Repeats of `dispatches` that make one measurement last about `min_seconds`, from one timed
/// run (1 to 10,000).
pub fn repeats_for(ctx: &GpuContext, dispatches: &[&Dispatch], min_seconds: f64) -> Result<usize> {
    let once = time_dispatches(ctx, dispatches, 1)?;
    Ok(((min_seconds / once.max(1e-6)).ceil() as usize).clamp(1, 10_000))
}
