//! A trained generator as an ONNX model (opset 13): input `z` [batch, noise_dim] with a
//! dynamic batch, output [batch, C, H, W] images (or [batch, 2] points for a toy set) in the
//! generator's own pixel range, exactly what `gan-gpu sample --noise z.npy --format npy` writes.
//!
//! Each layer maps to standard operators in evaluation form, the way `sample` runs G: dense
//! and linear layers to Gemm (weights [in, out], as the GPU keeps them), maxout to Reshape and
//! ReduceMax over each unit's pieces, conv2d / conv_transpose2d to Conv / ConvTranspose
//! (PyTorch's weight layouts are ONNX's), batch norm to BatchNormalization with the running
//! statistics (eps 1e-5), activations to Relu / LeakyRelu / Tanh / Sigmoid, flatten and
//! unflatten to Flatten / Reshape; dropout is the identity when sampling, so it adds no node.

use std::path::Path;

use prost::Message;

use super::onnx_proto::*;
use crate::error::{Error, Result};
use crate::gan::DataSource;
use crate::gan::checkpoint::GeneratorFile;
use crate::kernels::Activation;
use crate::kernels::data::PixelRange;
use crate::nn::layer::Layer;

/// The opset the graph is written against (ReduceMax still takes `axes` as an attribute).
pub const OPSET: i64 = 13;
/// IR version 7 is the one that goes with opset 13.
pub const IR_VERSION: i64 = 7;
/// PyTorch's batch-norm epsilon, which the GPU kernels use too.
const BATCH_NORM_EPS: f32 = 1e-5;

/// Builds the graph node by node; `current` names the tensor the next layer reads.
struct GraphBuilder {
    nodes: Vec<NodeProto>,
    initializers: Vec<TensorProto>,
    current: String,
}

fn attr_ints(name: &str, ints: &[i64]) -> AttributeProto {
    AttributeProto {
        name: name.into(),
        r#type: ATTRIBUTE_INTS,
        ints: ints.to_vec(),
        ..Default::default()
    }
}

fn attr_int(name: &str, i: i64) -> AttributeProto {
    AttributeProto {
        name: name.into(),
        r#type: ATTRIBUTE_INT,
        i,
        ..Default::default()
    }
}

fn attr_float(name: &str, f: f32) -> AttributeProto {
    AttributeProto {
        name: name.into(),
        r#type: ATTRIBUTE_FLOAT,
        f,
        ..Default::default()
    }
}

impl GraphBuilder {
    /// A float initializer named `name` of `dims` holding `values`.
    fn weight(&mut self, name: String, dims: &[usize], values: &[f32]) -> Result<String> {
        let expected: usize = dims.iter().product();
        if values.len() != expected {
            return Err(Error::Input(format!(
                "ONNX export: {name} holds {} values, its shape {dims:?} needs {expected}",
                values.len()
            )));
        }
        self.initializers.push(TensorProto {
            dims: dims.iter().map(|&d| d as i64).collect(),
            data_type: DATA_FLOAT,
            raw_data: values.iter().flat_map(|v| v.to_le_bytes()).collect(),
            name: name.clone(),
            ..Default::default()
        });
        Ok(name)
    }

    /// An int64 shape constant.
    fn shape(&mut self, name: String, shape: &[i64]) -> String {
        self.initializers.push(TensorProto {
            dims: vec![shape.len() as i64],
            data_type: DATA_INT64,
            int64_data: shape.to_vec(),
            name: name.clone(),
            ..Default::default()
        });
        name
    }

    /// Append `op_type` reading the current tensor (then `extra_inputs`); its output becomes
    /// the current tensor.
    fn node(
        &mut self,
        name: String,
        op_type: &str,
        extra_inputs: Vec<String>,
        attribute: Vec<AttributeProto>,
    ) {
        let output = name.clone();
        let mut input = vec![std::mem::replace(&mut self.current, output.clone())];
        input.extend(extra_inputs);
        self.nodes.push(NodeProto {
            input,
            output: vec![output],
            name,
            op_type: op_type.into(),
            attribute,
            doc_string: String::new(),
        });
    }

    /// Reshape to [batch, shape...].
    fn reshape(&mut self, name: String, shape: &[usize]) {
        let mut dims = vec![-1i64];
        dims.extend(shape.iter().map(|&d| d as i64));
        let constant = self.shape(format!("{name}.shape"), &dims);
        self.node(name, "Reshape", vec![constant], vec![]);
    }

    fn activation(&mut self, name: String, activation: Activation) {
        match activation {
            Activation::Identity => {}
            Activation::Relu => self.node(name, "Relu", vec![], vec![]),
            Activation::LeakyRelu(slope) => {
                self.node(name, "LeakyRelu", vec![], vec![attr_float("alpha", slope)])
            }
            Activation::Tanh => self.node(name, "Tanh", vec![], vec![]),
            Activation::Sigmoid => self.node(name, "Sigmoid", vec![], vec![]),
        }
    }
}

fn dim(size: usize) -> Dimension {
    Dimension {
        value: Some(DimensionValue::DimValue(size as i64)),
    }
}

/// A float tensor value [batch, shape...] with a dynamic batch.
fn batch_value(name: &str, shape: &[usize], doc: String) -> ValueInfoProto {
    let mut dims = vec![Dimension {
        value: Some(DimensionValue::DimParam("batch".into())),
    }];
    dims.extend(shape.iter().map(|&d| dim(d)));
    ValueInfoProto {
        name: name.into(),
        r#type: Some(TypeProto {
            tensor_type: Some(TypeProtoTensor {
                elem_type: DATA_FLOAT,
                shape: Some(TensorShapeProto { dim: dims }),
            }),
        }),
        doc_string: doc,
    }
}

/// The shape of one generated example as `sample` lays it out: [C, H, W] for images (a flat
/// MLP output as a square gray or RGB image, as `sample` draws its grid), [features] for toys.
pub fn example_shape(file: &GeneratorFile) -> Result<Vec<usize>> {
    let shape = file.config.generator.output_shape();
    if shape.len() == 3 {
        return Ok(shape);
    }
    let features: usize = shape.iter().product();
    match &file.config.data {
        DataSource::Toy(_) => Ok(vec![features]),
        DataSource::Folder(_) => {
            for channels in [1, 3] {
                let side = ((features / channels) as f64).sqrt().round() as usize;
                if side * side * channels == features {
                    return Ok(vec![channels, side, side]);
                }
            }
            Err(Error::invalid(
                &file.path,
                "generator output",
                "[C, H, W] or C·H·W values of a square gray or RGB image",
                format!("{features} values"),
            ))
        }
    }
}

/// The generator of `file` as an ONNX model.
pub fn generator_model(file: &GeneratorFile) -> Result<ModelProto> {
    let config = &file.config;
    let spec = &config.generator;
    spec.validate("generator")?;
    let output_shape = example_shape(file)?;
    let mut graph = GraphBuilder {
        nodes: Vec::new(),
        initializers: Vec::new(),
        current: "z".into(),
    };
    let mut params = file.values.params.iter();
    let mut buffers = file.values.buffers.iter();
    let mut next_param = |what: &str, i: usize| {
        params.next().ok_or_else(|| {
            Error::invalid(&file.path, format!("layer {i} {what}"), "a tensor", "none")
        })
    };
    let input = spec.input_shape();
    if input.len() > 1 {
        // dcgan64 takes its noise (and label) as [inputs, 1, 1].
        graph.reshape("input".into(), &input);
    }
    let indices = spec.torch_indices();
    for (i, layer) in spec.layers.iter().enumerate() {
        // Node and tensor names follow the nn.Sequential module index of the checkpoint.
        let name = |suffix: &str| format!("{}.{suffix}", indices[i]);
        match layer {
            Layer::Dense(_) | Layer::Linear(_) => {
                let dense = layer.as_dense().expect("dense or linear");
                let width = dense.width();
                let w = graph.weight(
                    name("weight"),
                    &[dense.inputs, width],
                    next_param("weight", i)?,
                )?;
                let mut inputs = vec![w];
                if layer.parameter_shapes().len() > 1 {
                    inputs.push(graph.weight(name("bias"), &[width], next_param("bias", i)?)?);
                }
                graph.node(name("gemm"), "Gemm", inputs, vec![]);
                if dense.is_maxout() {
                    // Unit u's pieces are columns u·pieces .. u·pieces + pieces − 1.
                    graph.reshape(name("pieces"), &[dense.outputs, dense.pieces]);
                    graph.node(
                        name("maxout"),
                        "ReduceMax",
                        vec![],
                        vec![attr_ints("axes", &[2]), attr_int("keepdims", 0)],
                    );
                }
                // A dense layer's activation is module index + 1 in PyTorch.
                let activation_name = format!("{}.{}", indices[i] + 1, "act");
                if !dense.is_maxout() {
                    graph.activation(activation_name, dense.activation);
                }
            }
            Layer::Conv2d(c) | Layer::ConvTranspose2d(c) => {
                let transposed = matches!(layer, Layer::ConvTranspose2d(_));
                let (rows, cols) = if transposed {
                    (c.in_channels, c.out_channels)
                } else {
                    (c.out_channels, c.in_channels)
                };
                let w = graph.weight(
                    name("weight"),
                    &[rows, cols, c.kernel, c.kernel],
                    next_param("weight", i)?,
                )?;
                let mut inputs = vec![w];
                if c.bias {
                    inputs.push(graph.weight(
                        name("bias"),
                        &[c.out_channels],
                        next_param("bias", i)?,
                    )?);
                }
                let (k, s, p) = (c.kernel as i64, c.stride as i64, c.padding as i64);
                let attributes = vec![
                    attr_ints("kernel_shape", &[k, k]),
                    attr_ints("strides", &[s, s]),
                    attr_ints("pads", &[p, p, p, p]),
                ];
                let op = if transposed { "ConvTranspose" } else { "Conv" };
                graph.node(name("conv"), op, inputs, attributes);
            }
            Layer::BatchNorm(bn) => {
                let n = [bn.features];
                let scale = graph.weight(name("weight"), &n, next_param("weight", i)?)?;
                let bias = graph.weight(name("bias"), &n, next_param("bias", i)?)?;
                let missing =
                    || Error::invalid(&file.path, format!("layer {i} running stats"), "2", "none");
                let mean = buffers.next().ok_or_else(missing)?;
                let var = buffers.next().ok_or_else(missing)?;
                let mean = graph.weight(name("running_mean"), &n, mean)?;
                let var = graph.weight(name("running_var"), &n, var)?;
                graph.node(
                    name("batch_norm"),
                    "BatchNormalization",
                    vec![scale, bias, mean, var],
                    vec![attr_float("epsilon", BATCH_NORM_EPS)],
                );
            }
            Layer::Activation(a) => graph.activation(name("act"), *a),
            Layer::Flatten => graph.node(
                name("flatten"),
                "Flatten",
                vec![],
                vec![attr_int("axis", 1)],
            ),
            Layer::Unflatten(shape) => graph.reshape(name("unflatten"), shape),
            Layer::Dropout(_) => {} // the identity when sampling
        }
    }
    if spec.output_shape() != output_shape {
        graph.reshape("output.reshape".into(), &output_shape);
    }
    // The graph's output is called "images" (or "points" for toy sets): rename the last tensor
    // with an Identity so the name does not depend on the layers.
    let output_name = if output_shape.len() == 3 {
        "images"
    } else {
        "points"
    };
    graph.node(format!("{output_name}.out"), "Identity", vec![], vec![]);
    graph.nodes.last_mut().expect("an Identity node").output = vec![output_name.to_string()];

    let (low, high) = config.pixel_range.bounds();
    let range_text = match config.pixel_range {
        PixelRange::ZeroToOne => "zero_to_one",
        PixelRange::MinusOneToOne => "minus_one_to_one",
    };
    let output_doc = match &config.data {
        DataSource::Folder(_) => format!("generated images, pixel values in [{low}, {high}]"),
        DataSource::Toy(set) => format!("generated points of the {set} toy set"),
    };
    // G's input: the noise, then for a conditional run the one-hot class label.
    let prior = crate::gan::Prior::of(config);
    let noise_text = prior.describe_noise();
    let input_doc = match prior.classes {
        None => format!("{noise_text}, {} dimensions", prior.noise_dim),
        Some(k) => format!(
            "{noise_text}, {} dimensions, followed by a one-hot class label of {k}",
            prior.noise_dim
        ),
    };
    let graph = GraphProto {
        node: graph.nodes,
        name: "gan-gpu generator".into(),
        initializer: graph.initializers,
        doc_string: format!("exported from {}", file.path.display()),
        input: vec![batch_value("z", &[prior.input_dim()], input_doc.clone())],
        output: vec![batch_value(output_name, &output_shape, output_doc)],
    };
    Ok(ModelProto {
        ir_version: IR_VERSION,
        opset_import: vec![OperatorSetIdProto {
            domain: String::new(),
            version: OPSET,
        }],
        producer_name: "gan-gpu".into(),
        producer_version: env!("CARGO_PKG_VERSION").into(),
        doc_string: "The generator of a gan-gpu run, in evaluation mode".into(),
        graph: Some(graph),
        metadata_props: vec![
            StringStringEntryProto {
                key: "pixel_range".into(),
                value: range_text.into(),
            },
            StringStringEntryProto {
                key: "noise".into(),
                value: input_doc,
            },
        ],
    })
}

/// Export the generator of `file` to `path` (written atomically); returns the model.
pub fn export_generator(file: &GeneratorFile, path: &Path) -> Result<ModelProto> {
    let model = generator_model(file)?;
    crate::report::write_atomic(path, &model.encode_to_vec())?;
    Ok(model)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::SplitMix64;
    use crate::nn::torch::NetworkValues;
    use crate::nn::{
        BatchNormSpec, ConvSpec, DropoutSpec, LayerInit, LayerSpec, LinearSpec, NetworkSpec,
    };
    use tract_onnx::prelude::*;

    /// Every layer kind the integration tests' presets lack, against the f64 reference in
    /// evaluation mode: maxout with input dropout, dropout, a linear layer without bias,
    /// BatchNorm1d, unflatten, Conv2d, flatten, LeakyReLU and sigmoid.
    #[test]
    fn every_layer_kind_matches_the_reference_in_tract() {
        let noise = 6;
        let layers = vec![
            Layer::Dense(LayerSpec {
                pieces: 3,
                input_keep: 0.8,
                ..LayerSpec::linear(noise, 5, Activation::Identity)
            }),
            Layer::Dropout(DropoutSpec { keep: 0.5 }),
            Layer::Linear(LinearSpec {
                inputs: 5,
                outputs: 16,
                bias: false,
                init: LayerInit::Torch,
            }),
            Layer::BatchNorm(BatchNormSpec {
                features: 16,
                init: LayerInit::Torch,
            }),
            Layer::Activation(Activation::LeakyRelu(0.2)),
            Layer::Unflatten(vec![1, 4, 4]),
            Layer::Conv2d(ConvSpec {
                in_channels: 1,
                out_channels: 2,
                kernel: 3,
                stride: 1,
                padding: 1,
                bias: true,
                init: LayerInit::Torch,
            }),
            Layer::Flatten,
            Layer::Dense(LayerSpec::linear(32, 4, Activation::Sigmoid)),
        ];
        let spec = NetworkSpec::new(&[], layers);
        spec.validate("generator").unwrap();
        let mut rng = SplitMix64::new(3);
        let mut draw =
            |n: usize| -> Vec<f32> { (0..n).map(|_| rng.next_normal() as f32).collect() };
        let params: Vec<Vec<f32>> = spec
            .parameter_shapes()
            .iter()
            .map(|s| draw(s.iter().product()))
            .collect();
        let mut buffers: Vec<Vec<f32>> = spec
            .buffer_shapes()
            .iter()
            .map(|s| draw(s.iter().product()))
            .collect();
        buffers[1].iter_mut().for_each(|v| *v = v.abs() + 0.1); // a variance
        let mut config = crate::bench::train::reference_config(4);
        config.noise_dim = noise;
        config.generator = spec.clone();
        let file = GeneratorFile {
            path: "test.safetensors".into(),
            config,
            values: NetworkValues {
                params: params.clone(),
                buffers: buffers.clone(),
            },
            metadata: Default::default(),
        };
        let model = generator_model(&file).unwrap();
        let bytes = model.encode_to_vec();

        let batch = 3;
        let z = draw(batch * noise);
        let to64 = |v: &Vec<f32>| v.iter().map(|&x| x as f64).collect::<Vec<f64>>();
        let mut buffers64: Vec<Vec<f64>> = buffers.iter().map(to64).collect();
        let masks = vec![None; spec.layers.len()];
        let trace = crate::reference::network::forward(
            &spec,
            &params.iter().map(to64).collect::<Vec<_>>(),
            &mut buffers64,
            &to64(&z),
            batch,
            false,
            &masks,
        );

        let runnable = tract_onnx::onnx()
            .model_for_read(&mut bytes.as_slice())
            .unwrap()
            .into_optimized()
            .unwrap()
            .into_runnable()
            .unwrap();
        let input: Tensor = tract_ndarray::Array2::from_shape_vec((batch, noise), z)
            .unwrap()
            .into();
        let result = runnable.run(tvec!(input.into())).unwrap();
        let output = result[0].to_plain_array_view::<f32>().unwrap();
        assert_eq!(output.shape(), [batch, 1, 2, 2]);
        for (i, (got, want)) in output.iter().zip(trace.output()).enumerate() {
            assert!(
                (*got as f64 - want).abs() < 1e-5,
                "[{i}]: ONNX {got}, reference {want}"
            );
        }
    }
}
