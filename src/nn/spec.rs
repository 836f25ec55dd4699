//! Network descriptions: layer sizes, activations, maxout pieces, input dropout and
//! initialisation, serialised into config.json and checked against checkpoints (a checkpoint of
//! another architecture is refused with a clear error).

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::kernels::Activation;

/// How a layer's parameters start (drawn on the host at setup, see `nn::init`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LayerInit {
    /// PyTorch's `nn.Linear` default: W and b uniform in ±1/√inputs (kaiming_uniform, a = √5).
    #[default]
    Torch,
    /// pylearn2's `irange`: W uniform in ±range, b = 0.
    Uniform { range: f32 },
    /// W uniform in ±range and b = logit of the training data's mean of each output feature
    /// (clipped to [1e-7, 1 − 1e-7]): pylearn2's `init_sigmoid_bias_from_marginals`, for a
    /// generator's sigmoid output over data in [0, 1].
    UniformDataLogitBias { range: f32 },
    /// W ~ N(0, std²) and b = 0 (batch norm: γ ~ N(1, std²), β = 0): the DCGAN initialisation
    /// (Radford et al. 2016, std 0.02).
    Normal { std: f32 },
}

fn one() -> usize {
    1
}

fn keep_all() -> f32 {
    1.0
}

/// One layer: optional inverted dropout of its input, a linear map, then either its activation
/// or, with `pieces` > 1, maxout (the maximum of each group of `pieces` linear outputs).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LayerSpec {
    pub inputs: usize,
    /// Units after maxout (the linear map makes outputs × pieces values).
    pub outputs: usize,
    pub activation: Activation,
    /// Maxout pieces per unit; 1 is a plain linear layer. Unit u takes the maximum of linear
    /// outputs u·pieces .. u·pieces + pieces − 1 (pylearn2's grouping).
    #[serde(default = "one")]
    pub pieces: usize,
    /// Probability that each input is kept by dropout in training passes (kept inputs are scaled
    /// by 1/keep, so evaluation needs no change); 1 = no dropout.
    #[serde(default = "keep_all")]
    pub input_keep: f32,
    #[serde(default)]
    pub init: LayerInit,
}

impl LayerSpec {
    /// A plain linear layer with PyTorch's initialisation and no dropout.
    pub fn linear(inputs: usize, outputs: usize, activation: Activation) -> LayerSpec {
        LayerSpec {
            inputs,
            outputs,
            activation,
            pieces: 1,
            input_keep: 1.0,
            init: LayerInit::Torch,
        }
    }

    /// Columns of the linear map: outputs × pieces.
    pub fn width(&self) -> usize {
        self.outputs * self.pieces
    }

    pub fn is_maxout(&self) -> bool {
        self.pieces > 1
    }

    pub fn has_dropout(&self) -> bool {
        self.input_keep < 1.0
    }
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
                .map(|i| {
                    let activation = if i + 1 == count { output } else { hidden };
                    LayerSpec::linear(sizes[i], sizes[i + 1], activation)
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

    /// Shapes of the parameters in order: W₀ [in, width], b₀ [width], W₁, b₁, ... where width
    /// is outputs × pieces.
    pub fn parameter_shapes(&self) -> Vec<Vec<usize>> {
        self.layers
            .iter()
            .flat_map(|l| [vec![l.inputs, l.width()], vec![l.width()]])
            .collect()
    }

    pub fn parameter_count(&self) -> usize {
        self.layers
            .iter()
            .map(|l| l.inputs * l.width() + l.width())
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
            check_dense(name, i, layer)?;
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

    /// A short description such as "100-256-512-1024-784", maxout layers as units×pieces
    /// ("784-240x5-240x5-1").
    pub fn sizes_text(&self) -> String {
        let mut sizes = vec![self.inputs().to_string()];
        sizes.extend(self.layers.iter().map(|l| {
            if l.is_maxout() {
                format!("{}x{}", l.outputs, l.pieces)
            } else {
                l.outputs.to_string()
            }
        }));
        sizes.join("-")
    }
}

/// Every check of dense layer `i` of network `name` on its own (sizes, slope, maxout, dropout,
/// initialisation).
pub(crate) fn check_dense(name: &str, i: usize, layer: &LayerSpec) -> Result<()> {
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
    layer_checks(name, i, layer)
}

/// The checks of one layer's maxout, dropout and initialisation settings.
fn layer_checks(name: &str, i: usize, layer: &LayerSpec) -> Result<()> {
    if layer.pieces == 0 {
        return Err(Error::Input(format!(
            "{name}: layer {i}: maxout pieces must be at least 1 (1 = a plain linear layer), found 0"
        )));
    }
    if layer.is_maxout() && layer.activation != Activation::Identity {
        return Err(Error::Input(format!(
            "{name}: layer {i}: a maxout layer ({} pieces) is its own nonlinearity; its activation \
             must be identity, found {:?}",
            layer.pieces, layer.activation
        )));
    }
    // Written so NaN fails too.
    if !(layer.input_keep > 0.0 && layer.input_keep <= 1.0) {
        return Err(Error::Input(format!(
            "{name}: layer {i}: the dropout keep probability must be in (0, 1] (1 = no dropout), \
             found {}",
            layer.input_keep
        )));
    }
    match layer.init {
        LayerInit::Torch => {}
        LayerInit::Normal { std } => {
            if !(std.is_finite() && std >= 0.0) {
                return Err(Error::Input(format!(
                    "{name}: layer {i}: the initial standard deviation must be a finite number ≥ 0, found {std}"
                )));
            }
        }
        LayerInit::Uniform { range } | LayerInit::UniformDataLogitBias { range } => {
            if !(range.is_finite() && range > 0.0) {
                return Err(Error::Input(format!(
                    "{name}: layer {i}: the initial weight range must be a positive number, found {range}"
                )));
            }
        }
    }
    if matches!(layer.init, LayerInit::UniformDataLogitBias { .. })
        && (layer.activation != Activation::Sigmoid || layer.is_maxout())
    {
        return Err(Error::Input(format!(
            "{name}: layer {i}: a bias from the data's logit mean needs a sigmoid output layer, \
             found {:?}",
            layer.activation
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one_layer(layer: LayerSpec) -> MlpSpec {
        MlpSpec {
            layers: vec![layer],
        }
    }

    #[test]
    fn layers_saved_before_maxout_and_dropout_still_load() {
        let old = r#"{"layers":[{"inputs":2,"outputs":3,"activation":{"leaky_relu":0.2}}]}"#;
        let spec: MlpSpec = serde_json::from_str(old).unwrap();
        assert_eq!(
            spec,
            one_layer(LayerSpec::linear(2, 3, Activation::LeakyRelu(0.2)))
        );
        let round_trip: MlpSpec =
            serde_json::from_str(&serde_json::to_string(&spec).unwrap()).unwrap();
        assert_eq!(round_trip, spec);
    }

    #[test]
    fn maxout_widens_the_linear_map() {
        let layer = LayerSpec {
            pieces: 5,
            ..LayerSpec::linear(784, 240, Activation::Identity)
        };
        let spec = one_layer(layer);
        assert_eq!(spec.parameter_shapes(), [vec![784, 1200], vec![1200]]);
        assert_eq!(spec.parameter_count(), 784 * 1200 + 1200);
        assert_eq!(spec.sizes_text(), "784-240x5");
        spec.validate("D").unwrap();
    }

    #[test]
    fn bad_maxout_dropout_and_init_settings_are_named() {
        let base = LayerSpec::linear(4, 2, Activation::Identity);
        let cases = [
            (
                LayerSpec {
                    pieces: 0,
                    ..base.clone()
                },
                "pieces must be at least 1",
            ),
            (
                LayerSpec {
                    pieces: 2,
                    activation: Activation::Relu,
                    ..base.clone()
                },
                "its own nonlinearity",
            ),
            (
                LayerSpec {
                    input_keep: 0.0,
                    ..base.clone()
                },
                "keep probability must be in (0, 1]",
            ),
            (
                LayerSpec {
                    input_keep: 1.5,
                    ..base.clone()
                },
                "found 1.5",
            ),
            (
                LayerSpec {
                    input_keep: f32::NAN,
                    ..base.clone()
                },
                "found NaN",
            ),
            (
                LayerSpec {
                    init: LayerInit::Uniform { range: -1.0 },
                    ..base.clone()
                },
                "initial weight range",
            ),
            (
                LayerSpec {
                    init: LayerInit::UniformDataLogitBias { range: 0.05 },
                    ..base.clone()
                },
                "needs a sigmoid output layer",
            ),
        ];
        for (layer, expected) in cases {
            let error = one_layer(layer).validate("D").unwrap_err().to_string();
            assert!(
                error.contains("D: layer 0") && error.contains(expected),
                "{error}"
            );
        }
    }
}
