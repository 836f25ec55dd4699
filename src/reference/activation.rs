//! Activations and their derivatives.

use crate::kernels::Activation;

pub fn activate(x: f64, activation: Activation) -> f64 {
    match activation {
        Activation::Identity => x,
        Activation::Relu => x.max(0.0),
        Activation::LeakyRelu(slope) => {
            if x > 0.0 {
                x
            } else {
                slope as f64 * x
            }
        }
        Activation::Tanh => x.tanh(),
        Activation::Sigmoid => 1.0 / (1.0 + (-x).exp()),
    }
}

/// dy/dx at the input x.
pub fn derivative(x: f64, activation: Activation) -> f64 {
    match activation {
        Activation::Identity => 1.0,
        Activation::Relu => {
            if x > 0.0 {
                1.0
            } else {
                0.0
            }
        }
        Activation::LeakyRelu(slope) => {
            if x > 0.0 {
                1.0
            } else {
                slope as f64
            }
        }
        Activation::Tanh => 1.0 - x.tanh().powi(2),
        Activation::Sigmoid => {
            let s = activate(x, Activation::Sigmoid);
            s * (1.0 - s)
        }
    }
}

/// dy/dx expressed through the output y = f(x), as the backward kernels compute it.
pub fn derivative_from_output(y: f64, activation: Activation) -> f64 {
    match activation {
        Activation::Identity => 1.0,
        Activation::Relu => {
            if y > 0.0 {
                1.0
            } else {
                0.0
            }
        }
        Activation::LeakyRelu(slope) => {
            if y > 0.0 {
                1.0
            } else {
                slope as f64
            }
        }
        Activation::Tanh => 1.0 - y * y,
        Activation::Sigmoid => y * (1.0 - y),
    }
}

/// dx = dy · f'(x), with f' taken from the saved output y.
pub fn activation_backward(dy: &[f64], y: &[f64], activation: Activation) -> Vec<f64> {
    dy.iter()
        .zip(y)
        .map(|(&g, &out)| g * derivative_from_output(out, activation))
        .collect()
}

/// Maxout over contiguous groups of `pieces` (x is [B, units·pieces]): the maxima [B, units]
/// and the index of the first maximal piece of each group.
pub fn maxout(x: &[f64], pieces: usize) -> (Vec<f64>, Vec<u32>) {
    x.chunks(pieces)
        .map(|group| {
            let mut best = 0;
            for (p, &v) in group.iter().enumerate() {
                if v > group[best] {
                    best = p;
                }
            }
            (group[best], best as u32)
        })
        .unzip()
}

/// The maxout gradient: dy of each unit goes to its argmax piece, every other piece gets 0.
pub fn maxout_backward(dy: &[f64], argmax: &[u32], pieces: usize) -> Vec<f64> {
    let mut dx = vec![0.0; dy.len() * pieces];
    for (unit, (&g, &piece)) in dy.iter().zip(argmax).enumerate() {
        dx[unit * pieces + piece as usize] = g;
    }
    dx
}

/// The inverted-dropout mask the kernel draws: element i is kept (value 1/keep, in f32 as the
/// kernel computes it) when lane i % 4 of Philox((i / 4, stream, step, 0), seed), as a unit
/// float, is below keep; keep = 1 keeps everything.
pub fn dropout_mask(n: usize, keep: f32, seed: u64, stream: u32, step: u32) -> Vec<f32> {
    use crate::reference::random::{bits, bits_to_unit};
    (0..n)
        .map(|i| {
            let kept = keep >= 1.0 || bits_to_unit(bits(i, seed, stream, step)) < keep;
            if kept { 1.0 / keep } else { 0.0 }
        })
        .collect()
}
