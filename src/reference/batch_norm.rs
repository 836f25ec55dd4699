//! Batch normalisation in f64, from PyTorch's definition: training normalises each channel with
//! the batch mean and biased variance over (batch, spatial) and moves the running statistics by
//! the momentum (the variance there unbiased); eval uses the running statistics.

use crate::kernels::batch_norm::{BatchNormShape, EPS, MOMENTUM};

/// What one training-mode forward produces.
#[derive(Clone, Debug)]
pub struct BatchNormTrain {
    pub y: Vec<f64>,
    /// Batch mean and biased batch variance, per channel.
    pub mean: Vec<f64>,
    pub var: Vec<f64>,
    /// The running statistics after the update.
    pub running_mean: Vec<f64>,
    pub running_var: Vec<f64>,
}

fn index(shape: BatchNormShape, b: usize, c: usize, s: usize) -> usize {
    (b * shape.channels + c) * shape.spatial + s
}

/// The values of channel c, in (batch, spatial) order.
fn channel(x: &[f64], shape: BatchNormShape, c: usize) -> Vec<f64> {
    let mut values = Vec::with_capacity(shape.per_channel());
    for b in 0..shape.batch {
        for s in 0..shape.spatial {
            values.push(x[index(shape, b, c, s)]);
        }
    }
    values
}

/// Per-channel mean and biased variance.
pub fn batch_statistics(x: &[f64], shape: BatchNormShape) -> (Vec<f64>, Vec<f64>) {
    (0..shape.channels)
        .map(|c| {
            let v = channel(x, shape, c);
            let n = v.len() as f64;
            let mean = v.iter().sum::<f64>() / n;
            let var = v.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n;
            (mean, var)
        })
        .unzip()
}

fn normalise(
    x: &[f64],
    gamma: &[f64],
    beta: &[f64],
    mean: &[f64],
    var: &[f64],
    shape: BatchNormShape,
) -> Vec<f64> {
    let eps = EPS as f64;
    let mut y = vec![0.0; x.len()];
    for b in 0..shape.batch {
        for c in 0..shape.channels {
            for s in 0..shape.spatial {
                let i = index(shape, b, c, s);
                y[i] = (x[i] - mean[c]) / (var[c] + eps).sqrt() * gamma[c] + beta[c];
            }
        }
    }
    y
}

/// Training mode (needs batch·spatial > 1).
pub fn batch_norm_train_forward(
    x: &[f64],
    gamma: &[f64],
    beta: &[f64],
    running_mean: &[f64],
    running_var: &[f64],
    shape: BatchNormShape,
) -> BatchNormTrain {
    let (mean, var) = batch_statistics(x, shape);
    let y = normalise(x, gamma, beta, &mean, &var, shape);
    let n = shape.per_channel() as f64;
    let m = MOMENTUM as f64;
    let running_mean = running_mean
        .iter()
        .zip(&mean)
        .map(|(r, v)| (1.0 - m) * r + m * v)
        .collect();
    let running_var = running_var
        .iter()
        .zip(&var)
        .map(|(r, v)| (1.0 - m) * r + m * v * n / (n - 1.0))
        .collect();
    BatchNormTrain {
        y,
        mean,
        var,
        running_mean,
        running_var,
    }
}

/// Eval mode: the running statistics normalise.
pub fn batch_norm_eval_forward(
    x: &[f64],
    gamma: &[f64],
    beta: &[f64],
    running_mean: &[f64],
    running_var: &[f64],
    shape: BatchNormShape,
) -> Vec<f64> {
    normalise(x, gamma, beta, running_mean, running_var, shape)
}

/// Training-mode backward: (dx, dgamma, dbeta) given dy = ∂L/∂y, with the batch statistics of x.
pub fn batch_norm_backward(
    dy: &[f64],
    x: &[f64],
    gamma: &[f64],
    shape: BatchNormShape,
) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let (mean, var) = batch_statistics(x, shape);
    let n = shape.per_channel() as f64;
    let mut dx = vec![0.0; x.len()];
    let mut dgamma = vec![0.0; shape.channels];
    let mut dbeta = vec![0.0; shape.channels];
    for c in 0..shape.channels {
        let invstd = 1.0 / (var[c] + EPS as f64).sqrt();
        let xhat = |i: usize| (x[i] - mean[c]) * invstd;
        let elements: Vec<usize> = (0..shape.batch)
            .flat_map(|b| (0..shape.spatial).map(move |s| index(shape, b, c, s)))
            .collect();
        let sum_dy: f64 = elements.iter().map(|&i| dy[i]).sum();
        let sum_dy_xhat: f64 = elements.iter().map(|&i| dy[i] * xhat(i)).sum();
        for &i in &elements {
            dx[i] = gamma[c] * invstd / n * (n * dy[i] - sum_dy - xhat(i) * sum_dy_xhat);
        }
        dgamma[c] = sum_dy_xhat;
        dbeta[c] = sum_dy;
    }
    (dx, dgamma, dbeta)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reference::test_util::{check_gradient, dot, values};

    /// Batch norm is nonlinear in x: a small step, the error of its central difference h².
    const H: f64 = 1e-5;

    #[test]
    fn backward_matches_finite_differences() {
        for (t, shape) in [
            BatchNormShape {
                batch: 3,
                channels: 2,
                spatial: 1,
            },
            BatchNormShape {
                batch: 2,
                channels: 3,
                spatial: 4,
            },
            BatchNormShape {
                batch: 1,
                channels: 1,
                spatial: 5,
            },
        ]
        .into_iter()
        .enumerate()
        {
            let seed = 10 * t as u64;
            let x = values(shape.len(), seed + 1);
            let gamma = values(shape.channels, seed + 2);
            let beta = values(shape.channels, seed + 3);
            let r = values(shape.len(), seed + 4);
            let zeros = vec![0.0; shape.channels];
            let loss = |x: &[f64], g: &[f64], b: &[f64]| {
                dot(
                    &r,
                    &batch_norm_train_forward(x, g, b, &zeros, &zeros, shape).y,
                )
            };
            let (dx, dgamma, dbeta) = batch_norm_backward(&r, &x, &gamma, shape);
            check_gradient("dx", &x, &dx, (H, 1e-6), |v| loss(v, &gamma, &beta));
            check_gradient("dgamma", &gamma, &dgamma, (H, 1e-6), |v| loss(&x, v, &beta));
            check_gradient("dbeta", &beta, &dbeta, (H, 1e-6), |v| loss(&x, &gamma, v));
        }
    }

    #[test]
    fn training_output_is_normalised_and_running_stats_move() {
        let shape = BatchNormShape {
            batch: 4,
            channels: 2,
            spatial: 3,
        };
        let x = values(shape.len(), 5);
        let out = batch_norm_train_forward(
            &x,
            &[1.0, 1.0],
            &[0.0, 0.0],
            &[0.0, 0.0],
            &[1.0, 1.0],
            shape,
        );
        let (mean, var) = batch_statistics(&out.y, shape);
        // The momentum is PyTorch's 0.1 as the f32 the GPU uses.
        let m = MOMENTUM as f64;
        for c in 0..2 {
            assert!(mean[c].abs() < 1e-12);
            // var/(var + eps) of the normalised values.
            assert!((var[c] - out.var[c] / (out.var[c] + EPS as f64)).abs() < 1e-9);
            assert!((out.running_mean[c] - m * out.mean[c]).abs() < 1e-15);
            let unbiased = out.var[c] * 12.0 / 11.0;
            assert!((out.running_var[c] - ((1.0 - m) + m * unbiased)).abs() < 1e-15);
        }
    }
}
