//! `gan-gpu train [DATA]`: flags → TrainConfig, a progress bar, and the run folder.

use std::path::PathBuf;

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};

use super::Cli;
use crate::error::{Error, Result};
use crate::eval::during_training::TrainingEvaluation;
use crate::gan::checkpoint::Checkpoint;
use crate::gan::presets;
use crate::gan::{
    DataSource, EvalSchedule, GanLoss, OptimizerConfig, OptimizerKind, Penalty, Progress, Schedule,
    TrainConfig, WassersteinConfig, train_with_evaluation,
};
use crate::kernels::Activation;
use crate::kernels::data::PixelRange;
use crate::nn::{MlpSpec, NetworkSpec};
use crate::report::run_dir::MetricsRow;

#[derive(Args, Debug)]
pub struct TrainArgs {
    /// A folder of MNIST-format IDX files (train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz])
    /// or of same-sized PNG/JPEG images, or a built-in 2-D toy set: ring8 (default) or grid25.
    pub data: Option<String>,
    /// Start from a named setup (image data). Explicit flags override its values.
    ///
    /// A preset sets the networks, loss, optimizers and their schedule, batch size, k and
    /// --holdout; any of those flags given explicitly wins over the preset (--optimizer
    /// switching to another kind starts that optimizer from its defaults). Without a preset,
    /// image data trains pytorch-gan. Presets:
    ///
    ///   goodfellow2014: the GAN paper's MNIST setup (the authors' pylearn2 mnist.yaml):
    ///   G 100 → ReLU 1200 → ReLU 1200 → sigmoid 784; D maxout 240×5 → maxout 240×5 →
    ///   sigmoid, dropout keeping 0.8 of the input and 0.5 of hidden units; SGD lr 0.1
    ///   divided by 1.000004 per update down to 1e-6, momentum 0.5 rising linearly to 0.7 by
    ///   epoch 250; batch 100, k 1; data scaled to [0, 1]; the last 1000 training images held
    ///   out (README: what differs from the paper).
    ///
    ///   pytorch-gan: the reference MLP GAN: G 100 → 256 → 512 → 1024 → 784 (LeakyReLU 0.2,
    ///   tanh), D 784 → 512 → 256 → 1 (LeakyReLU 0.2); Adam lr 2e-4, β (0.5, 0.999); batch
    ///   64, k 1; data scaled to [−1, 1].
    ///
    ///   wgan-gp: WGAN-GP (Gulrajani et al. 2017) on the reference MLP: critic with a linear
    ///   output, two-sided gradient penalty λ 10, k 5, Adam lr 1e-4, β (0.5, 0.9); batch 64.
    #[arg(long, value_name = "NAME", verbatim_doc_comment)]
    pub preset: Option<String>,
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
    /// Keep the last N training images out of training (never drawn) and record them in
    /// config.json and holdout.json, for `gan-gpu eval` [default: 0, or the preset's].
    #[arg(long, value_name = "N")]
    pub holdout: Option<usize>,
    /// Examples per batch (each of real and generated) [default: 64, or the preset's].
    #[arg(long)]
    pub batch_size: Option<usize>,
    /// D (critic) steps per G step (Algorithm 1's k) [default: the preset's, else 1; 5 for
    /// wgan-gp and wgan].
    #[arg(long)]
    pub k: Option<usize>,
    /// The adversarial loss: nsgan, minimax, wgan-gp (critic with a Lipschitz penalty) or wgan
    /// (critic with weight clipping) [default: nsgan, or the preset's].
    #[arg(long, value_enum)]
    pub loss: Option<GanLoss>,
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
    /// Optimizer for both networks [default: the preset's, else adam; rmsprop for wgan].
    #[arg(long, value_enum)]
    pub optimizer: Option<OptimizerKind>,
    /// Generator learning rate [default: the preset's; else 2e-4 for Adam, 0.1 for SGD, 5e-5 for
    /// RMSProp; 1e-3 with Adam on toys; 1e-4 for wgan-gp].
    #[arg(long)]
    pub lr_g: Option<f32>,
    /// Discriminator learning rate [same defaults as --lr-g].
    #[arg(long)]
    pub lr_d: Option<f32>,
    /// Adam β₁, SGD momentum (the start of a momentum ramp) or RMSProp α [default: the
    /// preset's, else per optimizer: 0.5, 0.5, 0.99].
    #[arg(long)]
    pub momentum: Option<f32>,
    /// Adam β₂ [default: 0.999; 0.9 for wgan-gp].
    #[arg(long)]
    pub beta2: Option<f32>,
    /// Divide both learning rates by this after every update (1 = constant) [default: the preset's].
    #[arg(long, value_name = "FACTOR")]
    pub lr_decay: Option<f64>,
    /// The floor of the learning-rate decay, for both networks [default: the preset's, else 0].
    #[arg(long, value_name = "LR")]
    pub min_lr: Option<f32>,
    /// SGD momentum rises linearly from --momentum to this over --momentum-ramp-epochs.
    #[arg(long, value_name = "MOMENTUM")]
    pub final_momentum: Option<f32>,
    /// Epochs over which momentum reaches --final-momentum [default: the preset's, else 1].
    #[arg(long, value_name = "EPOCHS")]
    pub momentum_ramp_epochs: Option<f64>,
    /// Noise dimensions [default: 100 for images, 2 for toys].
    #[arg(long)]
    pub noise_dim: Option<usize>,
    /// The generator's hidden layer sizes, e.g. 256,512 (keeps the preset's activations).
    #[arg(long, value_delimiter = ',', value_name = "SIZES")]
    pub g_hidden: Option<Vec<usize>>,
    /// The discriminator's (critic's) hidden layer sizes, e.g. 128,64 (keeps the preset's activations).
    #[arg(long, value_delimiter = ',', value_name = "SIZES")]
    pub d_hidden: Option<Vec<usize>>,
    /// The convolutional presets' channel width: the first layer's channels, doubled (or halved)
    /// layer by layer [default: 64]; 8 or 16 make dcgan64 fit a CPU adapter.
    #[arg(long)]
    pub width: Option<usize>,
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
    /// Score the generator every N iterations (and at the last) as `gan-gpu eval` does: Parzen
    /// log-likelihood, FID, Inception Score and class KL become metrics.csv columns, the latest
    /// report eval.json (image data; needs a classifier unless --eval-no-classifier).
    #[arg(long, value_name = "N")]
    pub eval_every: Option<u64>,
    /// Generator samples per evaluation.
    #[arg(long, value_name = "N", default_value_t = 10_000)]
    pub eval_samples: usize,
    /// Test images the Parzen estimate averages over per evaluation (0: no Parzen estimate).
    #[arg(long, value_name = "N", default_value_t = 10_000)]
    pub eval_parzen_test: usize,
    /// Held-out training images that choose the Parzen σ (at most --holdout are used).
    #[arg(long, value_name = "N", default_value_t = 1_000)]
    pub eval_parzen_validation: usize,
    /// The classifier for the evaluations [default: runs/classifier-<data folder name>/classifier.safetensors].
    #[arg(long, value_name = "FILE")]
    pub eval_classifier: Option<PathBuf>,
    /// Evaluate the Parzen log-likelihood only (no classifier scores).
    #[arg(long)]
    pub eval_no_classifier: bool,
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
    // Image data starts from a preset (pytorch-gan unless named); toys from their small MLPs.
    let preset = match (&args.preset, toy) {
        (Some(name), true) => {
            presets::preset(name)?;
            return Err(Error::Input(format!(
                "--preset {name}: presets are for image data; {data_name} is a 2-D toy set, \
                 which trains its own small MLPs"
            )));
        }
        (Some(name), false) => Some(presets::preset(name)?),
        (None, false) => Some(presets::pytorch_gan()),
        (None, true) => None,
    };
    let loss = args
        .loss
        .unwrap_or(preset.as_ref().map_or(GanLoss::Nsgan, |p| p.loss));
    // A Wasserstein loss chosen by flag (no named preset) takes its papers' defaults for k and
    // the optimizers instead of the default preset's; a named preset, and any flag, still win.
    let loss_defaults = loss.is_wasserstein() && args.preset.is_none();
    let preset_training = if loss_defaults { None } else { preset.as_ref() };
    let wasserstein = wasserstein_config(args, loss)?;
    let batch_size = args
        .batch_size
        .unwrap_or(preset.as_ref().map_or(64, |p| p.batch_size));
    let k = args.k.unwrap_or(match preset_training {
        Some(p) => p.k,
        None if loss.is_wasserstein() => 5,
        None => 1,
    });
    let holdout = args
        .holdout
        .unwrap_or(preset.as_ref().map_or(0, |p| p.holdout));

    // Image data is read once here for its size and count (the trainer reads it again to
    // upload); the held-out tail is checked and left out of the count now.
    let host = if toy {
        None
    } else {
        Some(crate::gan::real_data::HostData::load(&data)?.hold_out(holdout)?)
    };
    let data_shape = host.as_ref().map_or(vec![2], |h| h.shape.network_shape());
    let training_examples = host.as_ref().map_or(0, |h| h.count);

    let (mut g_optimizer, mut d_optimizer) = match (args.optimizer, preset_training) {
        (None, Some(p)) => (p.generator_optimizer, p.discriminator_optimizer),
        (Some(kind), Some(p)) if kind == p.generator_optimizer.kind => {
            (p.generator_optimizer, p.discriminator_optimizer)
        }
        (kind, _) => {
            let kind = kind.unwrap_or(match loss {
                GanLoss::Wgan => OptimizerKind::Rmsprop, // Arjovsky et al.: momentum destabilises the critic
                _ => OptimizerKind::Adam,
            });
            let mut optimizer = OptimizerConfig::default_for(kind);
            if kind == OptimizerKind::Adam {
                if loss == GanLoss::WganGp {
                    optimizer = presets::wgan_gp_adam();
                } else if toy {
                    optimizer.lr = 1e-3; // small 2-D problems tolerate (and need) a faster rate
                }
            }
            (optimizer, optimizer)
        }
    };
    if let (Some(_), kind @ (OptimizerKind::Sgd | OptimizerKind::Rmsprop)) =
        (args.beta2, g_optimizer.kind)
    {
        return Err(Error::Input(format!(
            "--beta2: only Adam has a β₂, but the optimizer is {kind:?}"
        )));
    }
    for (optimizer, lr) in [(&mut g_optimizer, args.lr_g), (&mut d_optimizer, args.lr_d)] {
        if let Some(lr) = lr {
            optimizer.lr = lr;
        }
        if let Some(momentum) = args.momentum {
            optimizer.momentum = momentum;
        }
        if let (Some(beta2), OptimizerKind::Adam) = (args.beta2, optimizer.kind) {
            optimizer.beta2 = beta2;
        }
        let flags_set_schedule = args.lr_decay.is_some()
            || args.min_lr.is_some()
            || args.final_momentum.is_some()
            || args.momentum_ramp_epochs.is_some();
        if flags_set_schedule && optimizer.schedule.is_none() {
            optimizer.schedule = Some(Schedule::constant(optimizer));
        }
        if let Some(schedule) = optimizer.schedule.as_mut() {
            if let Some(decay) = args.lr_decay {
                schedule.lr_decay = decay;
            }
            if let Some(min_lr) = args.min_lr {
                schedule.min_lr = min_lr;
            }
            if let Some(momentum) = args.final_momentum {
                schedule.final_momentum = momentum;
            }
        }
    }
    let ramp_epochs = args
        .momentum_ramp_epochs
        .or(preset.as_ref().and_then(|p| p.momentum_ramp_epochs));
    if let Some(epochs) = ramp_epochs {
        if !(epochs.is_finite() && epochs > 0.0) {
            return Err(Error::Input(format!(
                "--momentum-ramp-epochs: expected a positive number, found {epochs}"
            )));
        }
        if toy {
            return Err(Error::Input(
                "--momentum-ramp-epochs: toy sets are endless and have no epochs".into(),
            ));
        }
        let (d_updates, g_updates) =
            presets::ramp_updates(epochs, training_examples, batch_size, k);
        for (optimizer, updates) in [(&mut d_optimizer, d_updates), (&mut g_optimizer, g_updates)] {
            if let Some(schedule) = optimizer.schedule.as_mut() {
                schedule.momentum_ramp_updates = updates;
            }
        }
    }

    let (noise_dim, generator, discriminator, default_steps) = match &preset {
        None => {
            let noise = args.noise_dim.unwrap_or(2);
            let hidden = Activation::LeakyRelu(0.2);
            (
                noise,
                MlpSpec::from_sizes(&[noise, 128, 128, 128, 2], hidden, Activation::Identity)
                    .into(),
                MlpSpec::from_sizes(&[2, 128, 128, 128, 1], hidden, Activation::Identity).into(),
                2000,
            )
        }
        Some(preset) => {
            let noise = args.noise_dim.unwrap_or(preset.noise_dim);
            let width = preset_width(preset, args.width)?;
            check_image_size(preset, &data_shape, &data_name)?;
            (
                noise,
                (preset.generator)(noise, &data_shape, width),
                (preset.discriminator)(&data_shape, width),
                10_000,
            )
        }
    };
    if let (Some(width), None) = (args.width, &preset) {
        return Err(Error::Input(format!(
            "--width {width}: scales the convolutional presets (dcgan, dcgan64, wgan-gp-conv); \
             toy sets train MLPs (use --g-hidden / --d-hidden)"
        )));
    }
    let generator = resize_hidden(generator, args.g_hidden.as_deref(), "--g-hidden")?;
    let discriminator = resize_hidden(discriminator, args.d_hidden.as_deref(), "--d-hidden")?;
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
            let per_iteration = (batch_size.max(1) * k.max(1)) as f64;
            (epochs * training_examples as f64 / per_iteration).ceil() as u64
        }
        None => args.steps.unwrap_or(default_steps),
    };
    let pixel_range = PixelRange::for_output(generator.output_activation());
    let config = TrainConfig {
        data,
        noise_dim,
        generator,
        discriminator,
        loss,
        wasserstein,
        generator_optimizer: g_optimizer,
        discriminator_optimizer: d_optimizer,
        batch_size,
        k,
        steps,
        seed: args.seed,
        log_every: args.log_every,
        sample_every: args.sample_every,
        checkpoint_every: args.checkpoint_every,
        holdout,
        pixel_range,
        eval: eval_schedule(args),
    };
    config.validate()?;
    Ok(config)
}

/// `--width` for a convolutional preset (its default without the flag); refused for the MLPs.
fn preset_width(preset: &presets::Preset, flag: Option<usize>) -> Result<usize> {
    match (preset.width, flag) {
        (Some(default), None) => Ok(default),
        (Some(_), Some(0)) => Err(Error::Input(
            "--width: the channel width must be at least 1, found 0".into(),
        )),
        (Some(_), Some(width)) => Ok(width),
        (None, None) => Ok(0),
        (None, Some(width)) => Err(Error::Input(format!(
            "--width {width}: scales the convolutional presets (dcgan, dcgan64, wgan-gp-conv); \
             preset {} is an MLP (use --g-hidden / --d-hidden)",
            preset.name
        ))),
    }
}

/// A convolutional preset is built for one image size: say so before anything is allocated.
fn check_image_size(preset: &presets::Preset, data_shape: &[usize], data: &str) -> Result<()> {
    let Some([height, width]) = preset.image_size else {
        return Ok(());
    };
    match data_shape {
        [_, h, w] if (*h, *w) == (height, width) => Ok(()),
        [c, h, w] => Err(Error::Input(format!(
            "--preset {}: built for {height}×{width} images; {data} holds {c}-channel {h}×{w} \
             images{}",
            preset.name,
            if (*h, *w) == (64, 64) {
                " (use --preset dcgan64)"
            } else if (*h, *w) == (28, 28) {
                " (use --preset dcgan)"
            } else {
                ""
            }
        ))),
        _ => Err(Error::Input(format!(
            "--preset {}: needs image data, found {data}",
            preset.name
        ))),
    }
}

/// The --eval-* flags (every 0: no evaluations during training).
fn eval_schedule(args: &TrainArgs) -> EvalSchedule {
    EvalSchedule {
        every: args.eval_every.unwrap_or(0),
        samples: args.eval_samples,
        parzen_test: args.eval_parzen_test,
        parzen_validation: args.eval_parzen_validation,
        classifier: args
            .eval_classifier
            .as_ref()
            .map(|p| p.display().to_string()),
        use_classifier: !args.eval_no_classifier,
    }
}

/// `spec` with new hidden sizes, keeping its hidden and output activations (plain layers only).
fn resize_hidden(
    network: NetworkSpec,
    hidden: Option<&[usize]>,
    flag: &str,
) -> Result<NetworkSpec> {
    let Some(hidden) = hidden else {
        return Ok(network);
    };
    let Some(spec) = network.as_mlp() else {
        return Err(Error::Input(format!(
            "{flag}: only MLPs can be resized; this preset's network has convolution or batch-norm \
             layers (--width scales the convolutional presets)"
        )));
    };
    if hidden.contains(&0) {
        return Err(Error::Input(format!(
            "{flag}: layer sizes must be at least 1, found {hidden:?}"
        )));
    }
    if spec
        .layers
        .iter()
        .any(|l| l.pieces > 1 || l.input_keep < 1.0)
    {
        return Err(Error::Input(format!(
            "{flag}: only plain MLPs can be resized; this preset's network has maxout or dropout layers"
        )));
    }
    let first = spec.layers.first().map(|l| l.activation);
    let last = spec.layers.last().map(|l| l.activation);
    let hidden_activation = if spec.layers.len() > 1 { first } else { None };
    let mut sizes = vec![spec.inputs()];
    sizes.extend_from_slice(hidden);
    sizes.push(spec.outputs());
    Ok(MlpSpec::from_sizes(
        &sizes,
        hidden_activation.unwrap_or(Activation::LeakyRelu(0.2)),
        last.unwrap_or(Activation::Identity),
    )
    .into())
}

/// --penalty, --lambda and --clip, each refused with a loss that does not use it.
fn wasserstein_config(args: &TrainArgs, loss: GanLoss) -> Result<WassersteinConfig> {
    let mut config = WassersteinConfig::default();
    let refuse = |flag: &str, used_by: &str| {
        Error::Input(format!(
            "{flag}: only applies to --loss {used_by}, but the loss is {}",
            loss.flag_name()
        ))
    };
    if let Some(penalty) = args.penalty {
        if loss != GanLoss::WganGp {
            return Err(refuse("--penalty", "wgan-gp"));
        }
        config.penalty = penalty;
    }
    if let Some(lambda) = args.lambda {
        if loss != GanLoss::WganGp {
            return Err(refuse("--lambda", "wgan-gp"));
        }
        config.lambda = lambda;
    }
    if let Some(clip) = args.clip {
        if loss != GanLoss::Wgan {
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
                "parzen_ll" => format!("  Parzen {v:.1}"),
                "parzen_se" => String::new(), // in metrics.csv; the bar shows the mean
                "fid" => format!("  FID {v:.2}"),
                "inception_score" => format!("  IS {v:.2}"),
                "class_kl" => format!("  KL {v:.3}"),
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
    if config.holdout > 0 {
        eprintln!(
            "holding out the last {} training images (listed in holdout.json)",
            config.holdout
        );
    }
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
    let mut evaluation = if config.eval.every > 0 {
        eprintln!(
            "evaluating every {} steps ({} samples, {} Parzen test images{})",
            config.eval.every,
            config.eval.samples,
            config.eval.parzen_test,
            if config.eval.use_classifier {
                ", FID/IS/KL with the classifier"
            } else {
                ""
            }
        );
        let mut log = |text: &str| eprintln!("{text}");
        Some(TrainingEvaluation::new(&ctx, &config, &run_dir, &mut log)?)
    } else {
        None
    };
    let outcome = train_with_evaluation(
        &ctx,
        &config,
        &run_dir,
        checkpoint.as_ref(),
        &mut progress,
        evaluation
            .as_mut()
            .map(|e| e as &mut dyn crate::gan::Evaluation),
    )?;
    eprintln!(
        "done: {} steps at {:.1} it/s; samples, metrics.csv, loss_curves.png and checkpoints in {}",
        outcome.final_step,
        outcome.it_per_s,
        outcome.run_dir.display()
    );
    Ok(())
}
