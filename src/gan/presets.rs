//! Training presets: named setups from the literature, for image data. A preset fills in the
//! networks, loss, optimizers, batch size, k and held-out count; `gan-gpu train` then applies
//! any flag given explicitly on top (see `cli::train`).

use super::config::{GanLoss, OptimizerConfig, OptimizerKind, Penalty, Schedule};
use super::conv_nets;
use super::prior::Noise;
use crate::error::{Error, Result};
use crate::kernels::Activation;
use crate::nn::{LayerInit, LayerSpec, MlpSpec, NetworkSpec};

/// Every preset name with a one-line summary (for --help and for the unknown-name error).
pub const KNOWN: [(&str, &str); 7] = [
    (
        "goodfellow2014",
        "the GAN paper's MNIST setup (the authors' pylearn2 mnist.yaml): G 100 → ReLU 1200 → \
         ReLU 1200 → sigmoid 784, D maxout 240×5 → maxout 240×5 → sigmoid with dropout \
         (keep 0.8 of the input, 0.5 of hidden units), SGD lr 0.1 ÷ 1.000004 per update down \
         to 1e-6, momentum 0.5 → 0.7 by epoch 250, batch 100, k 1, data in [0, 1], the last \
         1000 training images held out",
    ),
    (
        "pytorch-gan",
        "the reference MLP GAN, the default for image data: G 100 → 256 → 512 → 1024 → 784 \
         (LeakyReLU 0.2, tanh), D 784 → 512 → 256 → 1 (LeakyReLU 0.2), Adam lr 2e-4 β \
         (0.5, 0.999), batch 64, k 1, data in [−1, 1]",
    ),
    (
        "wgan-gp",
        "WGAN-GP (Gulrajani et al. 2017) on the reference MLP: critic with a linear output, \
         two-sided gradient penalty λ 10, k 5 critic steps per G step, Adam lr 1e-4 β (0.5, 0.9), \
         batch 64, data in [−1, 1]",
    ),
    (
        "dcgan",
        "DCGAN for 28×28 images (MNIST, Fashion-MNIST): G Linear 100 → 128·7·7, BN, ReLU, \
         ConvT 128 → 64 (4, 2, 1), BN, ReLU, ConvT 64 → 1, tanh; D Conv 1 → 64 (4, 2, 1), \
         LeakyReLU 0.2, Conv 64 → 128, BN, LeakyReLU, Linear 6272 → 1; N(0, 0.02) convolution \
         weights; Adam lr 2e-4 β (0.5, 0.999), batch 64, k 1, data in [−1, 1]; --width scales \
         the 64 channels",
    ),
    (
        "dcgan64",
        "pytorch/examples' DCGAN for 64×64 image folders (RGB or gray): G ConvT 100 → 512 → 256 \
         → 128 → 64 → channels with BN and ReLU, tanh; D mirrored with LeakyReLU 0.2 and BN, a \
         logit out; Adam lr 2e-4 β (0.5, 0.999), batch 64; --width sets the 64 (8 or 16 fit a \
         CPU adapter)",
    ),
    (
        "wgan-gp-conv",
        "WGAN-GP (Gulrajani et al. 2017) on the dcgan shapes, the critic without batch norm: \
         two-sided gradient penalty λ 10 (exact double backprop through the convolutions), k 5, \
         Adam lr 1e-4 β (0.5, 0.9), batch 64",
    ),
    (
        "su2017",
        "Su Jianlin's WGAN-GP MNIST code (bojone/gan mnist_gangp.py): 10-dimensional U(−1, 1) \
         noise, G 10 → ReLU 32 → ReLU 128 → sigmoid 784, D 784 → ReLU 128 → ReLU 32 → 1, \
         weights U(±0.05) and zero biases, hinge penalty 10·mean(relu(‖∇D‖ − 1)), k 5, Adam \
         lr 1e-4 β (0.5, 0.999), batch 100, data in [0, 1]",
    ),
];

/// What a preset sets. Networks are functions of the noise size and the data's example shape
/// ([channels, height, width], or [2] for toy points), which are known only once flags and
/// data are read.
#[derive(Clone, Debug)]
pub struct Preset {
    pub name: &'static str,
    pub noise_dim: usize,
    /// G from the noise size, the data's example shape and the width.
    pub generator: fn(noise: usize, data: &[usize], width: usize) -> NetworkSpec,
    /// D from the data's example shape and the width.
    pub discriminator: fn(data: &[usize], width: usize) -> NetworkSpec,
    /// The convolutional presets' channel width (`--width`), None for the MLPs.
    pub width: Option<usize>,
    /// The image size ([height, width]) a convolutional preset is built for; None: any.
    pub image_size: Option<[usize; 2]>,
    pub loss: GanLoss,
    /// wgan-gp's penalty (unused by the other losses).
    pub penalty: Penalty,
    /// The noise distribution.
    pub noise: Noise,
    pub generator_optimizer: OptimizerConfig,
    pub discriminator_optimizer: OptimizerConfig,
    /// The momentum ramp's length in epochs; each network's update count follows from the
    /// training set's size, the batch size and k ([`ramp_updates`]).
    pub momentum_ramp_epochs: Option<f64>,
    pub batch_size: usize,
    pub k: usize,
    pub holdout: usize,
}

/// The preset called `name`, or an error listing the known ones.
pub fn preset(name: &str) -> Result<Preset> {
    match name {
        "goodfellow2014" => Ok(goodfellow2014()),
        "pytorch-gan" => Ok(pytorch_gan()),
        "wgan-gp" => Ok(wgan_gp()),
        "dcgan" => Ok(dcgan()),
        "dcgan64" => Ok(dcgan64()),
        "wgan-gp-conv" => Ok(wgan_gp_conv()),
        "su2017" => Ok(su2017()),
        _ => Err(Error::Input(format!(
            "--preset {name}: unknown preset; the known ones are:\n{}",
            KNOWN
                .iter()
                .map(|(name, summary)| format!("  {name}: {summary}"))
                .collect::<Vec<_>>()
                .join("\n")
        ))),
    }
}

/// DCGAN on 28×28 images: the networks of `conv_nets::dcgan_*`, with the DCGAN paper's Adam
/// (lr 2e-4, β 0.5, 0.999), batch 64 and the non-saturating loss.
pub fn dcgan() -> Preset {
    Preset {
        name: "dcgan",
        generator: |noise, data, width| conv_nets::dcgan_generator(noise, data[0], width),
        discriminator: |data, width| conv_nets::dcgan_discriminator(data[0], width, true),
        width: Some(64),
        image_size: Some([28, 28]),
        ..pytorch_gan()
    }
}

/// pytorch/examples' DCGAN on 64×64 images.
pub fn dcgan64() -> Preset {
    Preset {
        name: "dcgan64",
        generator: |noise, data, width| conv_nets::dcgan64_generator(noise, data[0], width),
        discriminator: |data, width| conv_nets::dcgan64_discriminator(data[0], width),
        width: Some(64),
        image_size: Some([64, 64]),
        ..pytorch_gan()
    }
}

/// WGAN-GP's settings (`wgan_gp`) on the dcgan shapes, the critic without batch norm.
pub fn wgan_gp_conv() -> Preset {
    Preset {
        name: "wgan-gp-conv",
        discriminator: |data, width| conv_nets::dcgan_discriminator(data[0], width, false),
        ..wgan_gp().with_networks(dcgan())
    }
}

impl Preset {
    /// This preset's settings with `other`'s networks.
    fn with_networks(self, other: Preset) -> Preset {
        Preset {
            generator: other.generator,
            discriminator: other.discriminator,
            width: other.width,
            image_size: other.image_size,
            ..self
        }
    }
}

/// Gulrajani et al. 2017's Adam: lr 1e-4, β = (0.5, 0.9) (the one place these live; `--loss
/// wgan-gp` without a preset takes them too).
pub fn wgan_gp_adam() -> OptimizerConfig {
    OptimizerConfig {
        lr: 1e-4,
        beta2: 0.9,
        ..OptimizerConfig::default_for(OptimizerKind::Adam)
    }
}

/// Gulrajani et al. 2017 on the reference MLP: critic with a linear output, two-sided gradient
/// penalty λ = 10 (WassersteinConfig's defaults), 5 critic steps per G step, Adam lr 1e-4 with
/// β = (0.5, 0.9), batch 64.
pub fn wgan_gp() -> Preset {
    let adam = wgan_gp_adam();
    Preset {
        name: "wgan-gp",
        loss: GanLoss::WganGp,
        generator_optimizer: adam,
        discriminator_optimizer: adam,
        k: 5,
        ..pytorch_gan()
    }
}

/// The reference MLP GAN of the PyTorch GAN examples (and of this project's defaults).
pub fn pytorch_gan() -> Preset {
    let adam = OptimizerConfig::default_for(OptimizerKind::Adam);
    Preset {
        name: "pytorch-gan",
        noise_dim: 100,
        generator: |noise, data, _| MlpSpec::reference_generator(noise, values(data)).into(),
        discriminator: |data, _| MlpSpec::reference_discriminator(values(data)).into(),
        width: None,
        image_size: None,
        loss: GanLoss::Nsgan,
        penalty: Penalty::TwoSided,
        noise: Noise::Normal,
        generator_optimizer: adam,
        discriminator_optimizer: adam,
        momentum_ramp_epochs: None,
        batch_size: 64,
        k: 1,
        holdout: 0,
    }
}

/// Su Jianlin's WGAN-GP on MNIST (kexue.fm/archives/4439, github.com/bojone/gan
/// `mnist_gangp.py`): small MLPs on 10-dimensional uniform noise, the un-squared hinge penalty.
pub fn su2017() -> Preset {
    let adam = OptimizerConfig {
        lr: 1e-4,
        ..OptimizerConfig::default_for(OptimizerKind::Adam) // β (0.5, 0.999)
    };
    Preset {
        name: "su2017",
        noise_dim: 10,
        noise: Noise::Uniform,
        generator: |noise, data, _| su2017_generator(noise, values(data)).into(),
        discriminator: |data, _| su2017_discriminator(values(data)).into(),
        loss: GanLoss::WganGp,
        penalty: Penalty::Hinge,
        generator_optimizer: adam,
        discriminator_optimizer: adam,
        batch_size: 100,
        k: 5,
        ..pytorch_gan()
    }
}

/// A layer of uniform(±0.05) weights and zero biases.
fn uniform_005(inputs: usize, outputs: usize, activation: Activation) -> LayerSpec {
    LayerSpec {
        init: LayerInit::Uniform { range: 0.05 },
        ..LayerSpec::linear(inputs, outputs, activation)
    }
}

/// su2017's G: noise → ReLU 32 → ReLU 128 → sigmoid data.
pub fn su2017_generator(noise: usize, data: usize) -> MlpSpec {
    MlpSpec {
        layers: vec![
            uniform_005(noise, 32, Activation::Relu),
            uniform_005(32, 128, Activation::Relu),
            uniform_005(128, data, Activation::Sigmoid),
        ],
    }
}

/// su2017's critic: data → ReLU 128 → ReLU 32 → one linear output.
pub fn su2017_discriminator(data: usize) -> MlpSpec {
    MlpSpec {
        layers: vec![
            uniform_005(data, 128, Activation::Relu),
            uniform_005(128, 32, Activation::Relu),
            uniform_005(32, 1, Activation::Identity),
        ],
    }
}

/// Goodfellow et al. (2014)'s MNIST setup, as the authors' pylearn2 configuration
/// (github.com/goodfeli/adversarial, mnist.yaml) states it.
pub fn goodfellow2014() -> Preset {
    let sgd = OptimizerConfig::default_for(OptimizerKind::Sgd); // lr 0.1, momentum 0.5
    let schedule = |lr: f32, min_lr: f32| OptimizerConfig {
        lr,
        schedule: Some(Schedule {
            lr_decay: 1.000004,
            min_lr,
            final_momentum: 0.7,
            // Replaced by 250 epochs' worth of updates once the data's size is known.
            momentum_ramp_updates: 1,
        }),
        ..sgd
    };
    Preset {
        name: "goodfellow2014",
        noise_dim: 100,
        generator: |noise, data, _| goodfellow2014_generator(noise, 1200, values(data)).into(),
        discriminator: |data, _| goodfellow2014_discriminator(values(data), 240, 5).into(),
        width: None,
        image_size: None,
        // pylearn2's AdversaryCost2: G minimises the cost of target 1 on D(G(z)).
        loss: GanLoss::Nsgan,
        penalty: Penalty::TwoSided,
        noise: Noise::Normal,
        generator_optimizer: schedule(0.1, 1e-6),
        // pylearn2 minimises D's objective 0.5·(BCE(real) + BCE(fake)); ours is the sum. SGD's
        // step is linear in the gradient (momentum too), so half the rate and half the floor
        // on the sum is exactly the paper's lr 0.1 and floor 1e-6 on the mean.
        discriminator_optimizer: schedule(0.05, 5e-7),
        momentum_ramp_epochs: Some(250.0),
        batch_size: 100,
        k: 1,
        holdout: 1000,
    }
}

/// G: noise → ReLU hidden → ReLU hidden → sigmoid data, pylearn2's `irange` 0.05 with the
/// output biases set to the logit of the data's mean pixels (`init_sigmoid_bias_from_marginals`).
pub fn goodfellow2014_generator(noise: usize, hidden: usize, data: usize) -> MlpSpec {
    let layer = |inputs, outputs, activation, init| LayerSpec {
        init,
        ..LayerSpec::linear(inputs, outputs, activation)
    };
    let uniform = LayerInit::Uniform { range: 0.05 };
    MlpSpec {
        layers: vec![
            layer(noise, hidden, Activation::Relu, uniform),
            layer(hidden, hidden, Activation::Relu, uniform),
            layer(
                hidden,
                data,
                Activation::Sigmoid,
                LayerInit::UniformDataLogitBias { range: 0.05 },
            ),
        ],
    }
}

/// D: maxout units×pieces → maxout units×pieces → one logit (the sigmoid is in the loss),
/// dropout keeping 0.8 of the input and 0.5 of each hidden layer's units, `irange` 0.005.
pub fn goodfellow2014_discriminator(data: usize, units: usize, pieces: usize) -> MlpSpec {
    let layer = |inputs, outputs, pieces, input_keep| LayerSpec {
        pieces,
        input_keep,
        init: LayerInit::Uniform { range: 0.005 },
        ..LayerSpec::linear(inputs, outputs, Activation::Identity)
    };
    MlpSpec {
        layers: vec![
            layer(data, units, pieces, 0.8),
            layer(units, units, pieces, 0.5),
            layer(units, 1, 1, 0.5),
        ],
    }
}

/// Values in one example of `shape`.
fn values(shape: &[usize]) -> usize {
    shape.iter().product()
}

/// (D's, G's) updates in `epochs` passes over `examples` training examples: D makes one update
/// per batch drawn, ⌈examples / batch⌉ per epoch; G one per k of D's.
pub fn ramp_updates(epochs: f64, examples: usize, batch: usize, k: usize) -> (u64, u64) {
    let per_epoch = examples.div_ceil(batch.max(1)) as f64;
    let d = (epochs * per_epoch).round().max(1.0) as u64;
    (d, d.div_ceil(k.max(1) as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_known_preset_resolves_or_says_why_not() {
        for (name, _) in KNOWN {
            match preset(name) {
                Ok(preset) => {
                    assert_eq!(preset.name, name);
                    let [h, w] = preset.image_size.unwrap_or([28, 28]);
                    let width = preset.width.unwrap_or(0);
                    (preset.generator)(preset.noise_dim, &[1, h, w], width)
                        .validate("generator")
                        .unwrap();
                    (preset.discriminator)(&[1, h, w], width)
                        .validate("discriminator")
                        .unwrap();
                }
                Err(error) => panic!("{name}: {error}"),
            }
        }
        let error = preset("dcgan128").unwrap_err().to_string();
        for (name, _) in KNOWN {
            assert!(error.contains(name), "{error}");
        }
    }

    /// bojone/gan mnist_gangp.py: the sizes, the init, the optimizer, the penalty and the noise.
    #[test]
    fn su2017_matches_the_published_code() {
        let preset = su2017();
        let (g, d) = (
            (preset.generator)(preset.noise_dim, &[1, 28, 28], 0)
                .as_mlp()
                .unwrap(),
            (preset.discriminator)(&[1, 28, 28], 0).as_mlp().unwrap(),
        );
        assert_eq!(g.sizes_text(), "10-32-128-784");
        assert_eq!(d.sizes_text(), "784-128-32-1");
        assert_eq!(g.layers[2].activation, Activation::Sigmoid);
        assert_eq!(d.layers[2].activation, Activation::Identity);
        for layer in g.layers.iter().chain(&d.layers) {
            assert_eq!(layer.init, LayerInit::Uniform { range: 0.05 });
        }
        assert_eq!(preset.noise, Noise::Uniform);
        assert_eq!(
            (preset.loss, preset.penalty),
            (GanLoss::WganGp, Penalty::Hinge)
        );
        let adam = preset.discriminator_optimizer;
        assert_eq!((adam.lr, adam.momentum, adam.beta2), (1e-4, 0.5, 0.999));
        assert_eq!((preset.batch_size, preset.k), (100, 5));
    }

    #[test]
    fn goodfellow2014_matches_the_published_configuration() {
        let preset = goodfellow2014();
        let (g, d) = (
            (preset.generator)(100, &[1, 28, 28], 0).as_mlp().unwrap(),
            (preset.discriminator)(&[1, 28, 28], 0).as_mlp().unwrap(),
        );
        assert_eq!(g.sizes_text(), "100-1200-1200-784");
        assert_eq!(d.sizes_text(), "784-240x5-240x5-1");
        let keeps: Vec<f32> = d.layers.iter().map(|l| l.input_keep).collect();
        assert_eq!(keeps, [0.8, 0.5, 0.5]);
        assert_eq!(g.layers[2].activation, Activation::Sigmoid);
        assert_eq!(preset.batch_size, 100);
        assert_eq!(preset.holdout, 1000);
        // 9000 training images at batch 100: 90 updates an epoch, 22 500 by epoch 250.
        assert_eq!(ramp_updates(250.0, 9000, 100, 1), (22_500, 22_500));
        assert_eq!(ramp_updates(250.0, 50_000, 100, 1), (125_000, 125_000));
        assert_eq!(ramp_updates(1.0, 101, 100, 2), (2, 1));
    }
}
