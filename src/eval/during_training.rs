//! `train --eval-every N`: the evaluator of `gan-gpu eval`, loaded once before training and run
//! on the live generator every N iterations; its scores become metrics.csv columns and the
//! latest report is kept as the run's eval.json.

use std::path::{Path, PathBuf};

use super::{EvalOptions, Evaluator};
use crate::error::Result;
use crate::gan::{EvalSchedule, Evaluation, TrainConfig};
use crate::gpu::GpuContext;
use crate::nn::Network;
use crate::report::metric_column::MetricColumn;
use crate::report::run_dir::write_atomic;

/// The evaluation options `train --eval-*` chose.
pub fn options_for(schedule: &EvalSchedule) -> EvalOptions {
    EvalOptions {
        classifier: schedule.classifier.as_ref().map(PathBuf::from),
        skip_classifier: !schedule.use_classifier,
        samples: schedule.samples,
        parzen_test: schedule.parzen_test,
        parzen_validation: schedule.parzen_validation,
        // The memorisation check is `gan-gpu eval`'s (not a metrics.csv column).
        nearest: 0,
        pr_samples: schedule.pr_samples,
        pr_k: schedule.pr_k,
        flag_prefix: "--eval-",
        ..EvalOptions::default()
    }
}

pub struct TrainingEvaluation {
    evaluator: Evaluator,
    run_dir: PathBuf,
}

impl TrainingEvaluation {
    /// Load the test and held-out images and the classifier for `config`'s evaluations, so
    /// that a missing classifier stops the run before it trains rather than at its first
    /// evaluation. `log` hears progress and the evaluator's warnings.
    pub fn new(
        ctx: &GpuContext,
        config: &TrainConfig,
        run_dir: &Path,
        log: &mut dyn FnMut(&str),
    ) -> Result<TrainingEvaluation> {
        let options = options_for(&config.eval);
        let evaluator = Evaluator::new(ctx, config, config.holdout, &options, log)?;
        for warning in evaluator.warnings() {
            log(&format!("warning: {warning}"));
        }
        Ok(TrainingEvaluation {
            evaluator,
            run_dir: run_dir.to_path_buf(),
        })
    }
}

impl Evaluation for TrainingEvaluation {
    fn columns(&self) -> Vec<MetricColumn> {
        self.evaluator.columns()
    }

    fn evaluate(&mut self, ctx: &GpuContext, generator: &Network, step: u64) -> Result<Vec<f64>> {
        let mut report = self.evaluator.evaluate(ctx, generator, &mut |_| {})?;
        report.generator = format!("{} (during training)", self.run_dir.display());
        report.step = Some(step);
        write_atomic(self.run_dir.join("eval.json"), report.to_json().as_bytes())?;
        let metrics = report.metrics();
        Ok(self
            .columns()
            .iter()
            .map(|column| {
                metrics
                    .iter()
                    .find(|(name, _)| name == column)
                    .map_or(f64::NAN, |&(_, value)| value)
            })
            .collect())
    }
}
