//! Batch normalisation: training forward (output, saved statistics, running-statistic updates),
//! eval forward, and backward (dx and the parameter gradients, overwrite and accumulate, each
//! optional) against the f64 reference; a constant channel (variance 0) and badly scaled channels
//! must stay finite; one value per channel is refused as PyTorch refuses it.

use gan_gpu::kernels::batch_norm::*;
use gan_gpu::reference::batch_norm as reference;

use crate::common::*;

/// BatchNorm2d over 7×7, 13×9 and 28×28 maps, batch 1 and 5, and BatchNorm1d ([batch, features]).
const SHAPES: [BatchNormShape; 5] = [
    BatchNormShape {
        batch: 5,
        channels: 3,
        spatial: 49,
    },
    BatchNormShape {
        batch: 1,
        channels: 3,
        spatial: 117,
    },
    BatchNormShape {
        batch: 2,
        channels: 1,
        spatial: 784,
    },
    BatchNormShape {
        batch: 5,
        channels: 65,
        spatial: 1,
    },
    BatchNormShape {
        batch: 64,
        channels: 7,
        spatial: 1,
    },
];

struct Case {
    shape: BatchNormShape,
    x: Vec<f32>,
    gamma: Vec<f32>,
    beta: Vec<f32>,
    running_mean: Vec<f32>,
    running_var: Vec<f32>,
    dy: Vec<f32>,
}

fn random_case(what: &str, shape: BatchNormShape) -> Case {
    let mut rng = rng(what);
    let c = shape.channels;
    Case {
        shape,
        // Offset so the mean is far from 0 (the two-pass variance matters).
        x: uniform(&mut rng, shape.len(), -1.0, 3.0),
        gamma: uniform(&mut rng, c, -2.0, 2.0),
        beta: uniform(&mut rng, c, -1.0, 1.0),
        running_mean: uniform(&mut rng, c, -1.0, 1.0),
        running_var: uniform(&mut rng, c, 0.5, 2.0),
        dy: uniform(&mut rng, shape.len(), -1.0, 1.0),
    }
}

/// What the GPU produced for one training forward + backward.
struct Outputs {
    y: Vec<f32>,
    saved_mean: Vec<f32>,
    saved_invstd: Vec<f32>,
    running_mean: Vec<f32>,
    running_var: Vec<f32>,
    dx: Option<Vec<f32>>,
    grads: Option<(Vec<f32>, Vec<f32>)>,
}

/// Train forward then backward in one submission (backward uses the GPU's saved statistics).
fn run_train(
    case: &Case,
    with_dx: bool,
    initial_grads: Option<(&[f32], &[f32])>,
    accumulate: bool,
    with_grads: bool,
) -> Outputs {
    let ctx = gpu();
    let (n, c) = (case.shape.len(), case.shape.channels);
    let x = upload(&case.x);
    let gamma = upload(&case.gamma);
    let beta = upload(&case.beta);
    let running_mean = upload(&case.running_mean);
    let running_var = upload(&case.running_var);
    let dy = upload(&case.dy);
    let (y, saved_mean, saved_invstd, dx) = (poisoned(n), poisoned(c), poisoned(c), poisoned(n));
    let (dgamma, dbeta) = match initial_grads {
        Some((g, b)) => (upload(g), upload(b)),
        None => (poisoned(c), poisoned(c)),
    };
    let forward = batch_norm_train(
        ctx,
        &x,
        &y,
        &gamma,
        &beta,
        &saved_mean,
        &saved_invstd,
        &running_mean,
        &running_var,
        case.shape,
    )
    .unwrap();
    let backward = batch_norm_backward(
        ctx,
        &dy,
        &x,
        &gamma,
        &saved_mean,
        &saved_invstd,
        with_dx.then_some(&dx),
        with_grads.then_some((&dgamma, &dbeta)),
        accumulate,
        case.shape,
    )
    .unwrap();
    let y = run_and_read(&[&forward, &backward], &y);
    let read = |t| ctx.read_f32(t).unwrap();
    Outputs {
        y,
        saved_mean: read(&saved_mean),
        saved_invstd: read(&saved_invstd),
        running_mean: read(&running_mean),
        running_var: read(&running_var),
        dx: with_dx.then(|| read(&dx)),
        grads: with_grads.then(|| (read(&dgamma), read(&dbeta))),
    }
}

/// Scales for the backward comparison: each term of the formulas in absolute value.
fn backward_scales(case: &Case) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let shape = case.shape;
    let x = to_f64(&case.x);
    let (mean, var) = reference::batch_statistics(&x, shape);
    let n = shape.per_channel() as f64;
    let mut dx = vec![0.0; shape.len()];
    let mut dgamma = vec![0.0; shape.channels];
    let mut dbeta = vec![0.0; shape.channels];
    let channel_of = |i: usize| (i / shape.spatial) % shape.channels;
    for (i, (&xi, &dyi)) in x.iter().zip(&case.dy).enumerate() {
        let c = channel_of(i);
        let xhat = ((xi - mean[c]) / (var[c] + EPS as f64).sqrt()).abs();
        dgamma[c] += (dyi as f64).abs() * xhat;
        dbeta[c] += (dyi as f64).abs();
    }
    for i in 0..shape.len() {
        let c = channel_of(i);
        let invstd = 1.0 / (var[c] + EPS as f64).sqrt();
        let xhat = ((x[i] - mean[c]) * invstd).abs();
        dx[i] = (case.gamma[c] as f64).abs()
            * invstd
            * ((case.dy[i] as f64).abs() + dbeta[c] / n + xhat * dgamma[c] / n);
    }
    (dx, dgamma, dbeta)
}

fn check_forward(what: &str, case: &Case, out: &Outputs) {
    let shape = case.shape;
    let expected = reference::batch_norm_train_forward(
        &to_f64(&case.x),
        &to_f64(&case.gamma),
        &to_f64(&case.beta),
        &to_f64(&case.running_mean),
        &to_f64(&case.running_var),
        shape,
    );
    // y: error relative to |x − mean|·invstd·|gamma| + |beta| plus the mean's own rounding.
    let scale: Vec<f64> = (0..shape.len())
        .map(|i| {
            let c = (i / shape.spatial) % shape.channels;
            let invstd = 1.0 / (expected.var[c] + EPS as f64).sqrt();
            ((case.x[i] as f64 - expected.mean[c]).abs() + expected.mean[c].abs())
                * invstd
                * (case.gamma[c] as f64).abs()
                + (case.beta[c] as f64).abs()
        })
        .collect();
    assert_close_scaled(&format!("{what} y"), &out.y, &expected.y, &scale, 1e-5);
    assert_close(
        &format!("{what} saved_mean"),
        &out.saved_mean,
        &expected.mean,
        1e-5,
        1.0,
    );
    let invstd: Vec<f64> = expected
        .var
        .iter()
        .map(|v| 1.0 / (v + EPS as f64).sqrt())
        .collect();
    assert_close(
        &format!("{what} saved_invstd"),
        &out.saved_invstd,
        &invstd,
        1e-4,
        0.0,
    );
    assert_close(
        &format!("{what} running_mean"),
        &out.running_mean,
        &expected.running_mean,
        1e-5,
        1.0,
    );
    assert_close(
        &format!("{what} running_var"),
        &out.running_var,
        &expected.running_var,
        1e-4,
        0.0,
    );
}

#[test]
fn train_forward_and_running_statistics() {
    for shape in SHAPES {
        let what = format!("batch_norm_train {shape:?}");
        let case = random_case(&what, shape);
        let out = run_train(&case, true, None, false, true);
        check_forward(&what, &case, &out);
    }
}

#[test]
fn backward_overwrites_accumulates_and_skips() {
    for (index, shape) in SHAPES.into_iter().enumerate() {
        for (with_dx, with_grads, accumulate) in [
            (true, true, false),
            (true, true, true),
            (false, true, true),
            (true, false, false),
        ] {
            let what = format!(
                "batch_norm_backward {shape:?} dx={with_dx} grads={with_grads} accumulate={accumulate}"
            );
            // The optional variants on two shapes are enough.
            if index > 1 && !(with_dx && with_grads && !accumulate) {
                continue;
            }
            let case = random_case(&what, shape);
            let mut r = rng(&format!("{what} initial"));
            let g0 = uniform(&mut r, shape.channels, -1.0, 1.0);
            let b0 = uniform(&mut r, shape.channels, -1.0, 1.0);
            let initial = accumulate.then_some((&g0[..], &b0[..]));
            let out = run_train(&case, with_dx, initial, accumulate, with_grads);
            let (dx, mut dgamma, mut dbeta) = reference::batch_norm_backward(
                &to_f64(&case.dy),
                &to_f64(&case.x),
                &to_f64(&case.gamma),
                shape,
            );
            let (dx_scale, mut dgamma_scale, mut dbeta_scale) = backward_scales(&case);
            if accumulate {
                for c in 0..shape.channels {
                    dgamma[c] += g0[c] as f64;
                    dbeta[c] += b0[c] as f64;
                    dgamma_scale[c] += g0[c].abs() as f64;
                    dbeta_scale[c] += b0[c].abs() as f64;
                }
            }
            if let Some(got) = &out.dx {
                assert_close_scaled(&format!("{what} dx"), got, &dx, &dx_scale, 1e-4);
            }
            if let Some((got_gamma, got_beta)) = &out.grads {
                assert_close_scaled(
                    &format!("{what} dgamma"),
                    got_gamma,
                    &dgamma,
                    &dgamma_scale,
                    1e-4,
                );
                assert_close_scaled(
                    &format!("{what} dbeta"),
                    got_beta,
                    &dbeta,
                    &dbeta_scale,
                    1e-5,
                );
            }
        }
    }
}

#[test]
fn eval_uses_running_statistics() {
    let ctx = gpu();
    for shape in SHAPES {
        let what = format!("batch_norm_eval {shape:?}");
        let case = random_case(&what, shape);
        let y = poisoned(shape.len());
        let dispatch = batch_norm_eval(
            ctx,
            &upload(&case.x),
            &y,
            &upload(&case.gamma),
            &upload(&case.beta),
            &upload(&case.running_mean),
            &upload(&case.running_var),
            shape,
        )
        .unwrap();
        let y = run_and_read(&[&dispatch], &y);
        let expected = reference::batch_norm_eval_forward(
            &to_f64(&case.x),
            &to_f64(&case.gamma),
            &to_f64(&case.beta),
            &to_f64(&case.running_mean),
            &to_f64(&case.running_var),
            shape,
        );
        let scale: Vec<f64> = (0..shape.len())
            .map(|i| {
                let c = (i / shape.spatial) % shape.channels;
                (case.x[i].abs() + case.running_mean[c].abs()) as f64 * (case.gamma[c] as f64).abs()
                    / (case.running_var[c] as f64 + EPS as f64).sqrt()
                    + (case.beta[c] as f64).abs()
            })
            .collect();
        assert_close_scaled(&what, &y, &expected, &scale, 1e-5);
    }
}

#[test]
fn constant_and_badly_scaled_channels_stay_finite() {
    // Channel 0 constant (variance 0: only eps keeps invstd finite), channel 1 of size 1e-3
    // (variance near eps), channel 2 of size 1e4.
    let shape = BatchNormShape {
        batch: 5,
        channels: 3,
        spatial: 49,
    };
    let what = format!("batch_norm extremes {shape:?}");
    let mut case = random_case(&what, shape);
    for (i, v) in case.x.iter_mut().enumerate() {
        match (i / shape.spatial) % shape.channels {
            0 => *v = 0.3,
            1 => *v *= 1e-3,
            _ => *v *= 1e4,
        }
    }
    let out = run_train(&case, true, None, false, true);
    for (name, values) in [
        ("y", &out.y),
        ("saved_invstd", &out.saved_invstd),
        ("running_var", &out.running_var),
        ("dx", out.dx.as_ref().unwrap()),
    ] {
        assert!(
            values.iter().all(|v| v.is_finite()),
            "{what}: {name} not finite: {values:?}"
        );
    }
    // The constant channel normalises to beta (up to the f32 mean's rounding times 1/sqrt(eps)).
    for b in 0..shape.batch {
        for s in 0..shape.spatial {
            let y = out.y[b * 3 * shape.spatial + s];
            assert!(
                (y - case.beta[0]).abs() < 1e-2,
                "{what}: constant channel gives {y}, not beta {}",
                case.beta[0]
            );
        }
    }
    // The other two against the reference as usual.
    let expected = reference::batch_norm_train_forward(
        &to_f64(&case.x),
        &to_f64(&case.gamma),
        &to_f64(&case.beta),
        &to_f64(&case.running_mean),
        &to_f64(&case.running_var),
        shape,
    );
    for c in 1..3 {
        let idx: Vec<usize> = (0..shape.len())
            .filter(|i| (i / shape.spatial) % 3 == c)
            .collect();
        let got: Vec<f32> = idx.iter().map(|&i| out.y[i]).collect();
        let want: Vec<f64> = idx.iter().map(|&i| expected.y[i]).collect();
        assert_close(&format!("{what} channel {c} y"), &got, &want, 1e-3, 1.0);
        assert_close(
            &format!("{what} channel {c} running_var"),
            &out.running_var[c..c + 1],
            &expected.running_var[c..c + 1],
            1e-4,
            0.0,
        );
    }
}

#[test]
fn one_value_per_channel_is_refused() {
    let ctx = gpu();
    let shape = BatchNormShape {
        batch: 1,
        channels: 4,
        spatial: 1,
    };
    let t = || poisoned(4);
    let error = batch_norm_train(ctx, &t(), &t(), &t(), &t(), &t(), &t(), &t(), &t(), shape)
        .err()
        .expect("n = 1 must be refused")
        .to_string();
    assert!(error.contains("more than one value per channel"), "{error}");
    // Eval mode is fine with a single sample.
    assert!(batch_norm_eval(ctx, &t(), &t(), &t(), &t(), &t(), &t(), shape).is_ok());
    let error = batch_norm_eval(ctx, &poisoned(3), &t(), &t(), &t(), &t(), &t(), shape)
        .err()
        .unwrap()
        .to_string();
    assert!(error.contains("x has 3 elements, expected 4"), "{error}");
}
