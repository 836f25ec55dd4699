//! What the generator takes: noise z from the prior p(z) (`--noise normal|uniform`), followed
//! for a conditional run (`--conditional`) by the one-hot class label c, as Goodfellow et al.
//! 2014 §7 and Mirza & Osindero 2014 condition G; the same label is appended to D's input.

use serde::{Deserialize, Serialize};

use super::config::TrainConfig;
use crate::data::SplitMix64;
use crate::error::Result;
use crate::gpu::{Dispatch, GpuContext, Tensor};
use crate::kernels::condition::{LabelLayout, append_one_hot};
use crate::kernels::random::{fill_normal, fill_uniform};
use crate::nn::NetworkSpec;

/// The distribution of each noise component.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Noise {
    /// z ~ N(0, 1) per component (DCGAN, the PyTorch examples).
    #[default]
    Normal,
    /// z ~ U(−1, 1) per component (Su Jianlin's mnist_gangp.py; Goodfellow et al.'s pylearn2).
    Uniform,
}

impl Noise {
    pub fn is_normal(&self) -> bool {
        *self == Noise::Normal
    }

    /// Fill `out` on the GPU from Philox (seed, stream, counter[0]), each component times
    /// `scale`: N(0, scale²) or U(−scale, scale).
    pub fn fill(
        self,
        ctx: &GpuContext,
        out: &Tensor,
        scale: f32,
        (seed, stream): (u64, u32),
        counter: &Tensor,
    ) -> Result<Dispatch> {
        match self {
            Noise::Normal => fill_normal(ctx, out, 0.0, scale, seed, stream, counter),
            Noise::Uniform => fill_uniform(ctx, out, -scale, scale, seed, stream, counter),
        }
    }

    /// `n` rows of `dim` components from a host generator (fixed sample grids, `sample`):
    /// reproducible by seed on every machine.
    pub fn host(self, n: usize, dim: usize, seed: u64) -> Vec<f32> {
        let mut rng = SplitMix64::new(seed ^ 0x005A_4D50_4C45);
        match self {
            Noise::Normal => (0..n * dim).map(|_| rng.next_normal() as f32).collect(),
            Noise::Uniform => (0..n * dim)
                .map(|_| (2.0 * rng.next_f64() - 1.0) as f32)
                .collect(),
        }
    }
}

/// How a network's input takes a label: K one-hot values after a feature vector, or K constant
/// channels after a [C, H, W] input (each value repeated H·W times).
pub fn label_layout(spec: &NetworkSpec, classes: usize) -> LabelLayout {
    let shape = spec.input_shape();
    LabelLayout {
        classes,
        repeat: shape.iter().skip(1).product::<usize>().max(1),
    }
}

/// G's input: the noise distribution, scale and size, and the classes of a conditional run.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Prior {
    pub noise: Noise,
    /// Every noise component is the distribution's times this (`--noise-scale`).
    pub noise_scale: f32,
    pub noise_dim: usize,
    /// K of a conditional run (None: unconditional).
    pub classes: Option<usize>,
}

impl Prior {
    pub fn of(config: &TrainConfig) -> Prior {
        Prior {
            noise: config.noise,
            noise_scale: config.noise_scale,
            noise_dim: config.noise_dim,
            classes: config.classes,
        }
    }

    /// `n` rows of host noise (grids, `sample`, interpolation): reproducible by seed.
    pub fn host_noise(&self, n: usize, seed: u64) -> Vec<f32> {
        let noise = self.noise.host(n, self.noise_dim, seed);
        match self.noise_scale {
            1.0 => noise,
            scale => noise.into_iter().map(|z| z * scale).collect(),
        }
    }

    /// What G takes, for error messages and model descriptions: "standard normal noise",
    /// "noise uniform in (-4, 4)".
    pub fn describe_noise(&self) -> String {
        match (self.noise, self.noise_scale) {
            (Noise::Normal, 1.0) => "standard normal noise".into(),
            (Noise::Normal, scale) => format!("normal noise of standard deviation {scale}"),
            (Noise::Uniform, scale) => format!("noise uniform in (-{scale}, {scale})"),
        }
    }

    /// Values of one G input: the noise, then K label values.
    pub fn input_dim(&self) -> usize {
        self.noise_dim + self.classes.unwrap_or(0)
    }

    /// Host rows of G's input: each noise row followed by its one-hot label (unconditional:
    /// the noise unchanged).
    pub fn host_input(&self, noise: &[f32], labels: &[u32]) -> Vec<f32> {
        let Some(classes) = self.classes else {
            return noise.to_vec();
        };
        let mut input = Vec::with_capacity(labels.len() * self.input_dim());
        for (row, &label) in noise.chunks(self.noise_dim).zip(labels) {
            input.extend_from_slice(row);
            input.extend((0..classes).map(|c| if c == label as usize { 1.0 } else { 0.0 }));
        }
        input
    }

    /// Balanced labels for `n` samples: 0, 1, …, K − 1, 0, 1, … (empty when unconditional).
    pub fn cycled_labels(&self, n: usize) -> Vec<u32> {
        match self.classes {
            Some(classes) => (0..n).map(|i| (i % classes) as u32).collect(),
            None => Vec::new(),
        }
    }
}

/// G's input on the GPU: a noise tensor refilled by `draw`, and for a conditional run the
/// labels appended into the [batch, noise_dim + K] tensor G reads.
pub struct GeneratorInput {
    pub noise: Tensor,
    /// What G reads: `noise` itself when unconditional.
    pub input: Tensor,
    append: Option<Dispatch>,
    kind: Noise,
    scale: f32,
}

impl GeneratorInput {
    /// `labels`: [batch] u32 class labels, required exactly when `prior` is conditional.
    pub fn new(
        ctx: &GpuContext,
        prior: &Prior,
        batch: usize,
        labels: Option<&Tensor>,
        name: &str,
    ) -> Result<GeneratorInput> {
        let noise = ctx.zeros(&format!("{name} noise"), &[batch, prior.noise_dim])?;
        let (input, append) = match (prior.classes, labels) {
            (Some(classes), Some(labels)) => {
                let input = ctx.zeros(&format!("{name} input"), &[batch, prior.input_dim()])?;
                let layout = LabelLayout { classes, repeat: 1 };
                let append = append_one_hot(ctx, &noise, labels, &input, layout)?;
                (input, Some(append))
            }
            (None, None) => (noise.clone(), None),
            (classes, _) => {
                return Err(crate::error::Error::Input(format!(
                    "{name}: a generator with classes {classes:?} needs labels exactly when it is \
                     conditional"
                )));
            }
        };
        Ok(GeneratorInput {
            noise,
            input,
            append,
            kind: prior.noise,
            scale: prior.noise_scale,
        })
    }

    /// Fresh noise from Philox (seed, stream, counter[0]), then the labels appended.
    pub fn draw(
        &self,
        ctx: &GpuContext,
        seed: u64,
        stream: u32,
        counter: &Tensor,
    ) -> Result<Vec<Dispatch>> {
        let mut dispatches =
            vec![
                self.kind
                    .fill(ctx, &self.noise, self.scale, (seed, stream), counter)?,
            ];
        dispatches.extend(self.append.clone());
        Ok(dispatches)
    }
}
