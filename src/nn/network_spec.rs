//! A network's description: the shape of one input example and the layer sequence, with the
//! shape of every activation inferred layer by layer (a clear error names the layer whose shapes
//! do not fit). config.json holds one for G and one for D; MLP configs written before layer
//! lists (bare dense-layer objects) load unchanged.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::layer::Layer;
use super::spec::{LayerSpec, MlpSpec, check_dense};
use crate::error::{Error, Result};
use crate::kernels::Activation;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NetworkSpec {
    /// The shape of one input example ([features], or [channels, height, width]); empty: the
    /// first layer's flat input (a dense or linear layer's `inputs`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub input: Vec<usize>,
    #[serde(serialize_with = "write_layers", deserialize_with = "read_layers")]
    pub layers: Vec<Layer>,
}

/// Dense layers are written as bare objects, as every MLP config before layer lists was.
fn write_layers<S: Serializer>(
    layers: &[Layer],
    serializer: S,
) -> std::result::Result<S::Ok, S::Error> {
    #[derive(Serialize)]
    #[serde(untagged)]
    enum Written<'a> {
        Dense(&'a LayerSpec),
        Other(&'a Layer),
    }
    serializer.collect_seq(layers.iter().map(|layer| match layer {
        Layer::Dense(dense) => Written::Dense(dense),
        other => Written::Other(other),
    }))
}

fn read_layers<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> std::result::Result<Vec<Layer>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Read {
        Dense(LayerSpec),
        Other(Layer),
    }
    let read = Vec::<Read>::deserialize(deserializer)?;
    Ok(read
        .into_iter()
        .map(|layer| match layer {
            Read::Dense(dense) => Layer::Dense(dense),
            Read::Other(other) => other,
        })
        .collect())
}

impl From<MlpSpec> for NetworkSpec {
    fn from(mlp: MlpSpec) -> NetworkSpec {
        NetworkSpec {
            input: Vec::new(),
            layers: mlp.layers.into_iter().map(Layer::Dense).collect(),
        }
    }
}

impl NetworkSpec {
    pub fn new(input: &[usize], layers: Vec<Layer>) -> NetworkSpec {
        NetworkSpec {
            input: input.to_vec(),
            layers,
        }
    }

    /// The shape of one input example.
    pub fn input_shape(&self) -> Vec<usize> {
        if !self.input.is_empty() {
            return self.input.clone();
        }
        match self.layers.first().and_then(Layer::as_dense) {
            Some(dense) => vec![dense.inputs],
            None => Vec::new(),
        }
    }

    /// Values in one input example.
    pub fn inputs(&self) -> usize {
        self.input_shape().iter().product()
    }

    /// The shape of each layer's output for one example; panics on a spec that fails
    /// [`NetworkSpec::validate`].
    pub fn shapes(&self) -> Vec<Vec<usize>> {
        self.try_shapes("network")
            .expect("a validated network spec has consistent shapes")
    }

    fn try_shapes(&self, name: &str) -> Result<Vec<Vec<usize>>> {
        let mut shape = self.input_shape();
        if shape.is_empty() || shape.contains(&0) {
            return Err(Error::Input(format!(
                "{name}: the input shape must be given (\"input\": [channels, height, width]) \
                 unless the first layer is dense or linear, and have no zero size; found {shape:?}"
            )));
        }
        let mut shapes = Vec::with_capacity(self.layers.len());
        for (i, layer) in self.layers.iter().enumerate() {
            shape = layer.output_shape(&shape).map_err(|why| {
                Error::Input(format!("{name}: layer {i} ({}): {why}", layer.kind_name()))
            })?;
            shapes.push(shape.clone());
        }
        Ok(shapes)
    }

    /// The same network taking `extra` more input channels (input features, for a flat
    /// input): how a conditional GAN appends a one-hot label, K values after a feature vector
    /// or K constant channels after a [C, H, W] image. The first layer, where the inputs enter,
    /// must be dense, linear or a convolution; the error is prefixed by `name`.
    pub fn with_extra_input_channels(&self, extra: usize, name: &str) -> Result<NetworkSpec> {
        let mut spec = self.clone();
        let flat_input = self.input_shape().len() == 1;
        if !spec.input.is_empty() {
            spec.input[0] += extra;
        }
        match spec.layers.first_mut() {
            Some(Layer::Dense(dense)) if flat_input => dense.inputs += extra,
            Some(Layer::Linear(linear)) if flat_input => linear.inputs += extra,
            Some(Layer::Conv2d(conv) | Layer::ConvTranspose2d(conv)) => conv.in_channels += extra,
            first => {
                return Err(Error::Input(format!(
                    "{name}: the first layer ({}) on input {:?} cannot take extra input \
                     channels; it must be dense or linear on a flat input, or a convolution",
                    first.map_or("none", |l| l.kind_name()),
                    self.input_shape()
                )));
            }
        }
        spec.validate(name)?;
        Ok(spec)
    }

    /// The shape of one output example.
    pub fn output_shape(&self) -> Vec<usize> {
        self.shapes().pop().unwrap_or_else(|| self.input_shape())
    }

    /// Values in one output example.
    pub fn outputs(&self) -> usize {
        self.output_shape().iter().product()
    }

    /// The activation the network ends in (identity when its last layer applies none).
    pub fn output_activation(&self) -> Activation {
        self.layers
            .iter()
            .rev()
            .find_map(|layer| match layer {
                Layer::Flatten | Layer::Unflatten(_) | Layer::Dropout(_) => None,
                other => Some(other.activation().unwrap_or(Activation::Identity)),
            })
            .unwrap_or(Activation::Identity)
    }

    /// Trainable tensors in order, layer by layer (see `Layer::parameter_shapes`).
    pub fn parameter_shapes(&self) -> Vec<Vec<usize>> {
        self.layers
            .iter()
            .flat_map(Layer::parameter_shapes)
            .collect()
    }

    pub fn parameter_count(&self) -> usize {
        self.parameter_shapes()
            .iter()
            .map(|s| s.iter().product::<usize>())
            .sum()
    }

    /// Running buffers in order (batch norm's running mean and variance).
    pub fn buffer_shapes(&self) -> Vec<Vec<usize>> {
        self.layers.iter().flat_map(Layer::buffer_shapes).collect()
    }

    /// The index of each layer's first tensor in `parameter_shapes` order.
    pub fn parameter_starts(&self) -> Vec<usize> {
        self.starts(|l| l.parameter_shapes().len())
    }

    /// The index of each layer's first tensor in `buffer_shapes` order.
    pub fn buffer_starts(&self) -> Vec<usize> {
        self.starts(|l| l.buffer_shapes().len())
    }

    fn starts(&self, count: fn(&Layer) -> usize) -> Vec<usize> {
        self.layers
            .iter()
            .scan(0, |next, layer| {
                let start = *next;
                *next += count(layer);
                Some(start)
            })
            .collect()
    }

    /// The MLP this is, when every layer is dense.
    pub fn as_mlp(&self) -> Option<MlpSpec> {
        let layers = self
            .layers
            .iter()
            .map(|layer| match layer {
                Layer::Dense(dense) => Some(dense.clone()),
                _ => None,
            })
            .collect::<Option<Vec<_>>>()?;
        Some(MlpSpec { layers })
    }

    /// Whether any layer is a batch norm (whose training passes use batch statistics).
    pub fn has_batch_norm(&self) -> bool {
        self.layers.iter().any(|l| matches!(l, Layer::BatchNorm(_)))
    }

    /// The first batch-norm layer over flat [features] (BatchNorm1d), whose training passes
    /// need a batch of at least 2.
    pub fn batch_norm_over_features(&self) -> Option<usize> {
        let shapes = self.shapes();
        (0..self.layers.len()).find(|&i| {
            let input = if i == 0 {
                self.input_shape()
            } else {
                shapes[i - 1].clone()
            };
            matches!(self.layers[i], Layer::BatchNorm(_)) && input.len() == 1
        })
    }

    /// The index of each layer's first module in a `torch.nn.Sequential` of the same layers.
    pub fn torch_indices(&self) -> Vec<usize> {
        let mut next = 0;
        self.layers
            .iter()
            .map(|layer| {
                let index = next;
                next += layer.torch_modules();
                index
            })
            .collect()
    }

    /// Checks every layer's settings and that consecutive shapes fit; `name` is the network's.
    pub fn validate(&self, name: &str) -> Result<()> {
        if self.layers.is_empty() {
            return Err(Error::Input(format!(
                "{name}: a network needs at least one layer"
            )));
        }
        if let Some(mlp) = self.as_mlp() {
            // Dense-only networks keep the MLP's checks and messages.
            return mlp.validate(name);
        }
        for (i, layer) in self.layers.iter().enumerate() {
            if let Layer::Dense(dense) = layer {
                check_dense(name, i, dense)?;
            }
            layer.validate().map_err(|why| {
                Error::Input(format!("{name}: layer {i} ({}): {why}", layer.kind_name()))
            })?;
        }
        self.try_shapes(name).map(|_| ())
    }

    /// A short description: "100-256-512-1024-784" for MLPs (maxout layers as units×pieces),
    /// else the shapes layer by layer ("[100] → linear [6272] → ... → [1, 28, 28]").
    pub fn sizes_text(&self) -> String {
        if let Some(mlp) = self.as_mlp() {
            return mlp.sizes_text();
        }
        let mut text = format!("{:?}", self.input_shape());
        match self.try_shapes("network") {
            Ok(shapes) => {
                for (layer, shape) in self.layers.iter().zip(shapes) {
                    match layer {
                        Layer::Activation(a) => text.push_str(&format!(" {a:?}")),
                        other => text.push_str(&format!(" → {} {shape:?}", other.kind_name())),
                    }
                }
            }
            Err(e) => text.push_str(&format!(" ({e})")),
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::layer::{ConvSpec, LinearSpec};
    use crate::nn::spec::LayerInit;

    /// A conditional GAN's label: K more features for an MLP, K more channels for a
    /// convolution (and for a conv G's [noise, 1, 1] input); refused where inputs enter through
    /// a reshape.
    #[test]
    fn extra_input_channels_widen_the_first_layer() {
        use crate::gan::conv_nets::{dcgan_discriminator, dcgan64_generator};
        let mlp: NetworkSpec =
            MlpSpec::from_sizes(&[784, 16, 1], Activation::Relu, Activation::Identity).into();
        let wide = mlp.with_extra_input_channels(10, "d").unwrap();
        assert_eq!((wide.inputs(), wide.output_shape()), (794, vec![1]));
        let conv = dcgan_discriminator(1, 4, true);
        let wide = conv.with_extra_input_channels(10, "d").unwrap();
        assert_eq!(wide.input_shape(), [11, 28, 28]);
        assert_eq!(wide.output_shape(), conv.output_shape());
        let g = dcgan64_generator(100, 3, 2);
        let wide = g.with_extra_input_channels(10, "g").unwrap();
        assert_eq!(
            (wide.inputs(), wide.output_shape()),
            (110, g.output_shape())
        );
        let linear = Layer::Linear(LinearSpec {
            inputs: 16,
            outputs: 1,
            bias: true,
            init: LayerInit::Torch,
        });
        let reshaped = NetworkSpec::new(&[1, 4, 4], vec![Layer::Flatten, linear]);
        let error = reshaped
            .with_extra_input_channels(2, "--conditional: discriminator")
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("--conditional: discriminator") && error.contains("flatten"),
            "{error}"
        );
    }

    #[test]
    fn mlp_configs_from_before_layer_lists_load_and_write_unchanged() {
        let old = r#"{"layers":[{"inputs":2,"outputs":3,"activation":{"leaky_relu":0.2},"pieces":1,"input_keep":1.0,"init":"torch"}]}"#;
        let spec: NetworkSpec = serde_json::from_str(old).unwrap();
        assert_eq!(
            spec,
            NetworkSpec::from(MlpSpec::from_sizes(
                &[2, 3],
                Activation::LeakyRelu(0.2),
                Activation::LeakyRelu(0.2)
            ))
        );
        assert_eq!(serde_json::to_string(&spec).unwrap(), old);
        assert_eq!(spec.input_shape(), [2]);
        assert_eq!(spec.torch_indices(), [0]);
    }

    #[test]
    fn shapes_are_inferred_and_a_misfit_names_its_layer() {
        let conv = |i, o| ConvSpec {
            in_channels: i,
            out_channels: o,
            kernel: 4,
            stride: 2,
            padding: 1,
            bias: true,
            init: LayerInit::Torch,
        };
        let mut spec = NetworkSpec::new(
            &[1, 28, 28],
            vec![
                Layer::Conv2d(conv(1, 64)),
                Layer::Activation(Activation::LeakyRelu(0.2)),
                Layer::Conv2d(conv(64, 128)),
                Layer::Flatten,
                Layer::Linear(LinearSpec {
                    inputs: 6272,
                    outputs: 1,
                    bias: true,
                    init: LayerInit::Torch,
                }),
            ],
        );
        spec.validate("D").unwrap();
        assert_eq!(spec.output_shape(), [1]);
        assert_eq!(spec.shapes()[2], [128, 7, 7]);
        assert_eq!(spec.torch_indices(), [0, 1, 2, 3, 4]);
        spec.layers[2] = Layer::Conv2d(conv(32, 128));
        let error = spec.validate("D").unwrap_err().to_string();
        assert!(
            error.contains("D: layer 2 (conv2d): conv2d takes 32 channels, found 64"),
            "{error}"
        );
    }
}
