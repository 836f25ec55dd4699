//! Training configuration: everything that defines a run, saved as config.json beside the
//! checkpoints so `--resume` and `sample` rebuild exactly the same networks.

use serde::{Deserialize, Serialize};

use super::prior::{Noise, label_layout};
use crate::error::{Error, Result};
use crate::kernels::Activation;
use crate::kernels::data::PixelRange;
use crate::kernels::optim::CountSchedule;
use crate::kernels::penalty::PenaltyForm;
#[cfg(test)]
use crate::nn::MlpSpec;
use crate::nn::{Layer, NetworkSpec};

/// The adversarial loss (Goodfellow et al. 2014).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum GanLoss {
    /// G minimises −log D(G(z)): the paper's non-saturating fix, strong gradients early on.
    Nsgan,
    /// G minimises log(1 − D(G(z))): the minimax game as written; saturates when D wins.
    Minimax,
    /// Wasserstein GAN with a Lipschitz penalty (Gulrajani et al. 2017): the critic (no sigmoid)
    /// minimises mean D(G(z)) − mean D(x) + λ·penalty, G minimises −mean D(G(z)).
    WganGp,
    /// The original Wasserstein GAN (Arjovsky et al. 2017): the same losses, the critic's
    /// weights clipped to [−c, c] after every step instead of a penalty.
    Wgan,
}

impl GanLoss {
    /// The name `--loss` takes.
    pub fn flag_name(self) -> &'static str {
        match self {
            GanLoss::Nsgan => "nsgan",
            GanLoss::Minimax => "minimax",
            GanLoss::WganGp => "wgan-gp",
            GanLoss::Wgan => "wgan",
        }
    }

    /// The Wasserstein losses (a critic with an unbounded output).
    pub fn is_wasserstein(self) -> bool {
        matches!(self, GanLoss::WganGp | GanLoss::Wgan)
    }
}

/// The Lipschitz penalty of `--loss wgan-gp`, on a slope r: two-sided (r − 1)², one-sided
/// max(0, r − 1)², or the un-squared hinge max(0, r − 1); r is ‖∇ₓD(x̂)‖ at a random interpolate x̂ (exact double backprop), or for the
/// lipschitz-fd forms |D(y₁) − D(y₂)| / ‖y₁ − y₂‖ between two interpolates of one pair (first
/// derivatives only).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Penalty {
    /// (‖∇ₓD(x̂)‖ − 1)², WGAN-GP.
    #[default]
    TwoSided,
    /// max(0, ‖∇ₓD(x̂)‖ − 1)² (Petzka et al.'s WGAN-LP).
    OneSided,
    /// (|D(y₁) − D(y₂)| / ‖y₁ − y₂‖ − 1)².
    LipschitzFd,
    /// max(0, |D(y₁) − D(y₂)| / ‖y₁ − y₂‖ − 1)².
    LipschitzFdOneSided,
    /// max(0, ‖∇ₓD(x̂)‖ − 1), un-squared: Su Jianlin's `mnist_gangp.py` (10·relu(‖∇D‖ − 1)).
    Hinge,
    /// max(0, |D(y₁) − D(y₂)| / ‖y₁ − y₂‖ − 1), un-squared (the same article's finite-difference
    /// form).
    LipschitzFdHinge,
}

impl Penalty {
    /// ψ, the function of the slope.
    pub fn form(self) -> PenaltyForm {
        match self {
            Penalty::TwoSided | Penalty::LipschitzFd => PenaltyForm::Squared,
            Penalty::OneSided | Penalty::LipschitzFdOneSided => PenaltyForm::OneSidedSquared,
            Penalty::Hinge | Penalty::LipschitzFdHinge => PenaltyForm::Hinge,
        }
    }
}

/// Settings of the Wasserstein losses (absent from configs written before them: defaults).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct WassersteinConfig {
    /// wgan-gp's penalty.
    pub penalty: Penalty,
    /// wgan-gp's penalty weight λ (10 in Gulrajani et al.).
    pub lambda: f32,
    /// wgan's clip value c (0.01 in Arjovsky et al.).
    pub clip: f32,
}

impl Default for WassersteinConfig {
    fn default() -> Self {
        WassersteinConfig {
            penalty: Penalty::TwoSided,
            lambda: 10.0,
            clip: 0.01,
        }
    }
}

/// `train --eval-every`: how often the generator is scored during training, and on how much
/// (`every` 0: never). Saved in config.json so a resumed run logs the same metrics.csv columns.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct EvalSchedule {
    /// Iterations between evaluations (and one at the last step); 0: none.
    pub every: u64,
    /// Generator samples: the Parzen window's centres and the classifier scores' sample.
    pub samples: usize,
    /// Test images the Parzen estimate averages over (0: no Parzen estimate).
    pub parzen_test: usize,
    /// Held-out training images that choose the Parzen σ.
    pub parzen_validation: usize,
    /// The classifier for FID, Inception Score and the class histogram (None: the data
    /// folder's default, `runs/classifier-<name>/classifier.safetensors`).
    pub classifier: Option<String>,
    /// false: skip the classifier scores (Parzen only).
    pub use_classifier: bool,
    /// Feature vectors per set of precision, recall, density and coverage (0: none). Absent
    /// from configs written before these scores: 0, so a resumed run keeps its columns.
    #[serde(default)]
    pub pr_samples: usize,
    /// k of their k-NN balls.
    pub pr_k: usize,
}

impl Default for EvalSchedule {
    fn default() -> Self {
        EvalSchedule {
            every: 0,
            samples: crate::eval::DEFAULT_SAMPLES,
            parzen_test: crate::eval::DEFAULT_PARZEN_TEST,
            parzen_validation: crate::eval::DEFAULT_PARZEN_VALIDATION,
            classifier: None,
            use_classifier: true,
            pr_samples: crate::eval::manifold::DEFAULT_SAMPLES,
            pr_k: crate::eval::manifold::DEFAULT_K,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum OptimizerKind {
    Adam,
    Sgd,
    Rmsprop,
}

/// One network's optimizer. `momentum` is SGD's momentum, Adam's β₁ and RMSProp's α.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct OptimizerConfig {
    pub kind: OptimizerKind,
    pub lr: f32,
    pub momentum: f32,
    pub beta2: f32,
    pub eps: f32,
    /// A learning-rate decay and momentum ramp over this network's updates (none: constant).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule: Option<Schedule>,
}

/// How lr and momentum change with the number t of this network's updates, computed on the GPU
/// after every update (Goodfellow et al. 2014: lr ÷ 1.000004 per update down to 1e-6, SGD
/// momentum rising linearly from 0.5 to 0.7 by epoch 250).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Schedule {
    /// lr(t) = max(lr · lr_decay^(−t), min_lr); 1 = constant.
    pub lr_decay: f64,
    pub min_lr: f32,
    /// momentum(t) rises linearly from the optimizer's `momentum` to this, reached after
    /// `momentum_ramp_updates` updates (SGD only; equal to `momentum` = no ramp).
    pub final_momentum: f32,
    pub momentum_ramp_updates: u64,
}

impl OptimizerConfig {
    /// Defaults per kind: Adam lr 2e-4, β 0.5/0.999 (DCGAN, PyTorch GAN examples); SGD lr 0.1,
    /// momentum 0.5 (Goodfellow et al. 2014); RMSProp lr 5e-5, α 0.99 (WGAN).
    pub fn default_for(kind: OptimizerKind) -> OptimizerConfig {
        match kind {
            OptimizerKind::Adam => OptimizerConfig {
                kind,
                lr: 2e-4,
                momentum: 0.5,
                beta2: 0.999,
                eps: 1e-8,
                schedule: None,
            },
            OptimizerKind::Sgd => OptimizerConfig {
                kind,
                lr: 0.1,
                momentum: 0.5,
                beta2: 0.0,
                eps: 0.0,
                schedule: None,
            },
            OptimizerKind::Rmsprop => OptimizerConfig {
                kind,
                lr: 5e-5,
                momentum: 0.99,
                beta2: 0.0,
                eps: 1e-8,
                schedule: None,
            },
        }
    }

    fn validate(&self, network: &str) -> Result<()> {
        let flag = format!("--lr-{network}");
        if !(self.lr.is_finite() && self.lr > 0.0) {
            return Err(Error::Input(format!(
                "{flag}: the learning rate must be a positive finite number, found {}",
                self.lr
            )));
        }
        if !(self.momentum.is_finite() && (0.0..1.0).contains(&self.momentum)) {
            return Err(Error::Input(format!(
                "{network} optimizer: momentum/beta1/alpha must be in [0, 1), found {}",
                self.momentum
            )));
        }
        if !(self.beta2.is_finite() && (0.0..1.0).contains(&self.beta2)) {
            return Err(Error::Input(format!(
                "{network} optimizer: beta2 must be in [0, 1), found {}",
                self.beta2
            )));
        }
        if let Some(schedule) = &self.schedule {
            schedule.validate(network, self)?;
        }
        Ok(())
    }

    /// The GPU schedule (`kernels::optim::schedule_from_count`), if this optimizer has one.
    pub fn count_schedule(&self) -> Option<CountSchedule> {
        self.schedule.map(|s| CountSchedule {
            lr: self.lr,
            decay: s.lr_decay,
            min_lr: s.min_lr,
            momentum: self.momentum,
            final_momentum: s.final_momentum,
            ramp_updates: s.momentum_ramp_updates,
        })
    }
}

impl Schedule {
    /// A schedule that changes nothing (the start for flags that set one part of it).
    pub fn constant(optimizer: &OptimizerConfig) -> Schedule {
        Schedule {
            lr_decay: 1.0,
            min_lr: 0.0,
            final_momentum: optimizer.momentum,
            momentum_ramp_updates: 1,
        }
    }

    fn validate(&self, network: &str, optimizer: &OptimizerConfig) -> Result<()> {
        if !(self.lr_decay.is_finite() && self.lr_decay >= 1.0) {
            return Err(Error::Input(format!(
                "--lr-decay: {network}'s learning rate is divided by it after every update, so \
                 it must be a finite number ≥ 1 (1 = constant), found {}",
                self.lr_decay
            )));
        }
        if !(self.min_lr.is_finite() && self.min_lr >= 0.0 && self.min_lr <= optimizer.lr) {
            return Err(Error::Input(format!(
                "--min-lr: {network}'s learning-rate floor must be in [0, lr = {}], found {}",
                optimizer.lr, self.min_lr
            )));
        }
        if !(self.final_momentum.is_finite() && (0.0..1.0).contains(&self.final_momentum)) {
            return Err(Error::Input(format!(
                "--final-momentum: must be in [0, 1), found {}",
                self.final_momentum
            )));
        }
        if self.final_momentum != optimizer.momentum && optimizer.kind != OptimizerKind::Sgd {
            return Err(Error::Input(format!(
                "--final-momentum: the momentum ramp is for SGD; {network}'s optimizer is {:?}",
                optimizer.kind
            )));
        }
        if self.momentum_ramp_updates == 0 {
            return Err(Error::Input(
                "--momentum-ramp-epochs: the momentum ramp needs at least one update".into(),
            ));
        }
        Ok(())
    }
}

/// Where training data comes from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DataSource {
    /// A folder of MNIST-format IDX files, or of same-sized PNG/JPEG images.
    Folder(String),
    /// A built-in toy set: "ring8", "grid25" (2-D), "gauss1d" or "mix1d" (1-D).
    Toy(String),
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    pub data: DataSource,
    pub noise_dim: usize,
    /// The distribution of each noise component (absent from older configs: normal).
    #[serde(default, skip_serializing_if = "Noise::is_normal")]
    pub noise: Noise,
    /// Every noise component times this: N(0, s²) or U(−s, s). A wider input range steepens
    /// G's first layer as if its rate were s times higher (absent from older configs: 1).
    #[serde(default = "unit_scale", skip_serializing_if = "is_unit_scale")]
    pub noise_scale: f32,
    /// A conditional GAN's K classes: G takes its noise followed by a one-hot label, D its
    /// image followed by the same label (K values, or K constant channels for a [C, H, W]
    /// input). None: unconditional.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub classes: Option<usize>,
    pub generator: NetworkSpec,
    pub discriminator: NetworkSpec,
    pub loss: GanLoss,
    /// Penalty, λ and clip value of the Wasserstein losses (unused by the others).
    #[serde(default)]
    pub wasserstein: WassersteinConfig,
    pub generator_optimizer: OptimizerConfig,
    pub discriminator_optimizer: OptimizerConfig,
    pub batch_size: usize,
    /// D steps per G step (Algorithm 1's k).
    pub k: usize,
    /// Training iterations (one iteration = k D steps + one G step).
    pub steps: u64,
    pub seed: u64,
    /// Iterations between metric readbacks (progress bar, metrics.csv).
    pub log_every: u64,
    pub sample_every: u64,
    pub checkpoint_every: u64,
    /// Training examples never drawn: the last `holdout` of the data folder's n training
    /// examples, indices [n − holdout, n) (kept for `gan-gpu eval`; image data only).
    #[serde(default)]
    pub holdout: usize,
    /// The range image pixels are scaled to, which must be the generator output's range
    /// (`PixelRange::for_output`): [0, 1] for sigmoid, [−1, 1] otherwise.
    #[serde(default)]
    pub pixel_range: PixelRange,
    /// PacGAN's packing (Lin et al. 2018): D judges `pack` examples at once, concatenated
    /// (features, or channels for a convolutional D), real with real and generated with
    /// generated, so it sees the diversity of a set. 1: no packing.
    #[serde(default = "no_packing", skip_serializing_if = "is_no_packing")]
    pub pack: usize,
    /// β of the EMA generator: an exponential moving average of G's parameters (with a warm-up,
    /// `reference::optim::ema_decay`) that grids, `sample`, `eval` and generator.safetensors
    /// use. None: no average.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ema: Option<f32>,
    /// γ of the R1 regulariser (Mescheder et al. 2018) for nsgan and minimax: D's loss adds
    /// γ/2 · mean ‖∇ₓ D(x)‖² at the real batch (D's logit), with its exact gradient. None: off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub r1: Option<f32>,
    /// Lazy R1 (Karras et al. 2020, StyleGAN2's lazy regularisation): the penalty runs on every
    /// `r1_every`-th D step only, weighted γ · r1_every, so it costs 1/r1_every of its price and
    /// weighs the same on average. 1: every D step.
    #[serde(default = "every_step", skip_serializing_if = "is_every_step")]
    pub r1_every: u64,
    /// Evaluations during training (absent from older configs: none).
    #[serde(default)]
    pub eval: EvalSchedule,
}

fn unit_scale() -> f32 {
    1.0
}

fn is_unit_scale(scale: &f32) -> bool {
    *scale == 1.0
}

fn every_step() -> u64 {
    1
}

fn is_every_step(every: &u64) -> bool {
    *every == 1
}

fn no_packing() -> usize {
    1
}

fn is_no_packing(pack: &usize) -> bool {
    *pack == 1
}

impl TrainConfig {
    /// Every check a user's flags can fail, each naming the flag.
    pub fn validate(&self) -> Result<()> {
        if self.batch_size == 0 {
            return Err(Error::Input(
                "--batch-size: must be at least 1, found 0".into(),
            ));
        }
        if self.k == 0 {
            return Err(Error::Input(
                "--k: D steps per G step must be at least 1, found 0".into(),
            ));
        }
        if !(self.noise_scale.is_finite() && self.noise_scale > 0.0) {
            return Err(Error::Input(format!(
                "--noise-scale: every noise component is multiplied by it, so it must be a \
                 positive finite number, found {}",
                self.noise_scale
            )));
        }
        if self.steps == 0 {
            return Err(Error::Input("--steps: must be at least 1, found 0".into()));
        }
        if self.noise_dim == 0 {
            return Err(Error::Input(
                "--noise-dim: must be at least 1, found 0".into(),
            ));
        }
        for (flag, value) in [
            ("--log-every", self.log_every),
            ("--sample-every", self.sample_every),
            ("--checkpoint-every", self.checkpoint_every),
        ] {
            if value == 0 {
                return Err(Error::Input(format!("{flag}: must be at least 1, found 0")));
            }
        }
        self.generator_optimizer.validate("g")?;
        self.discriminator_optimizer.validate("d")?;
        self.generator.validate("generator")?;
        self.discriminator.validate("discriminator")?;
        self.validate_packing()?;
        for (name, network, rows) in [
            ("generator", &self.generator, self.batch_size),
            (
                "discriminator",
                &self.discriminator,
                self.batch_size / self.pack,
            ),
        ] {
            if let Some(i) = network.batch_norm_over_features()
                && rows < 2
            {
                return Err(Error::Input(format!(
                    "--batch-size {}: {name} layer {i} normalises features with the batch's \
                     statistics, which need at least 2 {}",
                    self.batch_size,
                    if self.pack > 1 { "packs" } else { "examples" }
                )));
            }
        }
        if let Some(beta) = self.ema
            && !(0.0..1.0).contains(&beta)
        {
            return Err(Error::Input(format!(
                "--ema: the average's decay β must be in [0, 1) (e.g. 0.999), found {beta}"
            )));
        }
        self.validate_r1()?;
        let label_values = self.validate_classes()?;
        if self.generator.inputs() != self.noise_dim + label_values.0 {
            return Err(Error::Input(format!(
                "generator takes {} inputs but the noise has {} dimensions{}",
                self.generator.inputs(),
                self.noise_dim,
                match self.classes {
                    Some(k) => format!(" and the label {k}"),
                    None => String::new(),
                }
            )));
        }
        if (self.generator.outputs() + label_values.1) * self.pack != self.discriminator.inputs() {
            return Err(Error::Input(format!(
                "generator makes {} values per sample{}{} but the discriminator takes {}",
                self.generator.outputs(),
                match label_values.1 {
                    0 => String::new(),
                    n => format!(" (and the label adds {n})"),
                },
                match self.pack {
                    1 => String::new(),
                    m => format!(", packed {m} at a time"),
                },
                self.discriminator.inputs()
            )));
        }
        if self.discriminator.outputs() != 1 {
            return Err(Error::Input(format!(
                "the discriminator must output one logit per sample, found {}",
                self.discriminator.outputs()
            )));
        }
        if self.holdout > 0 && matches!(self.data, DataSource::Toy(_)) {
            return Err(Error::Input(format!(
                "--holdout {}: toy sets are endless and hold nothing out; held-out examples \
                 need image data",
                self.holdout
            )));
        }
        self.validate_eval()?;
        let output = self.generator.output_activation();
        let expected = PixelRange::for_output(output);
        if self.pixel_range != expected {
            return Err(Error::Input(format!(
                "pixel_range: a generator ending in {output:?} makes values in {:?}, so the data \
                 must be scaled to it ({expected:?}), found {:?}",
                expected.bounds(),
                self.pixel_range
            )));
        }
        if self.loss.is_wasserstein() {
            self.check_critic_layers(&format!("--loss {}", self.loss.flag_name()))?;
            let last = self.discriminator.output_activation();
            if last != Activation::Identity {
                return Err(Error::Input(format!(
                    "--loss {}: the critic's last layer must be linear (no activation), found {last:?}",
                    self.loss.flag_name()
                )));
            }
        }
        let WassersteinConfig { lambda, clip, .. } = self.wasserstein;
        if !(lambda.is_finite() && lambda >= 0.0) {
            return Err(Error::Input(format!(
                "--lambda: the penalty weight must be a finite number ≥ 0, found {lambda}"
            )));
        }
        if !(clip.is_finite() && clip > 0.0) {
            return Err(Error::Input(format!(
                "--clip: the weight clip value must be a positive finite number, found {clip}"
            )));
        }
        Ok(())
    }

    /// PacGAN's packs: at least one example, a whole number of packs per batch, and (for now)
    /// no gradient penalty on a packed conditional critic, whose label values would sit between
    /// the packed images where the penalty's norm cannot skip them.
    fn validate_packing(&self) -> Result<()> {
        let (pack, batch) = (self.pack, self.batch_size);
        if pack == 0 {
            return Err(Error::Input("--pack: must be at least 1, found 0".into()));
        }
        if batch % pack != 0 {
            return Err(Error::Input(format!(
                "--pack {pack}: D judges packs of {pack} examples, so the batch must be a \
                 multiple of {pack}, found --batch-size {batch}"
            )));
        }
        if pack > 1 && self.classes.is_some() && self.loss == GanLoss::WganGp {
            return Err(Error::Input(format!(
                "--pack {pack}: packing a conditional critic under a gradient penalty is not \
                 supported (the label values sit between the packed images); use --pack 1, \
                 or --loss wgan / nsgan"
            )));
        }
        Ok(())
    }

    /// R1's γ when it is in effect: nsgan or minimax with γ > 0 (γ 0 is off).
    pub fn r1_gamma(&self) -> Option<f32> {
        let probability_d = matches!(self.loss, GanLoss::Nsgan | GanLoss::Minimax);
        self.r1.filter(|&gamma| probability_d && gamma > 0.0)
    }

    /// Whether D step `d_step` (counted from 0 over the whole run, k per iteration) runs the
    /// gradient penalty: every step, except under lazy R1 every r1_every-th (`validate_r1`
    /// keeps r1_every at 1 for every other penalty).
    pub fn penalty_at(&self, d_step: u64) -> bool {
        d_step.is_multiple_of(self.r1_every)
    }

    /// The D steps of iterations `iterations` that run the gradient penalty (all of them but
    /// under lazy R1).
    pub fn penalty_steps(&self, iterations: std::ops::Range<u64>) -> u64 {
        let k = self.k as u64;
        (iterations.start * k..iterations.end * k)
            .filter(|&d_step| self.penalty_at(d_step))
            .count() as u64
    }

    /// R1: a finite γ ≥ 0, for the losses with a probability D (a Wasserstein critic has its
    /// own penalty), on a D whose penalty gradient is written (as a critic's), and not on a
    /// packed conditional D (as the critic's penalty).
    fn validate_r1(&self) -> Result<()> {
        if self.r1_every == 0 {
            return Err(Error::Input(
                "--r1-every: R1 runs on every N-th D step, so N must be at least 1, found 0".into(),
            ));
        }
        if self.r1_every > 1 && self.r1_gamma().is_none() {
            return Err(Error::Input(format!(
                "--r1-every {}: there is no R1 penalty to space out; it needs --r1-gamma γ > 0 \
                 with --loss nsgan or minimax (the loss is {}, γ {})",
                self.r1_every,
                self.loss.flag_name(),
                self.r1.map_or("off".to_string(), |gamma| gamma.to_string())
            )));
        }
        let Some(gamma) = self.r1 else {
            return Ok(());
        };
        if !(gamma.is_finite() && gamma >= 0.0) {
            return Err(Error::Input(format!(
                "--r1-gamma: the penalty weight γ must be a finite number ≥ 0, found {gamma}"
            )));
        }
        if self.loss.is_wasserstein() {
            return Err(Error::Input(format!(
                "--r1-gamma: only applies to --loss nsgan or minimax, but the loss is {} \
                 (a Wasserstein critic has its own penalty: --penalty, --lambda)",
                self.loss.flag_name()
            )));
        }
        if self.pack > 1 && self.classes.is_some() {
            return Err(Error::Input(format!(
                "--pack {}: packing a conditional discriminator under R1 is not supported (the \
                 label values sit between the packed images); use --pack 1 or --r1-gamma 0",
                self.pack
            )));
        }
        self.check_critic_layers("--r1-gamma")
    }

    /// The label values a conditional run adds to G's and to D's input, (0, 0) otherwise.
    fn validate_classes(&self) -> Result<(usize, usize)> {
        let Some(classes) = self.classes else {
            return Ok((0, 0));
        };
        if classes < 2 {
            return Err(Error::Input(format!(
                "--conditional: a conditional GAN needs at least 2 classes, found {classes}"
            )));
        }
        if let DataSource::Toy(name) = &self.data {
            return Err(Error::Input(format!(
                "--conditional: {name} is a toy set without labels; conditional GANs need \
                 labelled image data (IDX labels, or an image folder with a sub-folder per class)"
            )));
        }
        let d = label_layout(&self.discriminator, classes);
        Ok((classes, d.width()))
    }

    /// The layers of a critic under a gradient penalty (wgan-gp's, or R1 of a probability D):
    /// the penalty's double backprop is written for linear and convolution layers with
    /// elementwise activations, and batch norm would make each sample's critic value depend on
    /// the rest of its batch, which the per-sample gradient penalty assumes it does not
    /// (Gulrajani et al. 2017 §4: no batch norm in the critic).
    fn check_critic_layers(&self, flag: &str) -> Result<()> {
        for (i, layer) in self.discriminator.layers.iter().enumerate() {
            let why = match layer {
                Layer::BatchNorm(_) => Some(
                    "batch norm in a critic under a gradient penalty is refused: the penalty is per \
                     sample, and batch statistics tie each sample's critic value to its batch \
                     (the WGAN-GP paper's advice; use no normalisation, or layer norm once it is \
                     built)",
                ),
                Layer::Dense(d) if d.is_maxout() => Some(
                    "maxout is not supported in a critic under a gradient penalty (its double \
                     backprop is written for elementwise activations)",
                ),
                l if l.has_dropout() => Some(
                    "dropout is not supported in a critic under a gradient penalty (its passes are \
                     deterministic)",
                ),
                _ => None,
            };
            if let Some(why) = why {
                return Err(Error::Input(format!(
                    "{flag}: discriminator layer {i} ({}): {why}",
                    layer.kind_name()
                )));
            }
        }
        Ok(())
    }

    fn validate_eval(&self) -> Result<()> {
        let eval = &self.eval;
        if eval.every == 0 {
            return Ok(());
        }
        if let DataSource::Toy(name) = &self.data {
            return Err(Error::Input(format!(
                "--eval-every {}: {name} is a toy set, whose statistics are already logged \
                 at every sample step (modes and high_quality, or d_star_gap, in metrics.csv); \
                 evaluations during \
                 training are for image data",
                eval.every
            )));
        }
        for (flag, value) in [
            ("--eval-samples", eval.samples),
            ("--eval-parzen-validation", eval.parzen_validation),
        ] {
            if value == 0 {
                return Err(Error::Input(format!("{flag}: must be at least 1, found 0")));
            }
        }
        if eval.use_classifier {
            crate::eval::manifold::check_flags(
                "--eval-",
                eval.pr_samples,
                eval.pr_k,
                eval.samples,
            )?;
        }
        if eval.parzen_test == 0 && !eval.use_classifier {
            return Err(Error::Input(
                "--eval-every: --eval-parzen-test 0 with --eval-no-classifier leaves nothing to \
                 evaluate"
                    .into(),
            ));
        }
        Ok(())
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a config always serialises")
    }

    /// The configuration stored in a checkpoint's (or generator file's) metadata.
    pub fn from_metadata(
        path: &std::path::Path,
        metadata: &std::collections::HashMap<String, String>,
    ) -> Result<TrainConfig> {
        let text = metadata.get("config").ok_or_else(|| Error::InvalidData {
            file: path.to_path_buf(),
            field: "metadata \"config\"".into(),
            expected: "the training configuration of a gan-gpu checkpoint or generator.safetensors"
                .into(),
            found: "no such key (not a file written by gan-gpu train?)".into(),
        })?;
        let config: TrainConfig = serde_json::from_str(text).map_err(|e| Error::InvalidData {
            file: path.to_path_buf(),
            field: "metadata \"config\"".into(),
            expected: "a gan-gpu training configuration".into(),
            found: e.to_string(),
        })?;
        // Sizes first (by field name: nothing here came from a flag), then every other check.
        for (field, value) in [
            ("noise_dim", config.noise_dim),
            ("batch_size", config.batch_size),
            ("k", config.k),
        ] {
            if value == 0 {
                return Err(Error::InvalidData {
                    file: path.to_path_buf(),
                    field: format!("metadata \"config\" → {field}"),
                    expected: "at least 1".into(),
                    found: "0".into(),
                });
            }
        }
        config.validate().map_err(|e| Error::InvalidData {
            file: path.to_path_buf(),
            field: "metadata \"config\"".into(),
            expected: "a valid training configuration".into(),
            found: e.to_string(),
        })?;
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::Activation;

    fn config() -> TrainConfig {
        let sgd = OptimizerConfig::default_for(OptimizerKind::Sgd);
        TrainConfig {
            data: DataSource::Folder("data".into()),
            noise_dim: 4,
            noise: Noise::Normal,
            noise_scale: 1.0,
            classes: None,
            generator: MlpSpec::from_sizes(&[4, 8, 16], Activation::Relu, Activation::Sigmoid)
                .into(),
            discriminator: MlpSpec::from_sizes(&[16, 8, 1], Activation::Relu, Activation::Identity)
                .into(),
            loss: GanLoss::Nsgan,
            generator_optimizer: sgd,
            discriminator_optimizer: sgd,
            wasserstein: WassersteinConfig::default(),
            batch_size: 4,
            k: 1,
            steps: 1,
            seed: 0,
            log_every: 1,
            sample_every: 1,
            checkpoint_every: 1,
            holdout: 0,
            pixel_range: PixelRange::ZeroToOne,
            pack: 1,
            ema: None,
            r1: None,
            r1_every: 1,
            eval: EvalSchedule::default(),
        }
    }

    #[test]
    fn configs_written_before_holdout_range_and_schedule_still_load() {
        let mut value: serde_json::Value = serde_json::from_str(&config().to_json()).unwrap();
        let object = value.as_object_mut().unwrap();
        object.remove("holdout");
        object.remove("pixel_range");
        assert!(object["generator_optimizer"].get("schedule").is_none());
        let old: TrainConfig = serde_json::from_value(value).unwrap();
        assert_eq!(old.holdout, 0);
        assert_eq!(old.pixel_range, PixelRange::MinusOneToOne);
        assert_eq!(old.generator_optimizer.schedule, None);
    }

    /// A run that evaluated during training before precision/recall existed resumes with the
    /// metrics.csv columns it has: no precision/recall (pr_samples 0), k the default.
    #[test]
    fn eval_schedules_written_before_precision_recall_have_none() {
        let mut value: serde_json::Value = serde_json::from_str(&config().to_json()).unwrap();
        let eval = value["eval"].as_object_mut().unwrap();
        assert_eq!(eval["pr_samples"], 2000);
        eval.remove("pr_samples");
        eval.remove("pr_k");
        let old: TrainConfig = serde_json::from_value(value).unwrap();
        assert_eq!(old.eval.pr_samples, 0);
        assert_eq!(old.eval.pr_k, 3);
    }

    #[test]
    fn precision_recall_sizes_name_their_flag() {
        let with = |pr_samples: usize, pr_k: usize, samples: usize| {
            let mut config = config();
            config.eval = EvalSchedule {
                every: 10,
                samples,
                pr_samples,
                pr_k,
                ..EvalSchedule::default()
            };
            config.validate().map_err(|e| e.to_string())
        };
        with(2000, 3, 100).unwrap();
        with(0, 3, 2).unwrap();
        for (pr_samples, pr_k, samples, flag) in [
            (2000, 0, 100, "--eval-pr-k 0"),
            (2000, 9, 100, "--eval-pr-k 9"),
            (3, 3, 100, "--eval-pr-samples 3"),
            (100, 3, 2, "--eval-samples 2"),
        ] {
            let error = with(pr_samples, pr_k, samples).unwrap_err();
            assert!(error.contains(flag), "{flag}: {error}");
        }
    }

    #[test]
    fn pixel_range_must_follow_the_generator_output() {
        config().validate().unwrap();
        let mut wrong = config();
        wrong.pixel_range = PixelRange::MinusOneToOne;
        let error = wrong.validate().unwrap_err().to_string();
        assert!(
            error.contains("pixel_range") && error.contains("Sigmoid"),
            "{error}"
        );
    }

    #[test]
    fn bad_schedules_name_their_flag() {
        let schedule = Schedule {
            lr_decay: 1.000004,
            min_lr: 1e-6,
            final_momentum: 0.7,
            momentum_ramp_updates: 100,
        };
        let with = |schedule: Schedule, kind: OptimizerKind| {
            let mut config = config();
            config.discriminator_optimizer = OptimizerConfig {
                schedule: Some(schedule),
                ..OptimizerConfig::default_for(kind)
            };
            config.validate().map_err(|e| e.to_string())
        };
        with(schedule, OptimizerKind::Sgd).unwrap();
        for (bad, kind, flag) in [
            (
                Schedule {
                    lr_decay: 0.9,
                    ..schedule
                },
                OptimizerKind::Sgd,
                "--lr-decay",
            ),
            (
                Schedule {
                    min_lr: 1.0,
                    ..schedule
                },
                OptimizerKind::Sgd,
                "--min-lr",
            ),
            (
                Schedule {
                    final_momentum: 1.0,
                    ..schedule
                },
                OptimizerKind::Sgd,
                "--final-momentum",
            ),
            (schedule, OptimizerKind::Adam, "--final-momentum"),
            (
                Schedule {
                    momentum_ramp_updates: 0,
                    ..schedule
                },
                OptimizerKind::Sgd,
                "--momentum-ramp-epochs",
            ),
        ] {
            let error = with(bad, kind).unwrap_err();
            assert!(error.contains(flag), "{flag}: {error}");
        }
        // Adam may decay its learning rate (its β1 stays put).
        let adam_decay = Schedule {
            final_momentum: 0.5,
            ..schedule
        };
        with(adam_decay, OptimizerKind::Adam).unwrap();
    }

    #[test]
    fn holdout_needs_image_data() {
        let mut toy = config();
        toy.data = DataSource::Toy("ring8".into());
        toy.generator =
            MlpSpec::from_sizes(&[4, 8, 16], Activation::Relu, Activation::Identity).into();
        toy.pixel_range = PixelRange::MinusOneToOne;
        toy.validate().unwrap();
        toy.holdout = 5;
        let error = toy.validate().unwrap_err().to_string();
        assert!(error.contains("--holdout 5"), "{error}");
    }

    fn small_config() -> TrainConfig {
        TrainConfig {
            data: DataSource::Toy("ring8".into()),
            noise_dim: 2,
            noise: Noise::Normal,
            noise_scale: 1.0,
            classes: None,
            generator: MlpSpec::from_sizes(&[2, 4, 2], Activation::Relu, Activation::Identity)
                .into(),
            discriminator: MlpSpec::from_sizes(&[2, 4, 1], Activation::Relu, Activation::Identity)
                .into(),
            loss: GanLoss::Nsgan,
            wasserstein: WassersteinConfig {
                penalty: Penalty::OneSided,
                lambda: 3.0,
                clip: 0.5,
            },
            generator_optimizer: OptimizerConfig::default_for(OptimizerKind::Adam),
            discriminator_optimizer: OptimizerConfig::default_for(OptimizerKind::Adam),
            batch_size: 4,
            k: 1,
            steps: 1,
            seed: 0,
            log_every: 1,
            sample_every: 1,
            checkpoint_every: 1,
            holdout: 0,
            pixel_range: PixelRange::MinusOneToOne,
            pack: 1,
            ema: None,
            r1: None,
            r1_every: 1,
            eval: EvalSchedule::default(),
        }
    }

    /// A config.json written before the Wasserstein losses existed still loads, with defaults.
    #[test]
    fn configs_without_wasserstein_settings_load_with_defaults() {
        let config = small_config();
        let round_trip: TrainConfig = serde_json::from_str(&config.to_json()).unwrap();
        assert_eq!(round_trip, config);
        let mut old: serde_json::Value = serde_json::from_str(&config.to_json()).unwrap();
        old.as_object_mut().unwrap().remove("wasserstein");
        let loaded: TrainConfig = serde_json::from_value(old).unwrap();
        assert_eq!(loaded.wasserstein, WassersteinConfig::default());
        assert_eq!(
            serde_json::to_value(Penalty::LipschitzFdOneSided).unwrap(),
            "lipschitz-fd-one-sided"
        );
        assert_eq!(serde_json::to_value(GanLoss::WganGp).unwrap(), "wgan-gp");
    }

    #[test]
    fn a_wasserstein_critic_must_end_linear() {
        let mut config = small_config();
        config.discriminator =
            MlpSpec::from_sizes(&[2, 4, 1], Activation::Relu, Activation::Sigmoid).into();
        config.validate().unwrap();
        config.loss = GanLoss::WganGp;
        let error = config.validate().unwrap_err().to_string();
        assert!(
            error.contains("--loss wgan-gp") && error.contains("linear"),
            "{error}"
        );
    }
}
