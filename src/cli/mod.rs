//! The command line: `gan-gpu info | bench | ...`, parsed by clap.

mod bench;
mod classifier;
mod download;
mod eval;
mod examples;
mod export;
mod generator_source;
mod info;
mod interpolate;
mod sample;
mod train;

use clap::{Parser, Subcommand};

use crate::error::Result;
use crate::gpu::{AdapterChoice, GpuContext};

#[derive(Parser, Debug)]
#[command(
    name = "gan-gpu",
    version,
    about = "Train GANs on any GPU with hand-written WGSL kernels",
    after_help = examples::MAIN
)]
pub struct Cli {
    /// GPU adapter to use: an index from `gan-gpu info` or part of its name
    /// (default: the best hardware adapter).
    #[arg(long, global = true, env = "GAN_GPU_ADAPTER")]
    pub adapter: Option<String>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Train a GAN (Algorithm 1 of Goodfellow et al. 2014) on image data or a toy set.
    #[command(allow_negative_numbers = true, after_help = examples::TRAIN)]
    Train(Box<train::TrainArgs>),
    /// Draw samples from a trained generator.
    #[command(allow_negative_numbers = true, after_help = examples::SAMPLE)]
    Sample(sample::SampleArgs),
    /// Walk the noise space: rows of samples along straight (or --slerp spherical) paths
    /// between random pairs of z, the paper's Figure 3.
    #[command(allow_negative_numbers = true, after_help = examples::INTERPOLATE)]
    Interpolate(interpolate::InterpolateArgs),
    /// List the GPU adapters, which one is chosen and why, and the limits that matter.
    #[command(after_help = examples::INFO)]
    Info,
    /// Measure kernel and training speed on the chosen adapter.
    #[command(allow_negative_numbers = true, after_help = examples::BENCH)]
    Bench(bench::BenchArgs),
    /// Score a trained generator: Parzen log-likelihood, FID / Inception Score / class
    /// histogram with the gan-gpu classifier, or mode coverage on toy sets.
    #[command(allow_negative_numbers = true, after_help = examples::EVAL)]
    Eval(eval::EvalArgs),
    /// The evaluation classifier: `gan-gpu classifier train DATA`.
    #[command(after_help = examples::CLASSIFIER)]
    Classifier(classifier::ClassifierArgs),
    /// Export a trained generator for other tools: an ONNX model.
    #[command(after_help = examples::EXPORT)]
    Export(export::ExportArgs),
    /// Download MNIST or Fashion-MNIST (IDX files, checksums verified).
    #[command(after_help = examples::DOWNLOAD)]
    Download(download::DownloadArgs),
}

impl Cli {
    pub fn adapter_choice(&self) -> AdapterChoice {
        AdapterChoice::from_flag_or_env(self.adapter.as_deref())
    }

    /// Open the chosen adapter with the matmul choices `bench --tune` saved for it, if any.
    pub fn open_gpu(&self) -> Result<GpuContext> {
        let mut ctx = GpuContext::new(&self.adapter_choice())?;
        let tuned = crate::kernels::tuning_cache::load_or_warn(&ctx);
        ctx.set_tuned_matmul(tuned);
        Ok(ctx)
    }
}

/// Run the parsed command; errors come back for `main` to print. The exit status is 0, or
/// for an interrupted `train` 130 (SIGINT), 143 (SIGTERM) or 141 (closed output pipe).
pub fn run(cli: Cli) -> Result<std::process::ExitCode> {
    let done = match &cli.command {
        Command::Train(args) => return train::run(&cli, args),
        Command::Sample(args) => sample::run(&cli, args),
        Command::Interpolate(args) => interpolate::run(&cli, args),
        Command::Info => info::run(&cli),
        Command::Bench(args) => bench::run(&cli, args),
        Command::Eval(args) => eval::run(&cli, args),
        Command::Classifier(args) => classifier::run(&cli, args),
        Command::Export(args) => export::run(&cli, args),
        Command::Download(args) => download::run(&cli, args),
    };
    done.map(|()| std::process::ExitCode::SUCCESS)
}

/// A whole-number flag value (`value_parser`), refusing negative numbers with the valid range
/// (clap's own parser only says "invalid digit").
pub fn whole_number<T>(text: &str) -> std::result::Result<T, String>
where
    T: std::str::FromStr + num_bounds::Max,
{
    text.trim().parse::<T>().map_err(|_| {
        format!(
            "expected a whole number from 0 to {}, found {text}",
            T::MAX_TEXT
        )
    })
}

pub mod num_bounds {
    /// The largest value of an unsigned flag type, for error messages.
    pub trait Max {
        const MAX_TEXT: &'static str;
    }
    impl Max for u64 {
        const MAX_TEXT: &'static str = "18446744073709551615";
    }
    impl Max for usize {
        #[cfg(target_pointer_width = "64")]
        const MAX_TEXT: &'static str = "18446744073709551615";
        #[cfg(not(target_pointer_width = "64"))]
        const MAX_TEXT: &'static str = "4294967295";
    }
}
