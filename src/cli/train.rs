//! `gan-gpu train [DATA]`: flags → TrainConfig, a progress bar, and the run folder.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};

use super::Cli;
use crate::data::Toy;
use crate::error::{Error, Result};
use crate::eval::{self, during_training::TrainingEvaluation};
use crate::gan::checkpoint::{Checkpoint, checkpoint_name};
use crate::gan::real_data::HostData;
use crate::gan::{
    DataSource, EvalSchedule, GanLoss, Noise, OptimizerConfig, OptimizerKind, Penalty, Progress,
    Schedule, TrainConfig, WassersteinConfig,
};
use crate::gan::{presets, toy_defaults};
use crate::gpu::GpuContext;
use crate::kernels::Activation;
use crate::kernels::data::PixelRange;
use crate::limits::MemoryLimits;
use crate::nn::{MlpSpec, NetworkSpec};
use crate::report::metric_column::MetricColumn;
use crate::report::run_dir::MetricsRow;

#[derive(Args, Debug)]
pub struct TrainArgs {
    /// A folder of MNIST-format IDX files (train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz])
    /// or of same-sized PNG/JPEG images (in class sub-folders for --conditional), or a built-in
    /// toy set: ring8 (default) or grid25 (2-D Gaussians), gauss1d or mix1d (1-D densities, the
    /// paper's Figure 1).
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
    /// Continue the run in this folder from its newest checkpoint. The checkpoint's own
    /// configuration defines the run: only --steps, --log-every, --sample-every,
    /// --checkpoint-every, --eval-every (when the run evaluates), --quiet and --adapter may be
    /// given with it; any other flag is refused by name.
    #[arg(long, value_name = "RUN_DIR")]
    pub resume: Option<PathBuf>,
    /// Replace the run already in --out (its checkpoints, samples, metrics and config) instead
    /// of refusing to write into it.
    #[arg(long)]
    pub overwrite: bool,
    /// Training iterations, each k D steps and one G step [default: 10000 for images; ring8
    /// 11000 and grid25 10000 with nsgan and minimax, 9000 with wgan-gp, 2000 with wgan;
    /// gauss1d and mix1d 2000].
    #[arg(long, value_parser = super::whole_number::<u64>)]
    pub steps: Option<u64>,
    /// Train for this many passes over the data instead of --steps (image data only).
    #[arg(long, conflicts_with = "steps")]
    pub epochs: Option<f64>,
    /// Keep the last N training images out of training (never drawn) and record them in
    /// config.json and holdout.json, for `gan-gpu eval` [default: 0, or the preset's].
    #[arg(long, value_name = "N", value_parser = super::whole_number::<usize>)]
    pub holdout: Option<usize>,
    /// Examples per batch (each of real and generated) [default: 64, or the preset's].
    #[arg(long, value_parser = super::whole_number::<usize>)]
    pub batch_size: Option<usize>,
    /// D (critic) steps per G step (Algorithm 1's k) [default: the preset's, else 1; 5 for
    /// wgan-gp and wgan, but 1 for wgan-gp on ring8 and grid25].
    #[arg(long, value_parser = super::whole_number::<usize>)]
    pub k: Option<usize>,
    /// The adversarial loss: nsgan, minimax, wgan-gp (critic with a Lipschitz penalty) or wgan
    /// (critic with weight clipping) [default: nsgan, or the preset's].
    #[arg(long, value_enum)]
    pub loss: Option<GanLoss>,
    /// wgan-gp's penalty: two-sided (‖∇D(x̂)‖ − 1)², one-sided max(0, ‖∇D(x̂)‖ − 1)², hinge
    /// max(0, ‖∇D(x̂)‖ − 1) (un-squared), or the finite-difference forms lipschitz-fd,
    /// lipschitz-fd-one-sided and lipschitz-fd-hinge [default: the preset's, else two-sided].
    #[arg(long, value_enum)]
    pub penalty: Option<Penalty>,
    /// wgan-gp's penalty weight λ [default: 10; 1 on ring8 and grid25].
    #[arg(long)]
    pub lambda: Option<f32>,
    /// γ of the R1 regulariser (Mescheder et al. 2018) for nsgan and minimax: D's loss adds
    /// γ/2 · mean ‖∇ₓD(x)‖² on the real batch (the gradient of D's logit), which keeps D from
    /// growing steep around the data, so G settles on the modes instead of circling them
    /// [default: 1 with nsgan and minimax on ring8, else none; 0 turns it off].
    #[arg(long, value_name = "GAMMA", alias = "r1")]
    pub r1_gamma: Option<f32>,
    /// Lazy R1 (StyleGAN2's lazy regularisation, Karras et al. 2020): the penalty on every N-th
    /// D step only, weighted γ·N, so it costs 1/N as much [default: 1, every step].
    #[arg(long, value_name = "N", alias = "r1-interval")]
    pub r1_every: Option<u64>,
    /// wgan's clip value c: critic parameters are clipped to [−c, c] after each step [default: 0.01].
    #[arg(long)]
    pub clip: Option<f32>,
    /// Optimizer for both networks [default: the preset's, else adam; rmsprop for wgan].
    #[arg(long, value_enum)]
    pub optimizer: Option<OptimizerKind>,
    /// Generator learning rate [default: the preset's; else 2e-4 for Adam, 0.1 for SGD, 5e-5 for
    /// RMSProp; 1e-4 for wgan-gp; 1e-3 with Adam on toys (decaying to 1e-4 on ring8 and grid25,
    /// see --lr-decay)].
    #[arg(long)]
    pub lr_g: Option<f32>,
    /// Discriminator learning rate [same defaults as --lr-g, but 2e-3 (decaying) for wgan-gp on
    /// ring8 and grid25].
    #[arg(long)]
    pub lr_d: Option<f32>,
    /// Adam β₁, SGD momentum (the start of a momentum ramp) or RMSProp α [default: the
    /// preset's, else per optimizer: 0.5, 0.5, 0.99; Adam β₁ 0 for wgan-gp on ring8 and grid25].
    #[arg(long)]
    pub momentum: Option<f32>,
    /// Adam β₂ [default: 0.999; 0.9 for wgan-gp].
    #[arg(long)]
    pub beta2: Option<f32>,
    /// Divide both learning rates by this after every update (1 = constant) [default: the
    /// preset's; on ring8 and grid25 1.00023 with nsgan and minimax, 1.000256 with wgan-gp].
    #[arg(long, value_name = "FACTOR")]
    pub lr_decay: Option<f64>,
    /// The floor of the learning-rate decay, for both networks [default: the preset's; 1e-4 on
    /// ring8 and grid25, or --lr-g/--lr-d if lower; else 0].
    #[arg(long, value_name = "LR")]
    pub min_lr: Option<f32>,
    /// SGD momentum rises linearly from --momentum to this over --momentum-ramp-epochs.
    #[arg(long, value_name = "MOMENTUM")]
    pub final_momentum: Option<f32>,
    /// Epochs over which momentum reaches --final-momentum [default: the preset's, else 1].
    #[arg(long, value_name = "EPOCHS")]
    pub momentum_ramp_epochs: Option<f64>,
    /// Noise dimensions [default: 100 for images, 2 for toys].
    #[arg(long, value_parser = super::whole_number::<usize>)]
    pub noise_dim: Option<usize>,
    /// The generator's hidden layer sizes, e.g. 256,512 (keeps the preset's activations)
    /// [default: the preset's; 96,96,96,96 on ring8 and grid25, 128,128,128 on gauss1d and mix1d].
    #[arg(long, value_delimiter = ',', value_name = "SIZES", value_parser = super::whole_number::<usize>)]
    pub g_hidden: Option<Vec<usize>>,
    /// The discriminator's (critic's) hidden layer sizes, e.g. 128,64 (keeps the preset's
    /// activations) [default: as --g-hidden].
    #[arg(long, value_delimiter = ',', value_name = "SIZES", value_parser = super::whole_number::<usize>)]
    pub d_hidden: Option<Vec<usize>>,
    /// The noise distribution, per component: normal N(0, 1) or uniform U(−1, 1) [default:
    /// the preset's; uniform on toys].
    #[arg(long, value_enum)]
    pub noise: Option<Noise>,
    /// Multiply every noise component by S: N(0, S²) or U(−S, S). A wider range steepens G's
    /// first layer sooner, as a faster rate for it would [default: 1].
    #[arg(long, value_name = "S")]
    pub noise_scale: Option<f32>,
    /// Train a conditional GAN (Mirza & Osindero 2014): a one-hot class label is appended to
    /// G's noise and to D's input (as constant channels for a convolutional D), from the IDX
    /// label file or the class sub-folders of an image folder. `sample --class N` then draws
    /// one class, and the sample grids have one row per class.
    #[arg(long)]
    pub conditional: bool,
    /// PacGAN (Lin et al. 2018): D judges M examples at once, concatenated (as features, or
    /// as channels for a convolutional D), real with real and generated with generated, so a
    /// generator that repeats itself is easy to tell apart. The batch must be a multiple of M
    /// [default: 1, no packing].
    #[arg(long, value_name = "M", value_parser = super::whole_number::<usize>)]
    pub pack: Option<usize>,
    /// Keep an exponential moving average of G's parameters with decay BETA (e.g. 0.999; a
    /// warm-up min(BETA, (1 + t)/(10 + t)) after t G updates) on the GPU; sample grids,
    /// evaluations, generator.safetensors, `sample` and `eval` use it (their --raw the trained
    /// G). Both are checkpointed [default: 0.999 on ring8 and grid25, else none; 0 turns it off].
    #[arg(long, value_name = "BETA")]
    pub ema: Option<f32>,
    /// The convolutional presets' channel width: the first layer's channels, doubled (or halved)
    /// layer by layer [default: 64]; 8 or 16 make dcgan64 fit a CPU adapter.
    #[arg(long)]
    pub width: Option<usize>,
    /// Seed of the initial weights, noise and batches [default: 0].
    #[arg(long, value_parser = super::whole_number::<u64>)]
    pub seed: Option<u64>,
    /// Iterations between metric readbacks (progress bar and metrics.csv rows) [default: 50].
    #[arg(long, value_parser = super::whole_number::<u64>)]
    pub log_every: Option<u64>,
    /// Iterations between sample grids [default: 500].
    #[arg(long, value_parser = super::whole_number::<u64>)]
    pub sample_every: Option<u64>,
    /// Iterations between checkpoints [default: 1000].
    #[arg(long, value_parser = super::whole_number::<u64>)]
    pub checkpoint_every: Option<u64>,
    /// Score the generator every N iterations (and at the last) as `gan-gpu eval` does: Parzen
    /// log-likelihood, FID, Inception Score, class KL, precision, recall, density and coverage
    /// become metrics.csv columns, the latest report eval.json (image data; needs a classifier
    /// unless --eval-no-classifier).
    #[arg(long, value_name = "N", value_parser = super::whole_number::<u64>)]
    pub eval_every: Option<u64>,
    /// Generator samples per evaluation [default: 10000].
    #[arg(long, value_name = "N", value_parser = super::whole_number::<usize>)]
    pub eval_samples: Option<usize>,
    /// Test images the Parzen estimate averages over per evaluation (0: no Parzen estimate)
    /// [default: 10000].
    #[arg(long, value_name = "N", value_parser = super::whole_number::<usize>)]
    pub eval_parzen_test: Option<usize>,
    /// Held-out training images that choose the Parzen σ (at most --holdout are used)
    /// [default: 1000].
    #[arg(long, value_name = "N", value_parser = super::whole_number::<usize>)]
    pub eval_parzen_validation: Option<usize>,
    /// The classifier for the evaluations [default: runs/classifier-<data folder name>/classifier.safetensors].
    #[arg(long, value_name = "FILE")]
    pub eval_classifier: Option<PathBuf>,
    /// Evaluate the Parzen log-likelihood only (no classifier scores).
    #[arg(long)]
    pub eval_no_classifier: bool,
    /// Precision, recall, density and coverage per evaluation: this many generated samples'
    /// classifier features against as many test images' (at most --eval-samples and half the
    /// test set; 0: none) [default: 2000].
    #[arg(long, value_name = "N", value_parser = super::whole_number::<usize>)]
    pub eval_pr_samples: Option<usize>,
    /// k of the k-NN balls of precision, recall, density and coverage, 1 to 8 [default: 3].
    #[arg(long, value_name = "K", value_parser = super::whole_number::<usize>)]
    pub eval_pr_k: Option<usize>,
    /// No progress bar (a line per log instead).
    #[arg(long)]
    pub quiet: bool,
    /// Check the configuration, upload the data, build both networks on the GPU and run one
    /// iteration, then print the GPU memory the run allocates (by part) and the first
    /// iteration's time, and stop: no run folder is written.
    #[arg(long)]
    pub dry_run: bool,
    /// With --dry-run: time every kernel launch of an iteration alone (each recorded 100 times)
    /// and print where the iteration's time goes.
    #[arg(long, requires = "dry_run")]
    pub profile: bool,
    /// Write no TensorBoard event file (events.out.tfevents.*) into the run folder.
    #[arg(long)]
    pub no_tensorboard: bool,
}

/// The run's configuration from the flags, and the image data it was sized from (None for toy
/// sets), all of it, before any is held out.
fn build_config(args: &TrainArgs) -> Result<(TrainConfig, Option<HostData>)> {
    let data_name = args.data.clone().unwrap_or_else(|| "ring8".into());
    let toy_set = Toy::parse(&data_name).ok();
    let toy = toy_set.is_some();
    let line = matches!(toy_set, Some(Toy::Line(_)));
    let data = if toy {
        DataSource::Toy(data_name.clone())
    } else {
        let folder = PathBuf::from(&data_name);
        if !folder.is_dir() {
            return Err(Error::Input(format!(
                "DATA {data_name}: no such folder, and not a toy set ({}). Pass a folder holding \
                 train-images-idx3-ubyte[.gz] and train-labels-idx1-ubyte[.gz] (`gan-gpu \
                 download mnist {data_name}` fetches MNIST there; https://yann.lecun.com/exdb/mnist/), \
                 or of PNG/JPEG images",
                Toy::NAMES.join(", ")
            )));
        }
        DataSource::Folder(data_name.clone())
    };
    // Image data starts from a preset (pytorch-gan unless named); toys from their small MLPs.
    let preset = match (&args.preset, toy) {
        (Some(name), true) => {
            presets::preset(name)?;
            return Err(Error::Input(format!(
                "--preset {name}: presets are for image data; {data_name} is a toy set, \
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
    // Toys without a preset train their own defaults (data, in gan::toy_defaults).
    let toy_defaults = toy_set.map(|toy_set| toy_defaults::toy_defaults(&toy_set, loss));
    // A Wasserstein loss chosen by flag (no named preset) takes its papers' defaults for k and
    // the optimizers instead of the default preset's; a named preset, and any flag, still win.
    let loss_defaults = loss.is_wasserstein() && args.preset.is_none();
    let preset_training = if loss_defaults { None } else { preset.as_ref() };
    let mut wasserstein = wasserstein_config(args, loss, preset.as_ref())?;
    if let (None, Some(lambda)) = (args.lambda, toy_defaults.as_ref().and_then(|t| t.lambda)) {
        wasserstein.lambda = lambda;
    }
    let batch_size = args.batch_size.unwrap_or(match (&preset, &toy_defaults) {
        (Some(p), _) => p.batch_size,
        (None, Some(toy)) => toy.batch_size,
        (None, None) => 64,
    });
    let toy_k = toy_defaults.as_ref().and_then(|t| t.k);
    let k = args.k.unwrap_or(match (preset_training, toy_k) {
        (Some(p), _) => p.k,
        (None, Some(k)) => k,
        (None, None) if loss.is_wasserstein() => 5,
        (None, None) => 1,
    });
    let holdout = args
        .holdout
        .unwrap_or(preset.as_ref().map_or(0, |p| p.holdout));

    // Image data is read once, here: its size and count shape the config, and the trainer
    // uploads the same copy; the held-out tail is checked and left out of the count now.
    let host = if toy {
        None
    } else {
        Some(HostData::load(&data)?)
    };
    let data_shape = host.as_ref().map_or(vec![2], |h| h.shape.network_shape());
    let training_examples = match &host {
        Some(host) => host.count_after_holdout(holdout)?,
        None => 0,
    };

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
            let mut d_lr = None;
            if kind == OptimizerKind::Adam {
                if let Some(toy) = toy_defaults.as_ref()
                    && let Some(adam) = toy.adam
                {
                    optimizer = adam;
                    d_lr = toy.lr_d;
                } else if loss == GanLoss::WganGp {
                    optimizer = presets::wgan_gp_adam();
                }
            }
            let d_optimizer = OptimizerConfig {
                lr: d_lr.unwrap_or(optimizer.lr),
                ..optimizer
            };
            (optimizer, d_optimizer)
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
            // A default schedule's floor follows a lower rate given by flag (--min-lr wins).
            if let (Some(schedule), None) = (optimizer.schedule.as_mut(), args.min_lr) {
                schedule.min_lr = schedule.min_lr.min(lr);
            }
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
            // 2-D points from 2-D noise; 1-D points from 1-D noise, as in Figure 1.
            let defaults = toy_defaults.as_ref().expect("toys have defaults");
            let dims = if line { 1 } else { 2 };
            let noise = args.noise_dim.unwrap_or(dims);
            let hidden = defaults.activation;
            let sizes = |input: usize, output: usize| {
                let mut sizes = vec![input];
                sizes.extend_from_slice(defaults.hidden);
                sizes.push(output);
                sizes
            };
            (
                noise,
                MlpSpec::from_sizes(&sizes(noise, dims), hidden, Activation::Identity).into(),
                MlpSpec::from_sizes(&sizes(dims, 1), hidden, Activation::Identity).into(),
                defaults.steps,
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
    let classes = match (args.conditional, &host) {
        (false, _) => None,
        (true, None) => {
            return Err(Error::Input(format!(
                "--conditional: {data_name} is a toy set without labels; conditional GANs need \
                 labelled image data (IDX labels, or an image folder with a sub-folder per class)"
            )));
        }
        (true, Some(host)) if host.classes == 0 => {
            return Err(Error::Input(format!(
                "--conditional: {} has no class labels; an image folder needs one sub-folder of \
                 images per class (torchvision's ImageFolder layout)",
                host.description
            )));
        }
        (true, Some(host)) => Some(host.classes),
    };
    // A conditional G takes K more inputs, D K more input channels (features for an MLP).
    let (generator, discriminator) = match classes {
        Some(k) => (
            generator.with_extra_input_channels(k, "--conditional: generator")?,
            discriminator.with_extra_input_channels(k, "--conditional: discriminator")?,
        ),
        None => (generator, discriminator),
    };
    // PacGAN: D reads `pack` examples side by side, so its first layer takes pack times the
    // channels (the features of an MLP).
    let pack = args.pack.unwrap_or(1);
    let discriminator = match pack {
        0 => return Err(Error::Input("--pack: must be at least 1, found 0".into())),
        1 => discriminator,
        m => {
            let per_example = discriminator.input_shape()[0];
            discriminator
                .with_extra_input_channels((m - 1) * per_example, "--pack: discriminator")?
        }
    };
    let noise = args.noise.unwrap_or(match (&preset, &toy_defaults) {
        (Some(preset), _) => preset.noise,
        (None, Some(defaults)) => defaults.noise,
        (None, None) => Noise::Normal,
    });
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
        noise,
        noise_scale: args.noise_scale.unwrap_or(1.0),
        classes,
        generator,
        discriminator,
        loss,
        wasserstein,
        generator_optimizer: g_optimizer,
        discriminator_optimizer: d_optimizer,
        batch_size,
        k,
        steps,
        seed: args.seed.unwrap_or(0),
        log_every: args.log_every.unwrap_or(50),
        sample_every: args.sample_every.unwrap_or(500),
        checkpoint_every: args.checkpoint_every.unwrap_or(1000),
        holdout,
        pixel_range,
        pack,
        // --ema 0 turns a default average off (β 0 would copy G every step).
        ema: zero_is_off(args.ema, toy_defaults.as_ref().and_then(|t| t.ema)),
        r1: zero_is_off(args.r1_gamma, toy_defaults.as_ref().and_then(|t| t.r1)),
        r1_every: args.r1_every.unwrap_or(1),
        eval: eval_schedule(args),
    };
    config.validate()?;
    Ok((config, host))
}

/// A flag whose 0 turns its default off: the flag's value if given (None for 0), else the
/// default.
fn zero_is_off(flag: Option<f32>, default: Option<f32>) -> Option<f32> {
    match flag {
        Some(0.0) => None,
        Some(value) => Some(value),
        None => default,
    }
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
        samples: args.eval_samples.unwrap_or(eval::DEFAULT_SAMPLES),
        parzen_test: args.eval_parzen_test.unwrap_or(eval::DEFAULT_PARZEN_TEST),
        parzen_validation: args
            .eval_parzen_validation
            .unwrap_or(eval::DEFAULT_PARZEN_VALIDATION),
        classifier: args
            .eval_classifier
            .as_ref()
            .map(|p| p.display().to_string()),
        use_classifier: !args.eval_no_classifier,
        pr_samples: args
            .eval_pr_samples
            .unwrap_or(eval::manifold::DEFAULT_SAMPLES),
        pr_k: args.eval_pr_k.unwrap_or(eval::manifold::DEFAULT_K),
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
fn wasserstein_config(
    args: &TrainArgs,
    loss: GanLoss,
    preset: Option<&presets::Preset>,
) -> Result<WassersteinConfig> {
    let mut config = WassersteinConfig::default();
    if let Some(preset) = preset {
        config.penalty = preset.penalty;
    }
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
    PathBuf::from("runs").join(format!("{name}-{}", crate::clock::utc_timestamp()))
}

struct Bar {
    bar: ProgressBar,
    quiet: bool,
    /// The extra metrics of the row being shown, ready to print.
    extras: String,
    /// Set once training starts: a signal stops the run (saved) at the next submission.
    signals: Option<StopSignals>,
}

impl Progress for Bar {
    fn start(&mut self, first_step: u64, total: u64) {
        self.bar.set_length(total);
        self.bar.set_position(first_step);
    }
    fn extras(&mut self, columns: &[MetricColumn], values: &[f64]) {
        self.extras = columns
            .iter()
            .zip(values)
            .filter(|(_, v)| v.is_finite()) // mode counts only at sample steps
            .map(|(column, &v)| column.progress_text(v))
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
            crate::errln!("step {:>7}  {text}", row.step);
        } else {
            self.bar.set_message(text);
        }
    }
    fn message(&mut self, text: &str) {
        if !self.quiet {
            self.bar.println(text);
        }
    }
    fn note(&mut self, text: &str) {
        // Like the "training on ..." line: shown with --quiet too.
        if self.quiet {
            crate::errln!("{text}");
        } else {
            self.bar.println(text);
        }
    }
    fn finish(&mut self) {
        self.bar.finish();
    }
    fn should_stop(&mut self) -> bool {
        crate::output::pipe_closed()
            || self
                .signals
                .as_ref()
                .is_some_and(|s| s.received().is_some())
    }
}

/// Flags `--resume` honours: the checkpoint's configuration defines everything else.
const RESUMABLE: &str = "--steps, --log-every, --sample-every, --checkpoint-every, --eval-every \
                         (when the run evaluates), --quiet, --no-tensorboard, --dry-run and \
                         --adapter";

/// The flags given with `--resume` that would change the run (refused by name).
fn refused_on_resume(args: &TrainArgs) -> Vec<&'static str> {
    let given = [
        ("DATA", args.data.is_some()),
        ("--preset", args.preset.is_some()),
        ("--out", args.out.is_some()),
        ("--overwrite", args.overwrite),
        ("--epochs", args.epochs.is_some()),
        ("--holdout", args.holdout.is_some()),
        ("--batch-size", args.batch_size.is_some()),
        ("--k", args.k.is_some()),
        ("--loss", args.loss.is_some()),
        ("--penalty", args.penalty.is_some()),
        ("--lambda", args.lambda.is_some()),
        ("--clip", args.clip.is_some()),
        ("--optimizer", args.optimizer.is_some()),
        ("--lr-g", args.lr_g.is_some()),
        ("--lr-d", args.lr_d.is_some()),
        ("--momentum", args.momentum.is_some()),
        ("--beta2", args.beta2.is_some()),
        ("--lr-decay", args.lr_decay.is_some()),
        ("--min-lr", args.min_lr.is_some()),
        ("--final-momentum", args.final_momentum.is_some()),
        (
            "--momentum-ramp-epochs",
            args.momentum_ramp_epochs.is_some(),
        ),
        ("--noise-dim", args.noise_dim.is_some()),
        ("--noise", args.noise.is_some()),
        ("--noise-scale", args.noise_scale.is_some()),
        ("--conditional", args.conditional),
        ("--pack", args.pack.is_some()),
        ("--ema", args.ema.is_some()),
        ("--r1-gamma", args.r1_gamma.is_some()),
        ("--r1-every", args.r1_every.is_some()),
        ("--width", args.width.is_some()),
        ("--g-hidden", args.g_hidden.is_some()),
        ("--d-hidden", args.d_hidden.is_some()),
        ("--seed", args.seed.is_some()),
        ("--eval-samples", args.eval_samples.is_some()),
        ("--eval-parzen-test", args.eval_parzen_test.is_some()),
        (
            "--eval-parzen-validation",
            args.eval_parzen_validation.is_some(),
        ),
        ("--eval-classifier", args.eval_classifier.is_some()),
        ("--eval-no-classifier", args.eval_no_classifier),
        ("--eval-pr-samples", args.eval_pr_samples.is_some()),
        ("--eval-pr-k", args.eval_pr_k.is_some()),
    ];
    given
        .iter()
        .filter(|(_, given)| *given)
        .map(|(flag, _)| *flag)
        .collect()
}

/// The run `--resume RUN` continues: the newest checkpoint's configuration with the flags
/// resume honours applied, after refusing any other flag and a config.json that disagrees.
fn resume_config(
    args: &TrainArgs,
    run_or_file: &Path,
) -> Result<(TrainConfig, PathBuf, Checkpoint)> {
    let refused = refused_on_resume(args);
    if !refused.is_empty() {
        return Err(Error::Input(format!(
            "--resume: {} cannot change a run being resumed (its checkpoint defines it); only \
             {RESUMABLE} may be given with --resume. Start a new run with --out to train \
             another configuration",
            refused.join(", ")
        )));
    }
    let checkpoint = Checkpoint::load(&Checkpoint::find_latest(run_or_file)?)?;
    let folder = if run_or_file.is_file() {
        run_or_file
            .parent()
            .and_then(|p| p.parent())
            .unwrap_or(run_or_file)
            .to_path_buf()
    } else {
        run_or_file.to_path_buf()
    };
    check_config_json(&folder.join("config.json"), &checkpoint)?;
    let mut config = checkpoint.config.clone();
    if let Some(steps) = args.steps {
        config.steps = steps;
    }
    if let Some(every) = args.log_every {
        config.log_every = every;
    }
    if let Some(every) = args.sample_every {
        config.sample_every = every;
    }
    if let Some(every) = args.checkpoint_every {
        config.checkpoint_every = every;
    }
    if let Some(every) = args.eval_every {
        if (every == 0) != (config.eval.every == 0) {
            return Err(Error::Input(format!(
                "--eval-every {every}: the run being resumed {}, and metrics.csv's columns are \
                 fixed by it; --eval-every may only change how often it evaluates",
                if config.eval.every == 0 {
                    "does not evaluate during training"
                } else {
                    "evaluates during training"
                }
            )));
        }
        config.eval.every = every;
    }
    if config.steps <= checkpoint.step {
        return Err(Error::Input(format!(
            "--steps {}: the run is already at step {} ({}); pass a larger --steps to continue it",
            config.steps,
            checkpoint.step,
            checkpoint.path.display()
        )));
    }
    Ok((config, folder, checkpoint))
}

/// The fields of a config.json that resume may change (so they may differ from the checkpoint).
const RESUME_MAY_CHANGE: [&str; 5] = [
    "steps",
    "log_every",
    "sample_every",
    "checkpoint_every",
    "eval.every",
];

/// Refuse a run folder whose config.json is not the checkpoint's configuration, field by field
/// (a missing config.json is fine: it is written again from the checkpoint).
fn check_config_json(path: &Path, checkpoint: &Checkpoint) -> Result<()> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(Error::io(path, e)),
    };
    let theirs: TrainConfig = serde_json::from_str(&text).map_err(|e| {
        Error::invalid(
            path,
            "config.json",
            format!(
                "the run's configuration, as in its checkpoint {}",
                checkpoint.path.display()
            ),
            format!("{e}; restore it, or delete it to have it written again from the checkpoint"),
        )
    })?;
    let ours = serde_json::to_value(&checkpoint.config).expect("a config serialises");
    let theirs = serde_json::to_value(&theirs).expect("a config serialises");
    let mut differences = Vec::new();
    json_differences("", &ours, &theirs, &mut differences);
    differences.retain(|(field, _, _)| !RESUME_MAY_CHANGE.contains(&field.as_str()));
    if differences.is_empty() {
        return Ok(());
    }
    let listed: Vec<String> = differences
        .iter()
        .map(|(field, ours, theirs)| format!("{field} is {theirs} (the checkpoint: {ours})"))
        .collect();
    Err(Error::invalid(
        path,
        differences
            .iter()
            .map(|d| d.0.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        format!(
            "the configuration of the checkpoint it resumes ({})",
            checkpoint.path.display()
        ),
        format!(
            "{}. The checkpoint defines the run: restore config.json, delete it to have it \
             written again, or start a new run with these settings",
            listed.join("; ")
        ),
    ))
}

/// (dotted field, checkpoint's value, config.json's value) of every leaf that differs.
fn json_differences(
    prefix: &str,
    ours: &serde_json::Value,
    theirs: &serde_json::Value,
    out: &mut Vec<(String, String, String)>,
) {
    use serde_json::Value;
    let field = |key: &str| {
        if prefix.is_empty() {
            key.to_string()
        } else {
            format!("{prefix}.{key}")
        }
    };
    match (ours, theirs) {
        (Value::Object(a), Value::Object(b)) => {
            let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
            keys.sort();
            keys.dedup();
            for key in keys {
                let missing = Value::String("(absent)".into());
                json_differences(
                    &field(key),
                    a.get(key).unwrap_or(&missing),
                    b.get(key).unwrap_or(&missing),
                    out,
                );
            }
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => {
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                json_differences(&field(&i.to_string()), x, y, out);
            }
        }
        (a, b) if a != b => out.push((prefix.to_string(), a.to_string(), b.to_string())),
        _ => {}
    }
}

/// What marks a folder as holding a run (any of these at its top or in checkpoints/).
const RUN_FILES: [&str; 7] = [
    "config.json",
    "metrics.csv",
    "generator.safetensors",
    "holdout.json",
    "loss_curves.png",
    "eval_curves.png",
    "eval.json",
];

/// The run files already in `folder` (empty for a new or unrelated folder).
fn existing_run_files(folder: &Path) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = RUN_FILES
        .iter()
        .map(|name| folder.join(name))
        .filter(|p| p.exists())
        .collect();
    found.extend(
        Checkpoint::list(folder)
            .unwrap_or_default()
            .into_iter()
            .map(|(_, p)| p),
    );
    found
}

/// The folder a new run writes to: --out (refused if it holds a run, unless --overwrite, which
/// removes that run's files first), or runs/<data>-<time> made unique.
fn new_run_folder(args: &TrainArgs, config: &TrainConfig) -> Result<PathBuf> {
    let Some(out) = &args.out else {
        let base = default_run_dir(config);
        let mut folder = base.clone();
        let mut n = 2;
        while folder.exists() {
            folder = PathBuf::from(format!("{}-{n}", base.display()));
            n += 1;
        }
        return Ok(folder);
    };
    let existing = existing_run_files(out);
    if existing.is_empty() {
        return Ok(out.clone());
    }
    if !args.overwrite {
        return Err(Error::Input(format!(
            "--out {}: this folder already holds a run ({}{}); continue it with `gan-gpu train \
             --resume {}`, choose another --out, or pass --overwrite to replace it",
            out.display(),
            existing[0]
                .file_name()
                .map_or(String::new(), |n| n.to_string_lossy().into_owned()),
            if existing.len() > 1 {
                format!(" and {} more files", existing.len() - 1)
            } else {
                String::new()
            },
            out.display()
        )));
    }
    // --overwrite: the old run's files go, so the two runs never mix.
    let event_files = crate::report::tensorboard::event_files(out).unwrap_or_default();
    for file in existing.into_iter().chain(event_files) {
        std::fs::remove_file(&file).map_err(|e| Error::io(&file, e))?;
    }
    for folder in [out.join("samples"), out.join("checkpoints")] {
        if let Ok(entries) = std::fs::read_dir(&folder) {
            for path in entries.flatten().map(|e| e.path()) {
                let name = path.file_name().unwrap_or_default().to_string_lossy();
                if name.starts_with("step_") || name == crate::report::progress_gif::PROGRESS_GIF {
                    std::fs::remove_file(&path).map_err(|e| Error::io(&path, e))?;
                }
            }
        }
    }
    Ok(out.clone())
}

/// SIGINT / SIGTERM during training: the first asks the loop to stop and save; a second
/// exits at once (status 130 / 143).
struct StopSignals {
    /// The signal number received first (0: none).
    signal: Arc<AtomicUsize>,
}

impl StopSignals {
    fn install() -> Result<StopSignals> {
        use signal_hook::consts::{SIGINT, SIGTERM};
        let signal = Arc::new(AtomicUsize::new(0));
        let stopping = Arc::new(AtomicBool::new(false));
        for (number, status) in [(SIGINT, 130), (SIGTERM, 143)] {
            let register = || -> std::io::Result<()> {
                // Registered first, so it only sees the flag a previous signal set.
                signal_hook::flag::register_conditional_shutdown(number, status, stopping.clone())?;
                signal_hook::flag::register(number, stopping.clone())?;
                // Keep the first signal's number only.
                let signal = signal.clone();
                // SAFETY: the action only does an atomic compare-exchange (async-signal-safe).
                unsafe {
                    signal_hook::low_level::register(number, move || {
                        let _ = signal.compare_exchange(
                            0,
                            number as usize,
                            Ordering::SeqCst,
                            Ordering::SeqCst,
                        );
                    })?;
                }
                Ok(())
            };
            register().map_err(|e| {
                Error::Input(format!(
                    "cannot install the handler of signal {number}: {e}"
                ))
            })?;
        }
        Ok(StopSignals { signal })
    }

    fn received(&self) -> Option<i32> {
        match self.signal.load(Ordering::SeqCst) {
            0 => None,
            n => Some(n as i32),
        }
    }
}

/// `train --dry-run`: the run built and one iteration timed, its memory and first-iteration
/// lines printed; nothing written.
fn dry_run(
    ctx: &GpuContext,
    config: &TrainConfig,
    host: Option<HostData>,
    profile: bool,
) -> Result<ExitCode> {
    let host = HostData::given_or_load(host, &config.data)?;
    let measured = crate::gan::setup::build(ctx, config, host.hold_out(config.holdout)?)?;
    crate::outln!("{}", measured.memory);
    crate::outln!("{}", measured.first_iteration(ctx, 0)?);
    if profile {
        const REPEATS: u32 = 100;
        let graph = &measured.graph;
        let iteration = crate::gan::profile::differential_seconds(
            ctx,
            |recorder| graph.record_iteration(recorder, 0),
            REPEATS,
        )?;
        let launches = crate::gan::profile::profile(graph, ctx, REPEATS)?;
        let copies = crate::gan::profile::texture_copies_per_iteration(graph, ctx);
        crate::outln!(
            "{}",
            crate::gan::profile::report(&launches, config.k, iteration, copies)
        );
        if config.r1_every > 1 {
            crate::outln!(
                "lazy R1: the D rows and the whole iteration include R1's launches, which run \
                 on one D step in {}",
                config.r1_every
            );
        }
    }
    crate::outln!("dry run: nothing written; without --dry-run this trains");
    Ok(ExitCode::SUCCESS)
}

pub fn run(cli: &Cli, args: &TrainArgs) -> Result<ExitCode> {
    // The adapter first: its limits bound the data and network sizes checked below.
    let ctx = cli.open_gpu()?;
    // A new run's data is read once, by build_config; a resumed run's by the trainer.
    let (config, host, run_dir, checkpoint) = match &args.resume {
        Some(run_or_file) => {
            let (config, folder, checkpoint) = resume_config(args, run_or_file)?;
            (config, None, folder, Some(checkpoint))
        }
        None => {
            let (config, host) = build_config(args)?;
            let folder = new_run_folder(args, &config)?;
            (config, host, folder, None)
        }
    };
    crate::limits::check_training(&config, &MemoryLimits::of_device(&ctx.limits))?;
    crate::errln!(
        "training on {} ({:?}): G {}, D {}, batch {}{}, k {}, {:?} loss{}{}, {} steps → {}",
        ctx.adapter_name(),
        ctx.adapter_info.backend,
        config.generator.sizes_text(),
        config.discriminator.sizes_text(),
        config.batch_size,
        match config.pack {
            1 => String::new(),
            m => format!(" (D judges packs of {m})"),
        },
        config.k,
        config.loss,
        config
            .r1_gamma()
            .map_or(String::new(), |gamma| format!(" with R1 γ {gamma}")),
        config
            .ema
            .map_or(String::new(), |beta| format!(", EMA generator β {beta}")),
        config.steps,
        run_dir.display()
    );
    crate::errln!(
        "matmul kernels: {}",
        crate::kernels::matmul_tuning::describe_in_use(&ctx)
    );
    if args.dry_run {
        return dry_run(&ctx, &config, host, args.profile);
    }
    if config.holdout > 0 {
        crate::errln!(
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
        signals: None,
    };
    let mut evaluation = if config.eval.every > 0 {
        crate::errln!(
            "evaluating every {} steps ({} samples, {} Parzen test images{})",
            config.eval.every,
            config.eval.samples,
            config.eval.parzen_test,
            match (config.eval.use_classifier, config.eval.pr_samples) {
                (false, _) => String::new(),
                (true, 0) => ", FID/IS/KL with the classifier".to_string(),
                (true, n) => format!(
                    ", FID/IS/KL and precision/recall/density/coverage (≤ {n} per set, k = {}) \
                     with the classifier",
                    config.eval.pr_k
                ),
            }
        );
        let mut log = |text: &str| crate::errln!("{text}");
        Some(TrainingEvaluation::new(&ctx, &config, &run_dir, &mut log)?)
    } else {
        None
    };
    // From here on a signal or a closed output stops the run at the next submission, saved.
    progress.signals = Some(StopSignals::install()?);
    crate::output::defer_broken_pipe(true);
    let outputs = crate::gan::train::RunOutputs {
        tensorboard: !args.no_tensorboard,
    };
    let outcome = crate::gan::train::train_with_outputs(
        &ctx,
        &config,
        host,
        &run_dir,
        checkpoint.as_ref(),
        &mut progress,
        evaluation
            .as_mut()
            .map(|e| e as &mut dyn crate::gan::Evaluation),
        &outputs,
    );
    crate::output::defer_broken_pipe(false);
    let outcome = outcome?;
    if crate::output::pipe_closed() {
        // Saved; nobody is reading any more.
        return Ok(ExitCode::from(crate::output::BROKEN_PIPE_STATUS as u8));
    }
    if outcome.interrupted {
        let signal = progress.signals.as_ref().and_then(StopSignals::received);
        let (name, status) = match signal {
            Some(signal_hook::consts::SIGTERM) => ("SIGTERM", 143),
            _ => ("SIGINT", 130),
        };
        crate::errln!(
            "interrupted by {name} at step {} of {}: saved {}; resume with: gan-gpu train \
             --resume {}",
            outcome.final_step,
            config.steps,
            outcome
                .run_dir
                .join("checkpoints")
                .join(checkpoint_name(outcome.final_step))
                .display(),
            outcome.run_dir.display()
        );
        return Ok(ExitCode::from(status));
    }
    crate::errln!(
        "done: {} steps at {:.1} it/s; samples, metrics.csv, loss_curves.png and checkpoints in {}",
        outcome.final_step,
        outcome.it_per_s,
        outcome.run_dir.display()
    );
    Ok(ExitCode::SUCCESS)
}
