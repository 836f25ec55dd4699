//! The layer kinds a network is a sequence of, as config.json writes them, with the shape each
//! makes of its input and the parameters and running buffers it owns (in their GPU layouts).
//!
//! A layer is written `{"kind": settings}` (`{"conv2d": {"in_channels": 1, ...}}`,
//! `{"activation": "relu"}`, `"flatten"`). The dense layer of the MLPs (a linear map with its
//! activation, maxout pieces and input dropout fused) is also written the way configs before
//! layer lists wrote it: a bare `{"inputs", "outputs", "activation", ...}` object.

use serde::{Deserialize, Serialize};

use super::spec::{LayerInit, LayerSpec};
use crate::kernels::Activation;

fn default_stride() -> usize {
    1
}

fn default_true() -> bool {
    true
}

/// `nn.Linear(inputs, outputs, bias=bias)`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LinearSpec {
    pub inputs: usize,
    pub outputs: usize,
    #[serde(default = "default_true", skip_serializing_if = "is_true")]
    pub bias: bool,
    #[serde(default)]
    pub init: LayerInit,
}

fn is_true(value: &bool) -> bool {
    *value
}

/// `nn.Conv2d` / `nn.ConvTranspose2d(in_channels, out_channels, kernel, stride, padding,
/// bias=bias)`: square kernels, dilation 1, one group.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConvSpec {
    pub in_channels: usize,
    pub out_channels: usize,
    pub kernel: usize,
    #[serde(default = "default_stride")]
    pub stride: usize,
    #[serde(default)]
    pub padding: usize,
    #[serde(default = "default_true")]
    pub bias: bool,
    #[serde(default)]
    pub init: LayerInit,
}

/// `nn.BatchNorm1d(features)` over [batch, features] or `nn.BatchNorm2d(features)` over
/// [batch, features, h, w] (which one follows from the input's shape); PyTorch's momentum 0.1 and
/// eps 1e-5.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BatchNormSpec {
    pub features: usize,
    /// `torch` (γ = 1, β = 0, PyTorch's default) or `{"normal": {"std": s}}` (γ ~ N(1, s), β = 0,
    /// the DCGAN initialisation).
    #[serde(default)]
    pub init: LayerInit,
}

/// Inverted dropout of the layer's input in training passes (`nn.Dropout(1 − keep)`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DropoutSpec {
    pub keep: f32,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Layer {
    /// The MLP layer: dropout of its input, a linear map, then its activation or maxout.
    Dense(LayerSpec),
    Linear(LinearSpec),
    Conv2d(ConvSpec),
    ConvTranspose2d(ConvSpec),
    BatchNorm(BatchNormSpec),
    Activation(Activation),
    /// [c, h, w] → [c·h·w] (`nn.Flatten()`).
    Flatten,
    /// [n] → the given shape (`nn.Unflatten(1, shape)`).
    Unflatten(Vec<usize>),
    Dropout(DropoutSpec),
}

impl ConvSpec {
    /// The output size of one axis: Conv2d (n + 2p − k) / s + 1, ConvTranspose2d
    /// (n − 1)·s − 2p + k; None where the kernel does not fit.
    pub fn output_size(&self, n: usize, transposed: bool) -> Option<usize> {
        if transposed {
            ((n - 1) * self.stride + self.kernel).checked_sub(2 * self.padding)
        } else {
            (n + 2 * self.padding)
                .checked_sub(self.kernel)
                .map(|span| span / self.stride + 1)
        }
    }

    /// Weight shape on the GPU (and in PyTorch, with the kernel axes flattened): Conv2d
    /// [out, in·k·k], ConvTranspose2d [in, out·k·k].
    pub fn weight_shape(&self, transposed: bool) -> Vec<usize> {
        let area = self.kernel * self.kernel;
        if transposed {
            vec![self.in_channels, self.out_channels * area]
        } else {
            vec![self.out_channels, self.in_channels * area]
        }
    }

    /// PyTorch's fan_in of the weight (its dimension 1 times the kernel area), the bound of its
    /// default initialisation.
    pub fn fan_in(&self, transposed: bool) -> usize {
        let area = self.kernel * self.kernel;
        if transposed {
            self.out_channels * area
        } else {
            self.in_channels * area
        }
    }
}

impl Layer {
    /// The PyTorch module name, for messages and the README.
    pub fn kind_name(&self) -> &'static str {
        match self {
            Layer::Dense(_) => "dense",
            Layer::Linear(_) => "linear",
            Layer::Conv2d(_) => "conv2d",
            Layer::ConvTranspose2d(_) => "conv_transpose2d",
            Layer::BatchNorm(_) => "batch_norm",
            Layer::Activation(_) => "activation",
            Layer::Flatten => "flatten",
            Layer::Unflatten(_) => "unflatten",
            Layer::Dropout(_) => "dropout",
        }
    }

    /// Modules the layer takes in a `torch.nn.Sequential`, which numbers its children: a dense
    /// layer is Linear then its activation (2), dropout takes none (the convention of the MLP
    /// checkpoints, kept so they load unchanged), every other layer one.
    pub fn torch_modules(&self) -> usize {
        match self {
            Layer::Dense(_) => 2,
            Layer::Dropout(_) => 0,
            _ => 1,
        }
    }

    /// The shape of one example after this layer, from the shape before it; Err says why they
    /// do not fit.
    pub fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>, String> {
        let flat = |what: &str, features: usize| -> Result<Vec<usize>, String> {
            match input {
                [n] if *n == features => Ok(vec![]),
                [n] => Err(format!("{what} takes {features} features, found {n}")),
                _ => Err(format!(
                    "{what} takes a flat input of {features} features, found shape {input:?} \
                     (add a flatten layer before it)"
                )),
            }
        };
        match self {
            Layer::Dense(layer) => {
                flat("dense", layer.inputs)?;
                Ok(vec![layer.outputs])
            }
            Layer::Linear(layer) => {
                flat("linear", layer.inputs)?;
                Ok(vec![layer.outputs])
            }
            Layer::Conv2d(conv) | Layer::ConvTranspose2d(conv) => {
                let transposed = matches!(self, Layer::ConvTranspose2d(_));
                let [c, h, w] = input else {
                    return Err(format!(
                        "{} takes [channels, height, width], found shape {input:?} (add an \
                         unflatten layer before it)",
                        self.kind_name()
                    ));
                };
                if *c != conv.in_channels {
                    return Err(format!(
                        "{} takes {} channels, found {c}",
                        self.kind_name(),
                        conv.in_channels
                    ));
                }
                let size = |n| {
                    conv.output_size(n, transposed)
                        .filter(|&s| s > 0)
                        .ok_or_else(|| {
                            format!(
                                "kernel {} with padding {} does not fit a {h}×{w} input",
                                conv.kernel, conv.padding
                            )
                        })
                };
                Ok(vec![conv.out_channels, size(*h)?, size(*w)?])
            }
            Layer::BatchNorm(bn) => match input {
                [c] | [c, _, _] if *c == bn.features => Ok(input.to_vec()),
                _ => Err(format!(
                    "batch_norm of {} features takes [{0}] or [{0}, height, width], found \
                     shape {input:?}",
                    bn.features
                )),
            },
            Layer::Activation(_) | Layer::Dropout(_) => Ok(input.to_vec()),
            Layer::Flatten => Ok(vec![input.iter().product()]),
            Layer::Unflatten(shape) => {
                let (from, to): (usize, usize) = (input.iter().product(), shape.iter().product());
                if from == to {
                    Ok(shape.clone())
                } else {
                    Err(format!(
                        "unflatten to {shape:?} ({to} values) takes {to} values, found {from}"
                    ))
                }
            }
        }
    }

    /// Trainable tensors in their GPU layout: weight then bias (dense and linear W [in, out],
    /// convolutions as `ConvSpec::weight_shape`, batch norm γ then β).
    pub fn parameter_shapes(&self) -> Vec<Vec<usize>> {
        match self {
            Layer::Dense(l) => vec![vec![l.inputs, l.width()], vec![l.width()]],
            Layer::Linear(l) if l.bias => vec![vec![l.inputs, l.outputs], vec![l.outputs]],
            Layer::Linear(l) => vec![vec![l.inputs, l.outputs]],
            Layer::Conv2d(c) | Layer::ConvTranspose2d(c) => {
                let mut shapes = vec![c.weight_shape(matches!(self, Layer::ConvTranspose2d(_)))];
                if c.bias {
                    shapes.push(vec![c.out_channels]);
                }
                shapes
            }
            Layer::BatchNorm(bn) => vec![vec![bn.features]; 2],
            _ => vec![],
        }
    }

    /// Running buffers (not trained): batch norm's running mean and running variance.
    pub fn buffer_shapes(&self) -> Vec<Vec<usize>> {
        match self {
            Layer::BatchNorm(bn) => vec![vec![bn.features]; 2],
            _ => vec![],
        }
    }

    /// The dense layer this is, if it is a linear map with an elementwise activation (a linear
    /// layer is a dense one with no activation).
    pub fn as_dense(&self) -> Option<LayerSpec> {
        match self {
            Layer::Dense(layer) => Some(layer.clone()),
            Layer::Linear(l) => Some(LayerSpec {
                init: l.init,
                ..LayerSpec::linear(l.inputs, l.outputs, Activation::Identity)
            }),
            _ => None,
        }
    }

    /// The activation applied last by this layer, if it applies one.
    pub fn activation(&self) -> Option<Activation> {
        match self {
            Layer::Dense(l) if !l.is_maxout() => Some(l.activation),
            Layer::Activation(a) => Some(*a),
            _ => None,
        }
    }

    /// Whether the layer draws random numbers in training passes (dropout).
    pub fn has_dropout(&self) -> bool {
        match self {
            Layer::Dense(l) => l.has_dropout(),
            Layer::Dropout(d) => d.keep < 1.0,
            _ => false,
        }
    }

    /// The checks of the layer's own settings (shapes are checked by the network).
    pub fn validate(&self) -> Result<(), String> {
        let positive = |what: &str, value: usize| {
            if value == 0 {
                Err(format!(
                    "{} {what} must be at least 1, found 0",
                    self.kind_name()
                ))
            } else {
                Ok(())
            }
        };
        match self {
            Layer::Dense(_) => Ok(()), // checked by spec::layer_checks
            Layer::Linear(l) => {
                positive("inputs", l.inputs)?;
                positive("outputs", l.outputs)?;
                check_init(l.init, false)
            }
            Layer::Conv2d(c) | Layer::ConvTranspose2d(c) => {
                positive("in_channels", c.in_channels)?;
                positive("out_channels", c.out_channels)?;
                positive("kernel", c.kernel)?;
                positive("stride", c.stride)?;
                check_init(c.init, false)
            }
            Layer::BatchNorm(bn) => {
                positive("features", bn.features)?;
                check_init(bn.init, true)
            }
            Layer::Activation(Activation::LeakyRelu(slope))
                if !(slope.is_finite() && *slope > 0.0) =>
            {
                Err(format!("LeakyReLU slope must be positive, found {slope}"))
            }
            Layer::Unflatten(shape) if shape.is_empty() || shape.contains(&0) => Err(format!(
                "unflatten needs a shape of sizes ≥ 1, found {shape:?}"
            )),
            // Written so NaN fails too.
            Layer::Dropout(d) if !(d.keep > 0.0 && d.keep <= 1.0) => Err(format!(
                "the dropout keep probability must be in (0, 1] (1 = no dropout), found {}",
                d.keep
            )),
            _ => Ok(()),
        }
    }
}

/// Which initialisations a layer other than dense accepts: PyTorch's default, or N(0, std)
/// weights (N(1, std) for batch norm's γ) with zero biases as in DCGAN.
fn check_init(init: LayerInit, batch_norm: bool) -> Result<(), String> {
    match init {
        LayerInit::Torch => Ok(()),
        LayerInit::Normal { std } if std.is_finite() && std >= 0.0 => Ok(()),
        LayerInit::Normal { std } => Err(format!(
            "the initial standard deviation must be a finite number ≥ 0, found {std}"
        )),
        LayerInit::Uniform { .. } | LayerInit::UniformDataLogitBias { .. } if !batch_norm => {
            Err("uniform initialisations are for dense layers; use torch or normal".into())
        }
        _ => Err("batch_norm initialises as torch (γ = 1) or normal (γ ~ N(1, std))".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conv(kernel: usize, stride: usize, padding: usize) -> ConvSpec {
        ConvSpec {
            in_channels: 3,
            out_channels: 5,
            kernel,
            stride,
            padding,
            bias: true,
            init: LayerInit::Torch,
        }
    }

    #[test]
    fn convolutions_size_their_outputs_as_pytorch() {
        let c = Layer::Conv2d(conv(4, 2, 1));
        assert_eq!(c.output_shape(&[3, 28, 28]).unwrap(), [5, 14, 14]);
        assert_eq!(c.output_shape(&[3, 13, 9]).unwrap(), [5, 6, 4]);
        let t = Layer::ConvTranspose2d(conv(4, 2, 1));
        assert_eq!(t.output_shape(&[3, 7, 7]).unwrap(), [5, 14, 14]);
        assert_eq!(
            Layer::Conv2d(conv(5, 1, 0))
                .output_shape(&[3, 13, 9])
                .unwrap(),
            [5, 9, 5]
        );
        let error = Layer::Conv2d(conv(5, 1, 0))
            .output_shape(&[3, 3, 3])
            .unwrap_err();
        assert!(error.contains("does not fit a 3×3"), "{error}");
        let error = c.output_shape(&[2, 28, 28]).unwrap_err();
        assert!(error.contains("takes 3 channels, found 2"), "{error}");
        let error = c.output_shape(&[2352]).unwrap_err();
        assert!(error.contains("unflatten"), "{error}");
    }

    #[test]
    fn layers_are_written_as_kind_and_settings() {
        let layers = vec![
            Layer::Linear(LinearSpec {
                inputs: 100,
                outputs: 6272,
                bias: true,
                init: LayerInit::Torch,
            }),
            Layer::Activation(Activation::LeakyRelu(0.2)),
            Layer::Flatten,
            Layer::Unflatten(vec![128, 7, 7]),
        ];
        let text = serde_json::to_string(&layers).unwrap();
        assert!(
            text.contains(r#"{"activation":{"leaky_relu":0.2}}"#),
            "{text}"
        );
        assert!(text.contains(r#""flatten""#), "{text}");
        let back: Vec<Layer> = serde_json::from_str(&text).unwrap();
        assert_eq!(back, layers);
        let conv: Layer = serde_json::from_str(
            r#"{"conv2d": {"in_channels": 1, "out_channels": 64, "kernel": 4}}"#,
        )
        .unwrap();
        assert_eq!(
            conv,
            Layer::Conv2d(ConvSpec {
                in_channels: 1,
                out_channels: 64,
                kernel: 4,
                stride: 1,
                padding: 0,
                bias: true,
                init: LayerInit::Torch
            })
        );
    }
}
