//! `train --dry-run --profile`: where an iteration's time goes, kernel by kernel. Each launch of
//! the D and G steps is recorded `repeats` times alone in one submission and timed from submit
//! to idle, so a row is the kernel's own cost (its texture copies made once, before the first
//! repeat) plus the adapter's per-launch overhead, which is what an iteration pays for it.

use std::time::Instant;

use super::graph::TrainGraph;
use crate::error::Result;
use crate::gpu::{Dispatch, GpuContext, Recorder};

/// One launch of an iteration and its time.
pub struct LaunchTime {
    /// "D" (a D step: recorded k times an iteration) or "G".
    pub step: &'static str,
    pub label: String,
    pub workgroups: [u32; 3],
    pub seconds: f64,
}

/// Every launch of one iteration, timed alone; D-step launches once (an iteration runs them k
/// times).
pub fn profile(graph: &TrainGraph, ctx: &GpuContext, repeats: u32) -> Result<Vec<LaunchTime>> {
    let mut rows = Vec::new();
    for (step, launches) in [("D", graph.d_step()), ("G", graph.g_step())] {
        for launch in launches {
            rows.push(LaunchTime {
                step,
                label: launch.label.clone(),
                workgroups: launch.workgroups,
                seconds: time_launch(ctx, launch, repeats)?,
            });
        }
    }
    Ok(rows)
}

fn time_launch(ctx: &GpuContext, launch: &Dispatch, repeats: u32) -> Result<f64> {
    // Once untimed: pipelines compile and texture copies are made before the clock starts.
    let mut warm = Recorder::new(ctx);
    warm.record(launch);
    warm.submit()?;
    ctx.wait_idle()?;
    let started = Instant::now();
    let mut recorder = Recorder::new(ctx);
    for _ in 0..repeats {
        recorder.record(launch);
    }
    recorder.submit()?;
    ctx.wait_idle()?;
    Ok(started.elapsed().as_secs_f64() / repeats as f64)
}

/// The table `--profile` prints: each launch in iteration order with its share of the sum,
/// then the sum against a whole iteration timed the same way.
pub fn report(rows: &[LaunchTime], k: usize, iteration_seconds: f64) -> String {
    let per_iteration = |row: &LaunchTime| match row.step {
        "D" => row.seconds * k as f64,
        _ => row.seconds,
    };
    let total: f64 = rows.iter().map(per_iteration).sum();
    let mut text = String::from("step  µs/launch  % of sum  workgroups  launch\n");
    for row in rows {
        text += &format!(
            "{:>4}  {:>9.1}  {:>8.1}  {:>10}  {}\n",
            row.step,
            row.seconds * 1e6,
            100.0 * per_iteration(row) / total,
            format!(
                "{}×{}×{}",
                row.workgroups[0], row.workgroups[1], row.workgroups[2]
            ),
            row.label
        );
    }
    text += &format!(
        "sum of launches: {:.2} ms an iteration (k = {k}); a whole iteration timed the same way: {:.2} ms",
        total * 1e3,
        iteration_seconds * 1e3
    );
    text
}
