//! A whole MLP in f64: forward, and backward from dLoss/d(output) to every parameter and the
//! input, with maxout layers and (given masks) inverted dropout of each layer's input. The oracle
//! for the GPU network's gradients, itself checked by finite differences.

use super::activation::{activate, derivative, maxout, maxout_backward};
use crate::nn::MlpSpec;

/// What every layer computed for a batch of `batch` rows.
pub struct Trace {
    pub inputs: Vec<f64>,
    /// Dropout mask of each layer's input ([batch, inputs], values 1/keep or 0), if any.
    pub masks: Vec<Option<Vec<f64>>>,
    /// The input each layer's linear map saw (after dropout).
    pub dropped: Vec<Vec<f64>>,
    /// Linear outputs x̃·W + b of each layer, [batch, outputs·pieces].
    pub pre: Vec<Vec<f64>>,
    /// Maxout: the winning piece of each unit (empty for plain layers).
    pub argmax: Vec<Vec<u32>>,
    pub outputs: Vec<Vec<f64>>,
}

/// An evaluation pass (no dropout). `params` in `MlpSpec::parameter_shapes` order
/// (W [in, outputs·pieces] row-major, then b).
pub fn forward(spec: &MlpSpec, params: &[Vec<f64>], input: &[f64], batch: usize) -> Trace {
    forward_with_masks(spec, params, input, batch, &vec![None; spec.layers.len()])
}

/// A training pass with these dropout masks (`masks[l]`: [batch, inputs] of layer l, or None).
pub fn forward_with_masks(
    spec: &MlpSpec,
    params: &[Vec<f64>],
    input: &[f64],
    batch: usize,
    masks: &[Option<Vec<f64>>],
) -> Trace {
    let mut trace = Trace {
        inputs: input.to_vec(),
        masks: masks.to_vec(),
        dropped: Vec::new(),
        pre: Vec::new(),
        argmax: Vec::new(),
        outputs: Vec::new(),
    };
    for (l, layer) in spec.layers.iter().enumerate() {
        let x = if l == 0 {
            &trace.inputs
        } else {
            &trace.outputs[l - 1]
        };
        let x: Vec<f64> = match &masks[l] {
            Some(mask) => x.iter().zip(mask).map(|(v, m)| v * m).collect(),
            None => x.clone(),
        };
        let (w, b) = (&params[2 * l], &params[2 * l + 1]);
        let width = layer.width();
        let mut pre = vec![0.0; batch * width];
        for r in 0..batch {
            for o in 0..width {
                pre[r * width + o] = b[o]
                    + (0..layer.inputs)
                        .map(|i| x[r * layer.inputs + i] * w[i * width + o])
                        .sum::<f64>();
            }
        }
        let (out, argmax) = if layer.is_maxout() {
            maxout(&pre, layer.pieces)
        } else {
            let out = pre.iter().map(|&z| activate(z, layer.activation)).collect();
            (out, Vec::new())
        };
        trace.dropped.push(x);
        trace.pre.push(pre);
        trace.argmax.push(argmax);
        trace.outputs.push(out);
    }
    trace
}

/// Gradients of Σ output·output_grad: (per-parameter gradients, input gradient).
pub fn backward(
    spec: &MlpSpec,
    params: &[Vec<f64>],
    trace: &Trace,
    output_grad: &[f64],
    batch: usize,
) -> (Vec<Vec<f64>>, Vec<f64>) {
    let mut grads: Vec<Vec<f64>> = params.iter().map(|p| vec![0.0; p.len()]).collect();
    let mut dy = output_grad.to_vec();
    for (l, layer) in spec.layers.iter().enumerate().rev() {
        let x = &trace.dropped[l];
        let g: Vec<f64> = if layer.is_maxout() {
            maxout_backward(&dy, &trace.argmax[l], layer.pieces)
        } else {
            dy.iter()
                .zip(&trace.pre[l])
                .map(|(d, &z)| d * derivative(z, layer.activation))
                .collect()
        };
        let w = &params[2 * l];
        let width = layer.width();
        let mut dx = vec![0.0; batch * layer.inputs];
        for r in 0..batch {
            for o in 0..width {
                let go = g[r * width + o];
                grads[2 * l + 1][o] += go;
                for i in 0..layer.inputs {
                    grads[2 * l][i * width + o] += x[r * layer.inputs + i] * go;
                    dx[r * layer.inputs + i] += go * w[i * width + o];
                }
            }
        }
        if let Some(mask) = &trace.masks[l] {
            for (d, m) in dx.iter_mut().zip(mask) {
                *d *= m;
            }
        }
        dy = dx;
    }
    (grads, dy)
}
