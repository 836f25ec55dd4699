//! A whole MLP in f64: forward, and backward from dLoss/d(output) to every parameter and the
//! input. The oracle for the GPU network's gradients, itself checked by finite differences.

use super::activation::{activate, derivative};
use crate::nn::MlpSpec;

/// Pre-activations and outputs of every layer for a batch of `batch` rows.
pub struct Trace {
    pub inputs: Vec<f64>,
    pub pre: Vec<Vec<f64>>,
    pub outputs: Vec<Vec<f64>>,
}

/// `params` in `MlpSpec::parameter_shapes` order (W [in, out] row-major, then b).
pub fn forward(spec: &MlpSpec, params: &[Vec<f64>], input: &[f64], batch: usize) -> Trace {
    let mut trace = Trace {
        inputs: input.to_vec(),
        pre: Vec::new(),
        outputs: Vec::new(),
    };
    for (l, layer) in spec.layers.iter().enumerate() {
        let x = if l == 0 {
            &trace.inputs
        } else {
            &trace.outputs[l - 1]
        };
        let (w, b) = (&params[2 * l], &params[2 * l + 1]);
        let mut pre = vec![0.0; batch * layer.outputs];
        for r in 0..batch {
            for o in 0..layer.outputs {
                pre[r * layer.outputs + o] = b[o]
                    + (0..layer.inputs)
                        .map(|i| x[r * layer.inputs + i] * w[i * layer.outputs + o])
                        .sum::<f64>();
            }
        }
        let out = pre.iter().map(|&z| activate(z, layer.activation)).collect();
        trace.pre.push(pre);
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
        let x = if l == 0 {
            &trace.inputs
        } else {
            &trace.outputs[l - 1]
        };
        let g: Vec<f64> = dy
            .iter()
            .zip(&trace.pre[l])
            .map(|(d, &z)| d * derivative(z, layer.activation))
            .collect();
        let w = &params[2 * l];
        let mut dx = vec![0.0; batch * layer.inputs];
        for r in 0..batch {
            for o in 0..layer.outputs {
                let go = g[r * layer.outputs + o];
                grads[2 * l + 1][o] += go;
                for i in 0..layer.inputs {
                    grads[2 * l][i * layer.outputs + o] += x[r * layer.inputs + i] * go;
                    dx[r * layer.inputs + i] += go * w[i * layer.outputs + o];
                }
            }
        }
        dy = dx;
    }
    (grads, dy)
}
