//! Network descriptions: layer sizes and activations, serialised into config.json and checked
//! against checkpoints (a checkpoint of another architecture is refused with a clear error).

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::kernels::Activation;

/// One linear layer followed by its activation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LayerSpec {
    pub inputs: usize,
    pub outputs: usize,
    pub activation: Activation,
}

/// A multilayer perceptron: the output of each layer is the input of the next.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MlpSpec {
    pub layers: Vec<LayerSpec>,
}

impl MlpSpec {
    /// Layers of `sizes[i] → sizes[i+1]`, `hidden` after every layer but the last, `output` after it.
    pub fn from_sizes(sizes: &[usize], hidden: Activation, output: Activation) -> MlpSpec {
        let count = sizes.len().saturating_sub(1);
        MlpSpec {
            layers: (0..count)
                .map(|i| LayerSpec {
                    inputs: sizes[i],
                    outputs: sizes[i + 1],
                    activation: if i + 1 == count { output } else { hidden },
                })
                .collect(),
        }
    }

    /// The project's reference generator: 100 → 256 → 512 → 1024 → 784, LeakyReLU 0.2, tanh.
    pub fn reference_generator(noise: usize, data: usize) -> MlpSpec {
        Self::from_sizes(
            &[noise, 256, 512, 1024, data],
            Activation::LeakyRelu(0.2),
            Activation::Tanh,
        )
    }

    /// The project's reference discriminator: 784 → 512 → 256 → 1, LeakyReLU 0.2, logit out.
    pub fn reference_discriminator(data: usize) -> MlpSpec {
        Self::from_sizes(
            &[data, 512, 256, 1],
            Activation::LeakyRelu(0.2),
            Activation::Identity,
        )
    }

    pub fn inputs(&self) -> usize {
        self.layers.first().map_or(0, |l| l.inputs)
    }

    pub fn outputs(&self) -> usize {
        self.layers.last().map_or(0, |l| l.outputs)
    }

    /// Shapes of the parameters in order: W₀ [in, out], b₀ [out], W₁, b₁, ...
    pub fn parameter_shapes(&self) -> Vec<Vec<usize>> {
        self.layers
            .iter()
            .flat_map(|l| [vec![l.inputs, l.outputs], vec![l.outputs]])
            .collect()
    }

    pub fn parameter_count(&self) -> usize {
        self.layers
            .iter()
            .map(|l| l.inputs * l.outputs + l.outputs)
            .sum()
    }

    /// Checks that consecutive layers fit and no size is zero; `name` is the network's name.
    pub fn validate(&self, name: &str) -> Result<()> {
        if self.layers.is_empty() {
            return Err(Error::Input(format!(
                "{name}: a network needs at least one layer"
            )));
        }
        for (i, layer) in self.layers.iter().enumerate() {
            if layer.inputs == 0 || layer.outputs == 0 {
                return Err(Error::Input(format!("{name}: layer {i} has a zero size")));
            }
            if let Activation::LeakyRelu(slope) = layer.activation
                && !(slope.is_finite() && slope > 0.0)
            {
                return Err(Error::Input(format!(
                    "{name}: layer {i}: LeakyReLU slope must be positive, found {slope}"
                )));
            }
            if i > 0 && self.layers[i - 1].outputs != layer.inputs {
                return Err(Error::Input(format!(
                    "{name}: layer {} outputs {} values but layer {i} takes {}",
                    i - 1,
                    self.layers[i - 1].outputs,
                    layer.inputs
                )));
            }
        }
        Ok(())
    }

    /// A short description such as "100-256-512-1024-784".
    pub fn sizes_text(&self) -> String {
        let mut sizes = vec![self.inputs()];
        sizes.extend(self.layers.iter().map(|l| l.outputs));
        sizes
            .iter()
            .map(|s| s.to_string())
            .collect::<Vec<_>>()
            .join("-")
    }
}
