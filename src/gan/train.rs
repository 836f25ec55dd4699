//! The training loop: many iterations per submission, metrics read back asynchronously one
//! chunk behind, samples, metrics.csv, loss curves and checkpoints at their intervals.

use std::path::{Path, PathBuf};
use std::time::Instant;

use super::checkpoint::{self, Checkpoint};
use super::collapse::{self, CollapseMonitor};
use super::config::{DataSource, GanLoss, TrainConfig};
use super::graph::slot;
use super::real_data::HostData;
use super::samples::{SampleStats, SampleWriter, sample_path};
use super::setup;
use crate::data::Toy;
use crate::error::{Error, Result};
use crate::gpu::{GpuContext, PendingRead, Recorder};
use crate::nn::Network;
use crate::report::curves::{LossPanel, Panel, write_panels};
use crate::report::metric_column::{self, MetricColumn};
use crate::report::progress_gif::{PROGRESS_GIF, ProgressAnimation};
use crate::report::run_dir::{MetricsCsv, MetricsRow, RunDir, write_atomic};
use crate::report::tensorboard::{SAMPLES_TAG, TensorBoardLog};

pub struct TrainOutcome {
    pub run_dir: PathBuf,
    pub final_step: u64,
    pub rows: Vec<MetricsRow>,
    /// The loss's and data's extra metrics.csv columns (see [`extra_columns`]) and their values,
    /// one Vec per row.
    pub extra_columns: Vec<MetricColumn>,
    pub extras: Vec<Vec<f64>>,
    /// Iterations per second over the whole run (setup and evaluations excluded).
    pub it_per_s: f64,
    /// The loop stopped early because [`Progress::should_stop`] said so: `final_step` is below
    /// `config.steps`, and a checkpoint at `final_step` was written.
    pub interrupted: bool,
}

/// What the loop reports as it goes (a progress bar in the CLI, nothing in tests).
pub trait Progress {
    fn start(&mut self, first_step: u64, total: u64);
    fn update(&mut self, row: &MetricsRow);
    /// The row's extra columns, given just before `update` when the run has any.
    fn extras(&mut self, _columns: &[MetricColumn], _values: &[f64]) {}
    fn message(&mut self, text: &str);
    /// A line about the run's setup (its GPU memory, its first iteration's time), printed
    /// even where `message`s are not.
    fn note(&mut self, _text: &str) {}
    fn finish(&mut self);
    /// Asked after every submission: true stops the run there (a signal, a closed output),
    /// after its metrics, curves and a checkpoint at that step are written.
    fn should_stop(&mut self) -> bool {
        false
    }
}

pub struct Silent;

impl Progress for Silent {
    fn start(&mut self, _: u64, _: u64) {}
    fn update(&mut self, _: &MetricsRow) {}
    fn message(&mut self, _: &str) {}
    fn finish(&mut self) {}
}

/// Scores of the generator computed during training (`train --eval-every`), logged as extra
/// metrics.csv columns at the evaluation steps (NaN in the rows between).
pub trait Evaluation {
    /// The metrics.csv columns `evaluate` fills, in order.
    fn columns(&self) -> Vec<MetricColumn>;
    /// Score the generator as it is after `step` iterations: one value per column.
    fn evaluate(&mut self, ctx: &GpuContext, generator: &Network, step: u64) -> Result<Vec<f64>>;
}

/// metrics.csv columns beyond the base ones: the Wasserstein estimate mean D(x) − mean D(G(z))
/// for wgan and wgan-gp, the penalty and the mean slope it penalises (‖∇ₓD(x̂)‖, or for
/// lipschitz-fd the difference quotient) for wgan-gp, R1 and the mean ‖∇ₓD(x)‖ it penalises for
/// nsgan and minimax with `--r1-gamma`, and for 2-D toy sets the modes captured and
/// the fraction of high-quality samples among 2,500 (written at sample steps, NaN between).
pub fn extra_columns(config: &TrainConfig) -> Vec<MetricColumn> {
    let mut columns = Vec::new();
    match config.loss {
        GanLoss::WganGp => columns.extend([
            MetricColumn::Wasserstein,
            MetricColumn::Penalty,
            MetricColumn::GradNorm,
        ]),
        GanLoss::Wgan => columns.push(MetricColumn::Wasserstein),
        GanLoss::Nsgan | GanLoss::Minimax => {
            if config.r1_gamma().is_some() {
                columns.extend([MetricColumn::R1Penalty, MetricColumn::GradNorm])
            }
        }
    }
    if let DataSource::Toy(name) = &config.data {
        match Toy::parse(name) {
            Ok(Toy::Line(_)) if !config.loss.is_wasserstein() => {
                columns.push(MetricColumn::DStarGap)
            }
            Ok(Toy::Line(_)) => {}
            _ => columns.extend([MetricColumn::Modes, MetricColumn::HighQuality]),
        }
    }
    // The 1-D toys' Figure 1 shows G's density itself; the others measure its spread.
    let line_toy = matches!(&config.data, DataSource::Toy(name) if matches!(Toy::parse(name), Ok(Toy::Line(_))));
    if !line_toy {
        columns.push(MetricColumn::Diversity);
    }
    columns.push(MetricColumn::CollapseWarning);
    columns
}

/// The values of `extra_columns` for one row, from the chunk's metric sums.
fn extra_values(
    columns: &[MetricColumn],
    row: &MetricsRow,
    sums: &[f32],
    (d_steps, penalty_steps): (f64, f64),
    (stats, warning): (Option<&SampleStats>, bool),
) -> Vec<f64> {
    let modes = stats.and_then(|s| s.modes.as_ref());
    columns
        .iter()
        .map(|&column| match column {
            // The per-step means of D(x) and D(G(z)) are already in the row.
            MetricColumn::Wasserstein => row.d_real - row.d_fake,
            // Under lazy R1 the penalty is weighted up on the steps that run it: per D step it
            // averages out; the slope is measured on those steps only.
            MetricColumn::Penalty | MetricColumn::R1Penalty => {
                sums[slot::PENALTY as usize] as f64 / d_steps
            }
            MetricColumn::GradNorm => {
                sums[slot::GRAD_NORM as usize] as f64 / penalty_steps.max(1.0)
            }
            MetricColumn::Modes => modes.map_or(f64::NAN, |m| m.modes_captured as f64),
            MetricColumn::HighQuality => modes.map_or(f64::NAN, |m| m.high_quality_fraction as f64),
            MetricColumn::DStarGap => stats.and_then(|s| s.d_star_gap).unwrap_or(f64::NAN),
            MetricColumn::Diversity => stats.and_then(|s| s.diversity).unwrap_or(f64::NAN),
            MetricColumn::CollapseWarning => warning as u8 as f64,
            other => unreachable!("the evaluation fills metrics column {}", other.name()),
        })
        .collect()
}

/// A chunk of iterations whose metric sums are on their way back.
struct InFlight {
    read: PendingRead<f32>,
    iterations: u64,
    /// D steps among them that ran the gradient penalty (fewer under lazy R1).
    penalty_steps: u64,
    end_step: u64,
}

/// Train `config` into `run_dir`, from scratch or from `resume` (a config with `eval.every` > 0
/// needs [`train_with_evaluation`]).
pub fn train(
    ctx: &GpuContext,
    config: &TrainConfig,
    run_dir: &Path,
    resume: Option<&Checkpoint>,
    progress: &mut dyn Progress,
) -> Result<TrainOutcome> {
    train_with_evaluation(ctx, config, None, run_dir, resume, progress, None)
}

/// [`train`], scoring the generator with `evaluation` every `config.eval.every` iterations and
/// at the last one. `data` is `config.data` as the caller already loaded it (all examples,
/// before the held-out tail is dropped), so it is not read twice; None: read it here.
pub fn train_with_evaluation(
    ctx: &GpuContext,
    config: &TrainConfig,
    data: Option<HostData>,
    run_dir: &Path,
    resume: Option<&Checkpoint>,
    progress: &mut dyn Progress,
    evaluation: Option<&mut dyn Evaluation>,
) -> Result<TrainOutcome> {
    let outputs = RunOutputs::default();
    train_with_outputs(
        ctx, config, data, run_dir, resume, progress, evaluation, &outputs,
    )
}

/// [`train_with_evaluation`] with the optional run-folder outputs chosen by `outputs`.
#[allow(clippy::too_many_arguments)]
pub fn train_with_outputs(
    ctx: &GpuContext,
    config: &TrainConfig,
    data: Option<HostData>,
    run_dir: &Path,
    resume: Option<&Checkpoint>,
    progress: &mut dyn Progress,
    evaluation: Option<&mut dyn Evaluation>,
    outputs: &RunOutputs,
) -> Result<TrainOutcome> {
    config.validate()?;
    crate::limits::check_training(config, &crate::limits::MemoryLimits::of_device(&ctx.limits))?;
    let eval_every = config.eval.every;
    let mut evaluation = match (eval_every, evaluation) {
        (0, _) => None,
        (_, Some(evaluation)) => Some(evaluation),
        (every, None) => {
            return Err(Error::Input(format!(
                "--eval-every {every}: this caller gave the training loop no evaluator"
            )));
        }
    };
    let host = HostData::given_or_load(data, &config.data)?;
    let examples = host.count;
    let data_spread = collapse::data_spread(&host, config.pixel_range, config.seed);
    let measured = setup::build(ctx, config, host.hold_out(config.holdout)?)?;
    progress.note(&measured.memory.to_string());
    let graph = &measured.graph;
    let mut step = 0;
    if let Some(checkpoint) = resume {
        checkpoint.restore(ctx, graph)?;
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
    let mut columns = extra_columns(config);
    // The loss's and data's own columns come first; the evaluation's follow.
    let own_columns = columns.len();
    if let Some(evaluation) = &evaluation {
        columns.extend(evaluation.columns());
    }
    let mut csv = if resume.is_some() {
        MetricsCsv::open_for_resume(run.metrics_path(), &metric_column::names(&columns), step)?
    } else {
        MetricsCsv::open(run.metrics_path(), &metric_column::names(&columns))?
    };
    let mut tensorboard = match outputs.tensorboard {
        true => {
            let mut log = TensorBoardLog::create(run.root(), resume.map(|_| step))?;
            log.config(step, &config.to_json())?;
            Some(log)
        }
        false => None,
    };
    let samples = SampleWriter::new(ctx, graph, config.seed, data_spread)?;
    let mut monitor = CollapseMonitor::new(!config.loss.is_wasserstein());
    let mut animation = ProgressAnimation::resume(&run.samples_dir(), step)?;
    if resume.is_none() {
        samples.write(ctx, &run.samples_dir(), 0)?;
        sample_outputs(&run, 0, tensorboard.as_mut(), &mut animation)?;
    }

    progress.start(step, config.steps);
    let mut rows = Vec::new();
    let mut extras = Vec::new();
    let mut in_flight: Option<InFlight> = None;
    let started = Instant::now();
    let first_step = step;
    let mut last_done = Instant::now();
    let mut evaluation_time = std::time::Duration::ZERO;
    let next_multiple = |step: u64, every: u64| (step / every + 1) * every;
    let mut interrupted = false;
    let mut first_iteration_pending = true;

    // Turn a chunk's metric sums into a row (means per step), check for divergence, log it.
    let mut finish = |flight: InFlight,
                      (modes, scores): (Option<&SampleStats>, Option<&[f64]>),
                      last_done: &mut Instant,
                      (rows, extras): (&mut Vec<MetricsRow>, &mut Vec<Vec<f64>>),
                      progress: &mut dyn Progress,
                      tensorboard: &mut Option<TensorBoardLog>|
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
        let sign = monitor.observe(&row, modes.and_then(|s| s.diversity));
        if let Some(warning) = sign.as_ref().and_then(|s| monitor.warn_once(s, row.step)) {
            progress.message(&warning);
        }
        let mut values = extra_values(
            &columns[..own_columns],
            &row,
            &sums,
            (d_steps, flight.penalty_steps as f64),
            (modes, sign.is_some()),
        );
        match scores {
            Some(scores) => values.extend_from_slice(scores),
            None => values.resize(columns.len(), f64::NAN),
        }
        csv.append(&row, &values)?;
        if let Some(log) = tensorboard.as_mut() {
            log.log_row(&row, &columns, &values)?;
        }
        if !columns.is_empty() {
            progress.extras(&columns, &values);
        }
        progress.update(&row);
        rows.push(row);
        extras.push(values);
        Ok(())
    };

    while step < config.steps {
        let end = config
            .steps
            .min(next_multiple(step, config.log_every))
            .min(next_multiple(step, config.sample_every))
            .min(next_multiple(step, config.checkpoint_every))
            .min(match eval_every {
                0 => u64::MAX,
                every => next_multiple(step, every),
            });
        let mut first = step;
        if first_iteration_pending {
            // The first iteration alone, waited for, so its time can be reported; the metrics
            // it adds stay in the tensor until this chunk's read.
            first_iteration_pending = false;
            progress.note(&measured.first_iteration(ctx, step)?.to_string());
            first += 1;
        }
        let mut recorder = Recorder::new(ctx);
        for iteration in first..end {
            graph.record_iteration(&mut recorder, iteration);
        }
        let staging = recorder.read_later(&graph.metrics);
        recorder.clear(&graph.metrics);
        let submission = recorder.submit()?;
        let read = ctx.begin_map::<f32>(staging, slot::COUNT, Some(submission));
        // The previous chunk's metrics are read while this one runs.
        if let Some(previous) = in_flight.take() {
            finish(
                previous,
                (None, None),
                &mut last_done,
                (&mut rows, &mut extras),
                progress,
                &mut tensorboard,
            )?;
        }
        in_flight = Some(InFlight {
            read,
            iterations: end - step,
            penalty_steps: config.penalty_steps(step..end),
            end_step: end,
        });
        step = end;

        // A stop request ends the run here, saved as at a checkpoint step.
        let stop_now = step < config.steps && progress.should_stop();
        interrupted |= stop_now;
        let sample_now = step % config.sample_every == 0 || step == config.steps;
        let checkpoint_now =
            step % config.checkpoint_every == 0 || step == config.steps || stop_now;
        let eval_now = eval_every > 0 && (step % eval_every == 0 || step == config.steps);
        // Samples first: a toy set's mode coverage goes into this chunk's row.
        let modes = if sample_now {
            graph.sampler(ctx)?;
            let stats = samples.write(ctx, &run.samples_dir(), step)?;
            sample_outputs(&run, step, tensorboard.as_mut(), &mut animation)?;
            Some(stats)
        } else {
            None
        };
        let scores = match (&mut evaluation, eval_now) {
            (Some(evaluation), true) => {
                progress.message(&format!("evaluating the generator at step {step}"));
                // it/s counts training only: the chunk finishes first, and the evaluation's
                // time is taken out of the chunk's and the run's.
                ctx.wait_idle()?;
                let started = Instant::now();
                let scores = evaluation.evaluate(ctx, graph.sampler(ctx)?, step)?;
                let spent = started.elapsed();
                last_done += spent;
                evaluation_time += spent;
                Some(scores)
            }
            _ => None,
        };
        if (sample_now || checkpoint_now || eval_now)
            && let Some(flight) = in_flight.take()
        {
            finish(
                flight,
                (modes.as_ref(), scores.as_deref()),
                &mut last_done,
                (&mut rows, &mut extras),
                progress,
                &mut tensorboard,
            )?;
        }
        if sample_now || eval_now || stop_now {
            write_curves(&run, &rows, &columns, &extras)?;
        }
        if checkpoint_now {
            let path = run
                .checkpoints_dir()
                .join(checkpoint::checkpoint_name(step));
            checkpoint::save(ctx, graph, step, &path)?;
            checkpoint::save_generator(
                ctx,
                graph.sampler(ctx)?,
                config,
                graph.batch_norm_passes(step).0,
                &run.root().join("generator.safetensors"),
            )?;
            progress.message(&format!("checkpoint {}", path.display()));
        }
        if stop_now {
            break;
        }
    }
    if let Some(flight) = in_flight.take() {
        finish(
            flight,
            (None, None),
            &mut last_done,
            (&mut rows, &mut extras),
            progress,
            &mut tensorboard,
        )?;
    }
    progress.finish();
    let seconds = started
        .elapsed()
        .saturating_sub(evaluation_time)
        .as_secs_f64();
    Ok(TrainOutcome {
        run_dir: run.root().to_path_buf(),
        final_step: step,
        rows,
        extra_columns: columns,
        extras,
        it_per_s: (step - first_step) as f64 / seconds.max(1e-9),
        interrupted,
    })
}

/// A series of loss_curves.png: its panel, label and (step, value) points.
type PanelSeries<'a> = (LossPanel, &'a str, Vec<(f64, f64)>);

/// Which optional files a run writes besides metrics, samples and checkpoints.
#[derive(Clone, Debug)]
pub struct RunOutputs {
    /// The TensorBoard event file (`train --no-tensorboard` turns it off).
    pub tensorboard: bool,
}

impl Default for RunOutputs {
    fn default() -> Self {
        RunOutputs { tensorboard: true }
    }
}

/// What follows each new sample grid: its image in the TensorBoard log and a new frame of
/// samples/progress.gif.
fn sample_outputs(
    run: &RunDir,
    step: u64,
    tensorboard: Option<&mut TensorBoardLog>,
    animation: &mut ProgressAnimation,
) -> Result<()> {
    let path = sample_path(&run.samples_dir(), step);
    let png = std::fs::read(&path).map_err(|e| Error::io(&path, e))?;
    if let Some(log) = tensorboard {
        log.image_png(SAMPLES_TAG, step, &png)?;
    }
    animation.add_png(step, &png, &path)?;
    animation.write(&run.samples_dir().join(PROGRESS_GIF))
}

fn write_curves(
    run: &RunDir,
    rows: &[MetricsRow],
    columns: &[MetricColumn],
    extras: &[Vec<f64>],
) -> Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let points = |f: fn(&MetricsRow) -> f64| -> Vec<(f64, f64)> {
        rows.iter().map(|r| (r.step as f64, f(r))).collect()
    };
    // (step, value) of extra column i, NaN where a row has none (the plot skips those).
    let column_points = |i: usize| -> Vec<(f64, f64)> {
        rows.iter()
            .zip(extras)
            .map(|(r, values)| (r.step as f64, values[i]))
            .collect()
    };
    let base = [
        (LossPanel::Losses, "D loss", points(|r| r.d_loss)),
        (LossPanel::Losses, "G loss", points(|r| r.g_loss)),
        (
            LossPanel::DiscriminatorOutputs,
            "D(x)",
            points(|r| r.d_real),
        ),
        (
            LossPanel::DiscriminatorOutputs,
            "D(G(z))",
            points(|r| r.d_fake),
        ),
    ];
    // The extra columns on a loss-like scale join their panel; mode counts stay in the CSV.
    let extra: Vec<PanelSeries<'_>> = columns
        .iter()
        .enumerate()
        .filter_map(|(i, c)| Some((c.loss_panel()?, c.loss_curve_label()?, column_points(i))))
        .collect();
    let panels: Vec<Panel<'_>> = LossPanel::ALL
        .iter()
        .map(|&kind| Panel {
            x_label: "step",
            title: kind.title(),
            y_label: kind.y_label(),
            series: base
                .iter()
                .chain(&extra)
                .filter(|(panel, _, _)| *panel == kind)
                .map(|(_, label, points)| (*label, points.as_slice()))
                .collect(),
        })
        .filter(|panel| !panel.series.is_empty())
        .collect();
    write_panels(run.root().join("loss_curves.png"), &panels)?;

    // Evaluation scores (train --eval-every) have scales of their own: a panel each.
    let scores: Vec<(&str, Vec<(f64, f64)>)> = columns
        .iter()
        .enumerate()
        .filter_map(|(i, c)| Some((c.eval_panel_label()?, column_points(i))))
        .collect();
    if scores.is_empty() {
        return Ok(());
    }
    let panels: Vec<Panel<'_>> = scores
        .iter()
        .map(|(label, points)| Panel {
            x_label: "step",
            title: label,
            y_label: "score",
            series: vec![(*label, points.as_slice())],
        })
        .collect();
    write_panels(run.root().join("eval_curves.png"), &panels)
}
