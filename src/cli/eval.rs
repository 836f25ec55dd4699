//! `gan-gpu eval RUN_DIR|CHECKPOINT`: score a trained generator (Parzen-window log-likelihood,
//! FID / Inception Score / class histogram / precision, recall, density and coverage with the
//! gan-gpu classifier, or mode coverage on toy sets), print a table and write eval.json into the
//! run folder.

use std::path::PathBuf;

use clap::Args;

use super::Cli;
use super::generator_source::GeneratorSource;
use crate::error::{Error, Result};
use crate::eval::{EvalOptions, Evaluator, holdout_of, run_folder};
use crate::gan::checkpoint::GeneratorFile;
use crate::report::run_dir::write_atomic;

#[derive(Args, Debug)]
pub struct EvalArgs {
    #[command(flatten)]
    pub generator: GeneratorSource,
    /// The MNIST-format data folder (train and t10k files), instead of the run's own.
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// The classifier [default: runs/classifier-<data folder name>/classifier.safetensors].
    #[arg(long)]
    pub classifier: Option<PathBuf>,
    /// Skip FID, Inception Score, the class histogram and precision/recall/density/coverage.
    #[arg(long)]
    pub no_classifier: bool,
    /// Generator samples (the Parzen window's centres and the classifier scores' sample).
    #[arg(long, default_value_t = crate::eval::DEFAULT_SAMPLES, value_parser = super::whole_number::<usize>)]
    pub samples: usize,
    /// Test images the Parzen estimate averages over (0: skip the Parzen estimate).
    #[arg(long, default_value_t = crate::eval::DEFAULT_PARZEN_TEST, value_parser = super::whole_number::<usize>)]
    pub parzen_test: usize,
    /// Held-out training images that choose the Parzen σ.
    #[arg(long, default_value_t = crate::eval::DEFAULT_PARZEN_VALIDATION, value_parser = super::whole_number::<usize>)]
    pub parzen_validation: usize,
    /// Also score real training images (as many as --samples, none held out) with the same
    /// Parzen estimate: the data's own log-likelihood at this size, to read the generator's
    /// against (doubles the Parzen time).
    #[arg(long)]
    pub parzen_real: bool,
    /// Generator samples for the toy sets' mode statistics.
    #[arg(long, default_value_t = 2_500, value_parser = super::whole_number::<usize>)]
    pub toy_samples: usize,
    /// Seed of the generator's noise.
    #[arg(long, default_value_t = 0, value_parser = super::whole_number::<u64>)]
    pub seed: u64,
    /// Generator samples and test images whose nearest training image is found: their mean
    /// distances side by side (a generator that copies training images is nearer to them than
    /// the test set is; the paper's Figure 2 check). 0: skip.
    #[arg(long, value_name = "N", default_value_t = crate::eval::DEFAULT_NEAREST, value_parser = super::whole_number::<usize>)]
    pub nearest: usize,
    /// Precision and recall (Kynkäänniemi et al. 2019), density and coverage (Naeem et al.
    /// 2020) in the classifier's feature space: this many generated samples against as many
    /// test images (the test set FID uses; at most --samples and half the test set, whose next
    /// images give the real floor). 0: skip.
    #[arg(long, value_name = "N", default_value_t = crate::eval::manifold::DEFAULT_SAMPLES, value_parser = super::whole_number::<usize>)]
    pub pr_samples: usize,
    /// k of their k-NN balls (each point's ball reaches its k-th nearest neighbour), 1 to 8.
    #[arg(long, value_name = "K", default_value_t = crate::eval::manifold::DEFAULT_K, value_parser = super::whole_number::<usize>)]
    pub pr_k: usize,
}

pub fn run(cli: &Cli, args: &EvalArgs) -> Result<()> {
    if args.samples == 0 || args.toy_samples == 0 {
        return Err(Error::Input(
            "--samples / --toy-samples: must be at least 1".into(),
        ));
    }
    if !args.no_classifier {
        crate::eval::manifold::check_flags("--", args.pr_samples, args.pr_k, args.samples)?;
    }
    let file = args.generator.load()?;
    let GeneratorFile {
        path,
        config,
        metadata,
        ..
    } = &file;
    let run = run_folder(path);
    // The held-out count: the run's config.json, else the config stored in the file itself.
    let config_json: serde_json::Value = std::fs::read_to_string(run.join("config.json"))
        .ok()
        .or_else(|| metadata.get("config").cloned())
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or(serde_json::Value::Null);
    let holdout = holdout_of(&config_json);
    let options = EvalOptions {
        data: args.data.clone(),
        classifier: args.classifier.clone(),
        skip_classifier: args.no_classifier,
        samples: args.samples,
        parzen_test: args.parzen_test,
        parzen_validation: args.parzen_validation,
        parzen_real: args.parzen_real,
        toy_samples: args.toy_samples,
        seed: args.seed,
        nearest: args.nearest,
        pr_samples: args.pr_samples,
        pr_k: args.pr_k,
        ..EvalOptions::default()
    };
    let ctx = cli.open_gpu()?;
    crate::limits::check_eval_sizes(
        "--",
        &[
            ("samples", args.samples),
            ("parzen-test", args.parzen_test),
            ("parzen-validation", args.parzen_validation),
            ("toy-samples", args.toy_samples),
        ],
        config.generator.outputs(),
        &crate::limits::MemoryLimits::of_device(&ctx.limits),
    )?;
    let started = std::time::Instant::now();
    let mut log = |text: &str| crate::errln!("[{:>6.1} s] {text}", started.elapsed().as_secs_f64());
    let evaluator = Evaluator::new(&ctx, config, holdout, &options, &mut log)?;
    let generator = file.network(&ctx)?;
    let mut report = evaluator.evaluate(&ctx, &generator, &mut log)?;
    report.generator = path.display().to_string();
    report.step = metadata.get("step").and_then(|s| s.parse().ok());
    report.seconds = started.elapsed().as_secs_f64();
    crate::out!("{}", report.table());
    let out = run.join("eval.json");
    write_atomic(&out, report.to_json().as_bytes())?;
    crate::errln!("wrote {}", out.display());
    Ok(())
}
