//! `gan-gpu train [DATA]`: flags → TrainConfig, a progress bar, and the run folder.

use std::path::PathBuf;

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};

use super::Cli;
use crate::error::{Error, Result};
use crate::gan::checkpoint::Checkpoint;
use crate::gan::{
    DataSource, GanLoss, OptimizerConfig, OptimizerKind, Penalty, Progress, TrainConfig,
    WassersteinConfig, train,
};
use crate::kernels::Activation;
use crate::nn::MlpSpec;
use crate::report::run_dir::MetricsRow;

#[derive(Args, Debug)]
pub struct TrainArgs {
    /// A folder of MNIST-format IDX files (train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz])
    /// or of same-sized PNG/JPEG images, or a built-in 2-D toy set: ring8 (default) or grid25.
    pub data: Option<String>,
    /// Run folder (default: runs/<data>-<timestamp>).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Continue the run in this folder from its newest checkpoint (its config.json applies;
    /// --steps may extend it).
    #[arg(long, value_name = "RUN_DIR")]
    pub resume: Option<PathBuf>,
    /// Training iterations, each k D steps and one G step [default: 2000 for toys, 10000 for images].
    #[arg(long)]
    pub steps: Option<u64>,
    /// Train for this many passes over the data instead of --steps (image data only).
    #[arg(long, conflicts_with = "steps")]
    pub epochs: Option<f64>,
    /// Examples per batch (each of real and generated).
    #[arg(long, default_value_t = 64)]
    pub batch_size: usize,
    /// D (critic) steps per G step (Algorithm 1's k) [default: 1; 5 for wgan-gp and wgan].
    #[arg(long)]
    pub k: Option<usize>,
    /// The adversarial loss: nsgan, minimax, wgan-gp (critic with a Lipschitz penalty) or wgan
    /// (critic with weight clipping).
    #[arg(long, value_enum, default_value = "nsgan")]
    pub loss: GanLoss,
    /// wgan-gp's penalty: two-sided (‖∇D(x̂)‖ − 1)², one-sided max(0, ‖∇D(x̂)‖ − 1)², or the
    /// finite-difference forms lipschitz-fd and lipschitz-fd-one-sided [default: two-sided].
    #[arg(long, value_enum)]
    pub penalty: Option<Penalty>,
    /// wgan-gp's penalty weight λ [default: 10].
    #[arg(long)]
    pub lambda: Option<f32>,
    /// wgan's clip value c: critic parameters are clipped to [−c, c] after each step [default: 0.01].
    #[arg(long)]
    pub clip: Option<f32>,
    /// Optimizer for both networks [default: adam; rmsprop for wgan].
    #[arg(long, value_enum)]
    pub optimizer: Option<OptimizerKind>,
    /// Generator learning rate [default: 2e-4 for Adam, 0.1 for SGD, 5e-5 for RMSProp; 1e-3 with Adam on toys;
    /// 1e-4 for wgan-gp].
    #[arg(long)]
    pub lr_g: Option<f32>,
    /// Discriminator learning rate [same defaults as --lr-g].
    #[arg(long)]
    pub lr_d: Option<f32>,
    /// Adam β₁, SGD momentum or RMSProp α [default per optimizer: 0.5, 0.5, 0.99].
    #[arg(long)]
    pub momentum: Option<f32>,
    /// Adam β₂ [default: 0.999; 0.9 for wgan-gp].
    #[arg(long)]
    pub beta2: Option<f32>,
    /// Noise dimensions [default: 100 for images, 2 for toys].
    #[arg(long)]
    pub noise_dim: Option<usize>,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Iterations between metric readbacks (progress bar and metrics.csv rows).
    #[arg(long, default_value_t = 50)]
    pub log_every: u64,
    /// Iterations between sample grids.
    #[arg(long, default_value_t = 500)]
    pub sample_every: u64,
    /// Iterations between checkpoints.
    #[arg(long, default_value_t = 1000)]
    pub checkpoint_every: u64,
    /// No progress bar (a line per log instead).
    #[arg(long)]
    pub quiet: bool,
}

const TOY_SETS: [&str; 2] = ["ring8", "grid25"];

fn build_config(args: &TrainArgs) -> Result<TrainConfig> {
    let data_name = args.data.clone().unwrap_or_else(|| "ring8".into());
    let toy = TOY_SETS.contains(&data_name.as_str());
    let data = if toy {
        DataSource::Toy(data_name.clone())
    } else {
        let folder = PathBuf::from(&data_name);
        if !folder.is_dir() {
            return Err(Error::Input(format!(
                "DATA {data_name}: no such folder, and not a toy set ({}). Pass a folder holding \
                 train-images-idx3-ubyte[.gz] and train-labels-idx1-ubyte[.gz] (MNIST: \
                 https://yann.lecun.com/exdb/mnist/), or of PNG/JPEG images",
                TOY_SETS.join(", ")
            )));
        }
        DataSource::Folder(data_name.clone())
    };
    // Per-loss defaults; a flag the user gave always wins.
    let wasserstein = wasserstein_config(args)?;
    let k = args
        .k
        .unwrap_or(if args.loss.is_wasserstein() { 5 } else { 1 });
    let kind = args.optimizer.unwrap_or(match args.loss {
        GanLoss::Wgan => OptimizerKind::Rmsprop, // Arjovsky et al.: momentum destabilises the critic
        _ => OptimizerKind::Adam,
    });
    let mut optimizer = OptimizerConfig::default_for(kind);
    if kind == OptimizerKind::Adam {
        if args.loss == GanLoss::WganGp {
            // Gulrajani et al.: Adam lr 1e-4, β = (0.5, 0.9).
            optimizer.lr = 1e-4;
            optimizer.beta2 = 0.9;
        } else if toy {
            optimizer.lr = 1e-3; // small 2-D problems tolerate (and need) a faster rate
        }
    }
    if let Some(momentum) = args.momentum {
        optimizer.momentum = momentum;
    }
    if let Some(beta2) = args.beta2 {
        if kind != OptimizerKind::Adam {
            return Err(Error::Input(format!(
                "--beta2: only Adam has a β₂, but the optimizer is {kind:?}"
            )));
        }
        optimizer.beta2 = beta2;
    }
    let mut g_optimizer = optimizer;
    let mut d_optimizer = optimizer;
    if let Some(lr) = args.lr_g {
        g_optimizer.lr = lr;
    }
    if let Some(lr) = args.lr_d {
        d_optimizer.lr = lr;
    }
    // Image data is read once here for its size and count (the trainer reads it again to upload).
    let host = if toy {
        None
    } else {
        Some(crate::gan::real_data::HostData::load(&data)?)
    };
    let (noise_dim, generator, discriminator, default_steps) = if toy {
        let noise = args.noise_dim.unwrap_or(2);
        let hidden = Activation::LeakyRelu(0.2);
        (
            noise,
            MlpSpec::from_sizes(&[noise, 128, 128, 128, 2], hidden, Activation::Identity),
            MlpSpec::from_sizes(&[2, 128, 128, 128, 1], hidden, Activation::Identity),
            2000,
        )
    } else {
        // The data's size is known after loading; 784 is MNIST's and is checked then.
        let noise = args.noise_dim.unwrap_or(100);
        let dim = host.as_ref().map_or(0, |h| h.shape.dim());
        (
            noise,
            MlpSpec::reference_generator(noise, dim),
            MlpSpec::reference_discriminator(dim),
            10_000,
        )
    };
    let steps = match args.epochs {
        Some(epochs) => {
            if toy {
                return Err(Error::Input(
                    "--epochs: toy sets are endless; use --steps".into(),
                ));
            }
            if !(epochs.is_finite() && epochs > 0.0) {
                return Err(Error::Input(format!(
                    "--epochs: expected a positive number, found {epochs}"
                )));
            }
            let count = host.as_ref().map_or(0, |h| h.count) as f64;
            let per_iteration = (args.batch_size.max(1) * k.max(1)) as f64;
            (epochs * count / per_iteration).ceil() as u64
        }
        None => args.steps.unwrap_or(default_steps),
    };
    let config = TrainConfig {
        data,
        noise_dim,
        generator,
        discriminator,
        loss: args.loss,
        wasserstein,
        generator_optimizer: g_optimizer,
        discriminator_optimizer: d_optimizer,
        batch_size: args.batch_size,
        k,
        steps,
        seed: args.seed,
        log_every: args.log_every,
        sample_every: args.sample_every,
        checkpoint_every: args.checkpoint_every,
    };
    config.validate()?;
    Ok(config)
}

/// --penalty, --lambda and --clip, each refused with a loss that does not use it.
fn wasserstein_config(args: &TrainArgs) -> Result<WassersteinConfig> {
    let mut config = WassersteinConfig::default();
    let refuse = |flag: &str, used_by: &str| {
        Error::Input(format!(
            "{flag}: only applies to --loss {used_by}, but the loss is {}",
            args.loss.flag_name()
        ))
    };
    if let Some(penalty) = args.penalty {
        if args.loss != GanLoss::WganGp {
            return Err(refuse("--penalty", "wgan-gp"));
        }
        config.penalty = penalty;
    }
    if let Some(lambda) = args.lambda {
        if args.loss != GanLoss::WganGp {
            return Err(refuse("--lambda", "wgan-gp"));
        }
        config.lambda = lambda;
    }
    if let Some(clip) = args.clip {
        if args.loss != GanLoss::Wgan {
            return Err(refuse("--clip", "wgan"));
        }
        config.clip = clip;
    }
    Ok(config)
}

/// runs/<data>-<UTC timestamp>.
fn default_run_dir(config: &TrainConfig) -> PathBuf {
    let name = match &config.data {
        DataSource::Toy(name) => name.clone(),
        DataSource::Folder(folder) => PathBuf::from(folder)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "data".into()),
    };
    PathBuf::from("runs").join(format!("{name}-{}", utc_timestamp()))
}

/// YYYYMMDD-HHMMSS in UTC, from the civil-from-days algorithm (no date crate needed).
fn utc_timestamp() -> String {
    let seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let (days, time) = (seconds.div_euclid(86_400), seconds.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}{month:02}{day:02}-{:02}{:02}{:02}",
        time / 3600,
        time / 60 % 60,
        time % 60
    )
}

struct Bar {
    bar: ProgressBar,
    quiet: bool,
    /// The extra metrics of the row being shown, ready to print.
    extras: String,
}

impl Progress for Bar {
    fn start(&mut self, first_step: u64, total: u64) {
        self.bar.set_length(total);
        self.bar.set_position(first_step);
    }
    fn extras(&mut self, columns: &[&'static str], values: &[f64]) {
        self.extras = columns
            .iter()
            .zip(values)
            .filter(|(_, v)| v.is_finite()) // mode counts only at sample steps
            .map(|(&column, v)| match column {
                "wasserstein" => format!("  W {v:.3}"),
                "penalty" => format!("  GP {v:.3}"),
                "grad_norm" => format!("  ‖∇D‖ {v:.3}"),
                "modes" => format!("  modes {v}"),
                "high_quality" => format!("  HQ {:.1}%", 100.0 * v),
                other => format!("  {other} {v:.3}"),
            })
            .collect();
    }
    fn update(&mut self, row: &MetricsRow) {
        let text = format!(
            "D {:.3}  G {:.3}  D(x) {:.3}  D(G(z)) {:.3}{}  {:.1} it/s",
            row.d_loss,
            row.g_loss,
            row.d_real,
            row.d_fake,
            std::mem::take(&mut self.extras),
            row.it_per_s
        );
        self.bar.set_position(row.step);
        if self.quiet {
            eprintln!("step {:>7}  {text}", row.step);
        } else {
            self.bar.set_message(text);
        }
    }
    fn message(&mut self, text: &str) {
        if !self.quiet {
            self.bar.println(text);
        }
    }
    fn finish(&mut self) {
        self.bar.finish();
    }
}

pub fn run(cli: &Cli, args: &TrainArgs) -> Result<()> {
    let (config, run_dir, checkpoint) = match &args.resume {
        Some(run_dir) => {
            let checkpoint = Checkpoint::load(&Checkpoint::find_latest(run_dir)?)?;
            let mut config = checkpoint.config.clone();
            if let Some(steps) = args.steps {
                config.steps = steps;
            }
            let folder = if run_dir.is_file() {
                run_dir
                    .parent()
                    .and_then(|p| p.parent())
                    .unwrap_or(run_dir)
                    .to_path_buf()
            } else {
                run_dir.clone()
            };
            (config, folder, Some(checkpoint))
        }
        None => {
            let config = build_config(args)?;
            let folder = args.out.clone().unwrap_or_else(|| default_run_dir(&config));
            (config, folder, None)
        }
    };
    let ctx = cli.open_gpu()?;
    eprintln!(
        "training on {} ({:?}): G {}, D {}, batch {}, k {}, {:?} loss, {} steps → {}",
        ctx.adapter_name(),
        ctx.adapter_info.backend,
        config.generator.sizes_text(),
        config.discriminator.sizes_text(),
        config.batch_size,
        config.k,
        config.loss,
        config.steps,
        run_dir.display()
    );
    let quiet = args.quiet || !std::io::IsTerminal::is_terminal(&std::io::stderr());
    let bar = if quiet {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(config.steps)
    };
    bar.set_style(
        ProgressStyle::with_template(
            "{bar:30} {pos}/{len} [{elapsed_precise}<{eta_precise}] {msg}",
        )
        .expect("a valid template"),
    );
    let mut progress = Bar {
        bar,
        quiet,
        extras: String::new(),
    };
    let outcome = train(&ctx, &config, &run_dir, checkpoint.as_ref(), &mut progress)?;
    eprintln!(
        "done: {} steps at {:.1} it/s; samples, metrics.csv, loss_curves.png and checkpoints in {}",
        outcome.final_step,
        outcome.it_per_s,
        outcome.run_dir.display()
    );
    Ok(())
}
