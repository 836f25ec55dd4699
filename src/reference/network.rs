//! A whole network (a layer sequence, `nn::NetworkSpec`) in f64: forward in training or
//! evaluation mode, and backward from dLoss/d(output) to every parameter and the input. Each
//! layer kind calls its own reference (dense layers `mlp`, convolutions `conv`, batch norm
//! `batch_norm`), so the GPU network is checked against the same layers written out directly.

use super::activation::{activate, derivative_from_output};
use super::{batch_norm, conv, mlp};
use crate::kernels::conv::ConvGeometry;
use crate::nn::batch_norm::batch_norm_shape;
use crate::nn::conv::conv_op;
use crate::nn::{ConvSpec, Layer, MlpSpec, NetworkSpec};

/// What every layer computed for a batch.
pub struct Trace {
    pub batch: usize,
    pub training: bool,
    pub input: Vec<f64>,
    /// Each layer's output.
    pub outputs: Vec<Vec<f64>>,
    /// Dense layers: their one-layer MLP trace (pre-activations, maxout winners, dropout).
    pub dense: Vec<Option<mlp::Trace>>,
    /// Dropout layers in training passes: the mask of their input (1/keep or 0).
    pub masks: Vec<Option<Vec<f64>>>,
}

impl Trace {
    pub fn output(&self) -> &[f64] {
        self.outputs.last().expect("a network has layers")
    }

    fn layer_input(&self, i: usize) -> &[f64] {
        if i == 0 {
            &self.input
        } else {
            &self.outputs[i - 1]
        }
    }
}

/// The geometry `reference::conv` describes a layer by: the image side (Conv2d's input,
/// ConvTranspose2d's output), as the GPU layer's `ConvOp` has it.
fn conv_geometry(spec: &ConvSpec, transposed: bool, batch: usize, input: &[usize]) -> ConvGeometry {
    conv_op(spec, transposed, batch, input)
        .expect("a validated network's convolutions fit their inputs")
        .geometry
}

/// A dense or linear layer's [W, b] (a zero b for a linear layer without bias).
fn dense_params(layer: &Layer, p: &[Vec<f64>]) -> Vec<Vec<f64>> {
    let dense = layer.as_dense().expect("dense or linear");
    match layer.parameter_shapes().len() {
        1 => vec![p[0].clone(), vec![0.0; dense.width()]],
        _ => p[..2].to_vec(),
    }
}

/// A forward pass. `params` in `NetworkSpec::parameter_shapes` order (GPU layouts); `buffers`
/// (running statistics, `buffer_shapes` order) are read in evaluation mode and updated in
/// training mode. `masks[l]` is layer l's dropout mask in training mode (None for layers that
/// drop nothing).
pub fn forward(
    spec: &NetworkSpec,
    params: &[Vec<f64>],
    buffers: &mut [Vec<f64>],
    input: &[f64],
    batch: usize,
    training: bool,
    masks: &[Option<Vec<f64>>],
) -> Trace {
    let shapes = spec.shapes();
    let (param_start, buffer_start) = (spec.parameter_starts(), spec.buffer_starts());
    let mut trace = Trace {
        batch,
        training,
        input: input.to_vec(),
        outputs: Vec::new(),
        dense: Vec::new(),
        masks: Vec::new(),
    };
    let mut input_shape = spec.input_shape();
    for (l, layer) in spec.layers.iter().enumerate() {
        let x = trace.layer_input(l).to_vec();
        let p = &params[param_start[l]..];
        let mut dense_trace = None;
        let mut mask = None;
        let y = match layer {
            Layer::Dense(_) | Layer::Linear(_) => {
                let one = MlpSpec {
                    layers: vec![layer.as_dense().expect("dense or linear")],
                };
                let layer_masks = [masks.get(l).cloned().flatten().filter(|_| training)];
                let t =
                    mlp::forward_with_masks(&one, &dense_params(layer, p), &x, batch, &layer_masks);
                let y = t.outputs[0].clone();
                dense_trace = Some(t);
                y
            }
            Layer::Conv2d(c) | Layer::ConvTranspose2d(c) => {
                let transposed = matches!(layer, Layer::ConvTranspose2d(_));
                let g = conv_geometry(c, transposed, batch, &input_shape);
                let bias = p.get(1).filter(|_| c.bias).map(Vec::as_slice);
                match transposed {
                    false => conv::conv2d_forward(&x, &p[0], bias, g, c.out_channels),
                    true => conv::conv_transpose2d_forward(&x, &p[0], bias, g, c.in_channels),
                }
            }
            Layer::BatchNorm(_) => {
                let shape = batch_norm_shape(batch, &input_shape);
                let (rm, rv) = (buffer_start[l], buffer_start[l] + 1);
                if training {
                    let out = batch_norm::batch_norm_train_forward(
                        &x,
                        &p[0],
                        &p[1],
                        &buffers[rm],
                        &buffers[rv],
                        shape,
                    );
                    buffers[rm] = out.running_mean;
                    buffers[rv] = out.running_var;
                    out.y
                } else {
                    batch_norm::batch_norm_eval_forward(
                        &x,
                        &p[0],
                        &p[1],
                        &buffers[rm],
                        &buffers[rv],
                        shape,
                    )
                }
            }
            Layer::Activation(a) => x.iter().map(|&v| activate(v, *a)).collect(),
            Layer::Dropout(_) if training => {
                let m = masks[l]
                    .clone()
                    .expect("a training pass's dropout layer has a mask");
                let y = x.iter().zip(&m).map(|(v, m)| v * m).collect();
                mask = Some(m);
                y
            }
            Layer::Dropout(_) | Layer::Flatten | Layer::Unflatten(_) => x,
        };
        trace.outputs.push(y);
        trace.dense.push(dense_trace);
        trace.masks.push(mask);
        input_shape = shapes[l].clone();
    }
    trace
}

/// Gradients of Σ output·output_grad: (per-parameter gradients, input gradient). Batch norm
/// layers backpropagate through their batch statistics (training passes).
pub fn backward(
    spec: &NetworkSpec,
    params: &[Vec<f64>],
    trace: &Trace,
    output_grad: &[f64],
) -> (Vec<Vec<f64>>, Vec<f64>) {
    let batch = trace.batch;
    let shapes = spec.shapes();
    let param_start = spec.parameter_starts();
    let mut grads: Vec<Vec<f64>> = params.iter().map(|p| vec![0.0; p.len()]).collect();
    let mut dy = output_grad.to_vec();
    for (l, layer) in spec.layers.iter().enumerate().rev() {
        let x = trace.layer_input(l);
        let input_shape = if l == 0 {
            spec.input_shape()
        } else {
            shapes[l - 1].clone()
        };
        let start = param_start[l];
        let p = &params[start..];
        dy = match layer {
            Layer::Dense(_) | Layer::Linear(_) => {
                let one = MlpSpec {
                    layers: vec![layer.as_dense().expect("dense or linear")],
                };
                let t = trace.dense[l]
                    .as_ref()
                    .expect("dense layers keep their trace");
                let (g, dx) = mlp::backward(&one, &dense_params(layer, p), t, &dy, batch);
                for (k, g) in g
                    .into_iter()
                    .take(layer.parameter_shapes().len())
                    .enumerate()
                {
                    grads[start + k] = g;
                }
                dx
            }
            Layer::Conv2d(c) | Layer::ConvTranspose2d(c) => {
                let transposed = matches!(layer, Layer::ConvTranspose2d(_));
                let g = conv_geometry(c, transposed, batch, &input_shape);
                if transposed {
                    grads[start] = conv::conv_transpose2d_backward_weight(x, &dy, g, c.in_channels);
                    if c.bias {
                        grads[start + 1] = conv::conv_transpose2d_backward_bias(&dy, g);
                    }
                    conv::conv_transpose2d_backward_input(&dy, &p[0], g, c.in_channels)
                } else {
                    grads[start] = conv::conv2d_backward_weight(x, &dy, g, c.out_channels);
                    if c.bias {
                        grads[start + 1] = conv::conv2d_backward_bias(&dy, g, c.out_channels);
                    }
                    conv::conv2d_backward_input(&dy, &p[0], g, c.out_channels)
                }
            }
            Layer::BatchNorm(_) => {
                let shape = batch_norm_shape(batch, &input_shape);
                let (dx, dgamma, dbeta) = batch_norm::batch_norm_backward(&dy, x, &p[0], shape);
                grads[start] = dgamma;
                grads[start + 1] = dbeta;
                dx
            }
            Layer::Activation(a) => {
                let y = &trace.outputs[l];
                dy.iter()
                    .zip(y)
                    .map(|(d, &y)| d * derivative_from_output(y, *a))
                    .collect()
            }
            Layer::Dropout(_) => match &trace.masks[l] {
                Some(mask) => dy.iter().zip(mask).map(|(d, m)| d * m).collect(),
                None => dy,
            },
            Layer::Flatten | Layer::Unflatten(_) => dy,
        };
    }
    (grads, dy)
}
