//! The training loop: many iterations per submission, metrics read back asynchronously one
//! chunk behind, samples, metrics.csv, loss curves and checkpoints at their intervals.

use std::path::{Path, PathBuf};
use std::time::Instant;

use super::checkpoint::{self, Checkpoint};
use super::config::{DataSource, TrainConfig};
use super::graph::{TrainGraph, slot};
use super::real_data::{HostData, RealData};
use super::samples::SampleWriter;
use crate::error::{Error, Result};
use crate::gpu::{GpuContext, PendingRead, Recorder};
use crate::report::curves::{Series, write_loss_curves};
use crate::report::run_dir::{MetricsCsv, MetricsRow, RunDir, write_atomic};

pub struct TrainOutcome {
    pub run_dir: PathBuf,
    pub final_step: u64,
    pub rows: Vec<MetricsRow>,
    /// Iterations per second over the whole run (setup excluded).
    pub it_per_s: f64,
}

/// What the loop reports as it goes (a progress bar in the CLI, nothing in tests).
pub trait Progress {
    fn start(&mut self, first_step: u64, total: u64);
    fn update(&mut self, row: &MetricsRow);
    fn message(&mut self, text: &str);
    fn finish(&mut self);
}

pub struct Silent;

impl Progress for Silent {
    fn start(&mut self, _: u64, _: u64) {}
    fn update(&mut self, _: &MetricsRow) {}
    fn message(&mut self, _: &str) {}
    fn finish(&mut self) {}
}

/// A chunk of iterations whose metric sums are on their way back.
struct InFlight {
    read: PendingRead<f32>,
    iterations: u64,
    end_step: u64,
}

/// Train `config` into `run_dir`, from scratch or from `resume`.
pub fn train(
    ctx: &GpuContext,
    config: &TrainConfig,
    run_dir: &Path,
    resume: Option<&Checkpoint>,
    progress: &mut dyn Progress,
) -> Result<TrainOutcome> {
    config.validate()?;
    let host = HostData::load(&config.data)?;
    let examples = host.count;
    let real = RealData::upload(ctx, host.hold_out(config.holdout)?, config.batch_size)?;
    let graph = TrainGraph::new(ctx, config, real)?;
    let mut step = 0;
    if let Some(checkpoint) = resume {
        checkpoint.restore(ctx, &graph)?;
        step = checkpoint.step;
    }
    let run = RunDir::create(run_dir)?;
    write_atomic(run.root().join("config.json"), config.to_json().as_bytes())?;
    if let (DataSource::Folder(data), true) = (&config.data, config.holdout > 0) {
        // The contract with `gan-gpu eval`: training examples [first_index, first_index + count).
        let holdout = serde_json::json!({
            "data": data,
            "first_index": examples - config.holdout,
            "count": config.holdout,
        });
        let text = serde_json::to_string_pretty(&holdout).expect("JSON values serialise");
        write_atomic(run.root().join("holdout.json"), text.as_bytes())?;
    }
    let mut csv = if resume.is_some() {
        MetricsCsv::open_for_resume(run.metrics_path(), &[], step)?
    } else {
        MetricsCsv::open(run.metrics_path(), &[])?
    };
    let samples = SampleWriter::new(ctx, &graph, config.seed)?;
    if resume.is_none() {
        samples.write(ctx, &run.samples_dir(), 0)?;
    }

    progress.start(step, config.steps);
    let mut rows = Vec::new();
    let mut in_flight: Option<InFlight> = None;
    let started = Instant::now();
    let first_step = step;
    let mut last_done = Instant::now();
    let next_multiple = |step: u64, every: u64| (step / every + 1) * every;

    // Turn a chunk's metric sums into a row (means per step), check for divergence, log it.
    let mut finish = |flight: InFlight,
                      last_done: &mut Instant,
                      rows: &mut Vec<MetricsRow>,
                      progress: &mut dyn Progress|
     -> Result<()> {
        let sums = flight.read.wait(ctx)?;
        let now = Instant::now();
        let seconds = now.duration_since(*last_done).as_secs_f64();
        *last_done = now;
        let d_steps = (flight.iterations * config.k as u64) as f64;
        let g_steps = flight.iterations as f64;
        let row = MetricsRow {
            step: flight.end_step,
            d_loss: sums[slot::D_LOSS as usize] as f64 / d_steps,
            g_loss: sums[slot::G_LOSS as usize] as f64 / g_steps,
            d_real: sums[slot::D_REAL as usize] as f64 / d_steps,
            d_fake: sums[slot::D_FAKE as usize] as f64 / d_steps,
            it_per_s: flight.iterations as f64 / seconds.max(1e-9),
        };
        if !(row.d_loss.is_finite() && row.g_loss.is_finite()) {
            return Err(Error::Input(format!(
                "training diverged by step {}: D loss {}, G loss {}; try a smaller learning rate (--lr-d, --lr-g)",
                row.step, row.d_loss, row.g_loss
            )));
        }
        csv.append(&row, &[])?;
        progress.update(&row);
        rows.push(row);
        Ok(())
    };

    while step < config.steps {
        let end = config
            .steps
            .min(next_multiple(step, config.log_every))
            .min(next_multiple(step, config.sample_every))
            .min(next_multiple(step, config.checkpoint_every));
        let mut recorder = Recorder::new(ctx);
        for _ in step..end {
            graph.record_iteration(&mut recorder);
        }
        let staging = recorder.read_later(&graph.metrics);
        recorder.clear(&graph.metrics);
        let submission = recorder.submit()?;
        let read = ctx.begin_map::<f32>(staging, slot::COUNT, Some(submission));
        // The previous chunk's metrics are read while this one runs.
        if let Some(previous) = in_flight.take() {
            finish(previous, &mut last_done, &mut rows, progress)?;
        }
        in_flight = Some(InFlight {
            read,
            iterations: end - step,
            end_step: end,
        });
        step = end;

        let sample_now = step % config.sample_every == 0 || step == config.steps;
        let checkpoint_now = step % config.checkpoint_every == 0 || step == config.steps;
        if (sample_now || checkpoint_now)
            && let Some(flight) = in_flight.take()
        {
            finish(flight, &mut last_done, &mut rows, progress)?;
        }
        if sample_now {
            samples.write(ctx, &run.samples_dir(), step)?;
            write_curves(&run, &rows)?;
        }
        if checkpoint_now {
            let path = run
                .checkpoints_dir()
                .join(format!("step_{step:06}.safetensors"));
            checkpoint::save(ctx, &graph, step, &path)?;
            checkpoint::save_generator(
                ctx,
                &graph.generator,
                config,
                &run.root().join("generator.safetensors"),
            )?;
            progress.message(&format!("checkpoint {}", path.display()));
        }
    }
    if let Some(flight) = in_flight.take() {
        finish(flight, &mut last_done, &mut rows, progress)?;
    }
    progress.finish();
    let seconds = started.elapsed().as_secs_f64();
    Ok(TrainOutcome {
        run_dir: run.root().to_path_buf(),
        final_step: step,
        rows,
        it_per_s: (step - first_step) as f64 / seconds.max(1e-9),
    })
}

fn write_curves(run: &RunDir, rows: &[MetricsRow]) -> Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let points = |f: fn(&MetricsRow) -> f64| -> Vec<(f64, f64)> {
        rows.iter().map(|r| (r.step as f64, f(r))).collect()
    };
    let d_loss = points(|r| r.d_loss);
    let g_loss = points(|r| r.g_loss);
    let d_real = points(|r| r.d_real);
    let d_fake = points(|r| r.d_fake);
    let series: Vec<Series<'_>> = vec![
        ("D loss", d_loss.as_slice()),
        ("G loss", g_loss.as_slice()),
        ("D(x)", d_real.as_slice()),
        ("D(G(z))", d_fake.as_slice()),
    ];
    write_loss_curves(run.root().join("loss_curves.png"), &series)
}
