//! `train --dry-run --profile`: where an iteration's time goes, kernel by kernel. Each launch of
//! the D and G steps is timed alone, recorded back to back in one submission: the difference
//! between a submission of `repeats` + 10 launches and one of 10, over `repeats`. The
//! difference cancels the fixed cost of a submission and its wait (milliseconds on llvmpipe
//! once a large submission has run), which would otherwise be spread over the launches; what
//! remains is the kernel's own cost (its texture copies made once, in the first launch) plus
//! the adapter's per-launch overhead, which is what an iteration pays for it.

use std::time::Instant;

use super::graph::TrainGraph;
use crate::error::Result;
use crate::gpu::{GpuContext, Recorder};

/// Which step of Algorithm 1 a launch belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// A D step: recorded k times an iteration.
    D,
    G,
}

/// One launch of an iteration and its time.
pub struct LaunchTime {
    pub step: Step,
    pub label: String,
    pub workgroups: [u32; 3],
    pub seconds: f64,
}

/// Every launch of one iteration, timed alone; D-step launches once (an iteration runs them k
/// times).
pub fn profile(graph: &TrainGraph, ctx: &GpuContext, repeats: u32) -> Result<Vec<LaunchTime>> {
    let mut rows = Vec::new();
    for (step, launches) in [(Step::D, graph.d_step()), (Step::G, graph.g_step())] {
        for launch in launches {
            rows.push(LaunchTime {
                step,
                label: launch.label.clone(),
                workgroups: launch.workgroups,
                seconds: differential_seconds(ctx, |recorder| recorder.record(launch), repeats)?,
            });
        }
    }
    Ok(rows)
}

/// Launches in the shorter of the two timed submissions.
const BASE_LAUNCHES: u32 = 10;

/// Seconds per repeat of `record` beyond the fixed cost of a submission, timed as above.
pub fn differential_seconds(
    ctx: &GpuContext,
    mut record: impl FnMut(&mut Recorder<'_>),
    repeats: u32,
) -> Result<f64> {
    // Once untimed: pipelines compile and texture copies are made before the clock starts.
    submission_seconds(ctx, &mut record, 1)?;
    let short = submission_seconds(ctx, &mut record, BASE_LAUNCHES)?;
    let long = submission_seconds(ctx, &mut record, BASE_LAUNCHES + repeats)?;
    Ok((long - short).max(0.0) / repeats as f64)
}

/// Wall time of one submission holding `count` repeats of `record`, from recording to idle.
fn submission_seconds(
    ctx: &GpuContext,
    mut record: impl FnMut(&mut Recorder<'_>),
    count: u32,
) -> Result<f64> {
    let started = Instant::now();
    let mut recorder = Recorder::new(ctx);
    for _ in 0..count {
        record(&mut recorder);
    }
    recorder.submit()?;
    ctx.wait_idle()?;
    Ok(started.elapsed().as_secs_f64())
}

/// Tensor-to-texture copies a steady-state iteration records (the second of two recorded
/// together: the first also fills the textures of tensors no kernel writes). Recorded only.
pub fn texture_copies_per_iteration(graph: &TrainGraph, ctx: &GpuContext) -> usize {
    let mut recorder = Recorder::new(ctx);
    graph.record_iteration(&mut recorder, 0);
    let first = recorder.texture_copies;
    graph.record_iteration(&mut recorder, 1);
    recorder.texture_copies - first
}

/// The table `--profile` prints: each launch in iteration order with its share of the sum,
/// then the sum against a whole iteration timed the same way, whose texture copies (`copies`
/// of them) the launch rows leave out.
pub fn report(rows: &[LaunchTime], k: usize, iteration_seconds: f64, copies: usize) -> String {
    let per_iteration = |row: &LaunchTime| match row.step {
        Step::D => row.seconds * k as f64,
        Step::G => row.seconds,
    };
    let total: f64 = rows.iter().map(per_iteration).sum();
    let mut text = String::from("step  µs/launch  % of sum  workgroups  launch\n");
    for row in rows {
        text += &format!(
            "{:>4}  {:>9.1}  {:>8.1}  {:>10}  {}\n",
            format!("{:?}", row.step),
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
        "sum of launches: {:.2} ms an iteration (k = {k}); a whole iteration timed the same way: {:.2} ms, \
         with its {copies} tensor-to-texture copies (the launch rows leave them out)",
        total * 1e3,
        iteration_seconds * 1e3
    );
    text
}
