//! Training configuration: everything that defines a run, saved as config.json beside the
//! checkpoints so `--resume` and `sample` rebuild exactly the same networks.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::nn::MlpSpec;

/// The adversarial loss (Goodfellow et al. 2014).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum GanLoss {
    /// G minimises −log D(G(z)): the paper's non-saturating fix, strong gradients early on.
    Nsgan,
    /// G minimises log(1 − D(G(z))): the minimax game as written; saturates when D wins.
    Minimax,
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
            },
            OptimizerKind::Sgd => OptimizerConfig {
                kind,
                lr: 0.1,
                momentum: 0.5,
                beta2: 0.0,
                eps: 0.0,
            },
            OptimizerKind::Rmsprop => OptimizerConfig {
                kind,
                lr: 5e-5,
                momentum: 0.99,
                beta2: 0.0,
                eps: 1e-8,
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
        Ok(())
    }
}

/// Where training data comes from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DataSource {
    /// A folder of MNIST-format IDX files, or of same-sized PNG/JPEG images.
    Folder(String),
    /// A built-in 2-D toy set: "ring8" or "grid25".
    Toy(String),
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    pub data: DataSource,
    pub noise_dim: usize,
    pub generator: MlpSpec,
    pub discriminator: MlpSpec,
    pub loss: GanLoss,
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
        if self.generator.inputs() != self.noise_dim {
            return Err(Error::Input(format!(
                "generator takes {} inputs but the noise has {} dimensions",
                self.generator.inputs(),
                self.noise_dim
            )));
        }
        if self.generator.outputs() != self.discriminator.inputs() {
            return Err(Error::Input(format!(
                "generator makes {} values per sample but the discriminator takes {}",
                self.generator.outputs(),
                self.discriminator.inputs()
            )));
        }
        if self.discriminator.outputs() != 1 {
            return Err(Error::Input(format!(
                "the discriminator must output one logit per sample, found {}",
                self.discriminator.outputs()
            )));
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
        serde_json::from_str(text).map_err(|e| Error::InvalidData {
            file: path.to_path_buf(),
            field: "metadata \"config\"".into(),
            expected: "a gan-gpu training configuration".into(),
            found: e.to_string(),
        })
    }
}
