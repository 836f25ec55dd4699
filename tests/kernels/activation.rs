//! Elementwise kernels: activations forward/backward (out of place and in place) on awkward
//! shapes and at extreme inputs, maxout (values, argmax, gradient routing) and inverted dropout
//! (exact mask against the Philox reference, statistics, counter behaviour, gradient).

use gan_gpu::gpu::Tensor;
use gan_gpu::kernels::Activation;
use gan_gpu::kernels::activation::*;
use gan_gpu::reference::activation as reference;

use crate::common::*;

const ACTIVATIONS: [Activation; 5] = [
    Activation::Identity,
    Activation::Relu,
    Activation::LeakyRelu(0.2),
    Activation::Tanh,
    Activation::Sigmoid,
];

/// (rows, width) pairs from the awkward sizes.
const SHAPES: [(usize, usize); 6] = [(1, 1), (1, 63), (7, 784), (65, 63), (7, 1200), (65, 1200)];

fn upload_u32(values: &[u32]) -> Tensor {
    gpu().upload("test u32", &[values.len()], values).unwrap()
}

#[test]
fn activation_forward_and_backward_match_reference() {
    let ctx = gpu();
    for activation in ACTIVATIONS {
        for (rows, width) in SHAPES {
            let n = rows * width;
            let what = format!("{activation:?} [{rows}, {width}]");
            let mut rng = rng(&what);
            let x = uniform(&mut rng, n, -4.0, 4.0);
            let dy = uniform(&mut rng, n, -1.0, 1.0);
            let (x_gpu, y_gpu) = (upload(&x), poisoned(n));
            let forward = activation_forward(ctx, &x_gpu, &y_gpu, activation).unwrap();
            let y = run_and_read(&[&forward], &y_gpu);
            let expected: Vec<f64> = to_f64(&x)
                .iter()
                .map(|&v| reference::activate(v, activation))
                .collect();
            // floor 1e-3: sigmoid(−4) ≈ 0.018 and LeakyReLU near 0 are compared absolutely there.
            assert_close(&format!("{what} forward"), &y, &expected, 1e-4, 1e-3);

            // Backward from the GPU's own y (what training keeps), out of place and in place.
            let expected_dx = reference::activation_backward(&to_f64(&dy), &to_f64(&y), activation);
            let (dy_gpu, dx_gpu) = (upload(&dy), poisoned(n));
            let backward = activation_backward(ctx, &dy_gpu, &y_gpu, &dx_gpu, activation).unwrap();
            let dx = run_and_read(&[&backward], &dx_gpu);
            assert_close(&format!("{what} backward"), &dx, &expected_dx, 1e-4, 1e-3);
            let in_place = activation_backward_in_place(ctx, &dy_gpu, &y_gpu, activation).unwrap();
            let dx_in_place = run_and_read(&[&in_place], &dy_gpu);
            assert_eq!(
                dx_in_place, dx,
                "{what}: in place differs from out of place"
            );
        }
    }
}

#[test]
fn activation_backward_agrees_with_derivative_at_input() {
    // The from-output derivative must equal the textbook derivative at x (catches a wrong formula
    // shared by the kernel and `derivative_from_output`).
    let ctx = gpu();
    let mut rng = rng("derivative at x");
    let x = uniform(&mut rng, 65, -3.0, 3.0);
    let ones = vec![1.0f32; 65];
    for activation in ACTIVATIONS {
        let (x_gpu, y_gpu, ones_gpu, dx_gpu) =
            (upload(&x), poisoned(65), upload(&ones), poisoned(65));
        let forward = activation_forward(ctx, &x_gpu, &y_gpu, activation).unwrap();
        let backward = activation_backward(ctx, &ones_gpu, &y_gpu, &dx_gpu, activation).unwrap();
        let dx = run_and_read(&[&forward, &backward], &dx_gpu);
        let expected: Vec<f64> = to_f64(&x)
            .iter()
            .map(|&v| reference::derivative(v, activation))
            .collect();
        assert_close(&format!("{activation:?} f'(x)"), &dx, &expected, 1e-4, 1e-2);
    }
}

#[test]
fn activations_are_exact_and_finite_at_extremes() {
    let ctx = gpu();
    let x = [30.0f32, -30.0, 100.0, -100.0, 1e4, -1e4, 0.0];
    let (x_gpu, n) = (upload(&x), x.len());
    for activation in ACTIVATIONS {
        let y_gpu = poisoned(n);
        let forward = activation_forward(ctx, &x_gpu, &y_gpu, activation).unwrap();
        let y = run_and_read(&[&forward], &y_gpu);
        let expected: Vec<f64> = to_f64(&x)
            .iter()
            .map(|&v| reference::activate(v, activation))
            .collect();
        // floor 1e-30: sigmoid(−100) ≈ 3.7e-44 is an f32 denormal that the GPU may flush to 0.
        assert_close(
            &format!("{activation:?} at extremes"),
            &y,
            &expected,
            1e-4,
            1e-30,
        );
        // The gradient through the saturated output is finite (0 at the limits).
        let dy_gpu = upload(&[1.0; 7]);
        let dx_gpu = poisoned(n);
        let backward = activation_backward(ctx, &dy_gpu, &y_gpu, &dx_gpu, activation).unwrap();
        let dx = run_and_read(&[&backward], &dx_gpu);
        assert!(dx.iter().all(|v| v.is_finite()), "{activation:?}: {dx:?}");
    }
    let run = |activation| {
        let y_gpu = poisoned(n);
        let d = activation_forward(ctx, &x_gpu, &y_gpu, activation).unwrap();
        run_and_read(&[&d], &y_gpu)
    };
    let tanh = run(Activation::Tanh);
    assert_eq!(
        &tanh[..6],
        &[1.0, -1.0, 1.0, -1.0, 1.0, -1.0],
        "tanh limits"
    );
    assert_eq!(tanh[6], 0.0);
    let sigmoid = run(Activation::Sigmoid);
    assert_eq!(
        (sigmoid[0], sigmoid[2], sigmoid[4]),
        (1.0, 1.0, 1.0),
        "sigmoid → 1"
    );
    assert_eq!(sigmoid[5], 0.0, "sigmoid(−1e4) = 0");
    assert_eq!(sigmoid[6], 0.5);
}

#[test]
fn maxout_forward_and_backward_route_to_argmax() {
    let ctx = gpu();
    for (batch, units, pieces) in [(1, 1, 1), (7, 63, 2), (65, 240, 5), (7, 1200, 3)] {
        let what = format!("maxout [{batch}, {units}×{pieces}]");
        let mut rng = rng(&what);
        let mut x = uniform(&mut rng, batch * units * pieces, -1.0, 1.0);
        // Force ties in some groups: the first piece must win.
        for group in x.chunks_mut(pieces).step_by(3) {
            let top = group.iter().cloned().fold(f32::MIN, f32::max);
            group.iter_mut().for_each(|v| *v = top);
        }
        let dy = uniform(&mut rng, batch * units, -1.0, 1.0);
        let (x_gpu, y_gpu, dy_gpu) = (upload(&x), poisoned(batch * units), upload(&dy));
        let argmax_gpu = upload_u32(&vec![u32::MAX; batch * units]);
        let dx_gpu = poisoned(x.len());
        let forward = maxout_forward(ctx, &x_gpu, &y_gpu, &argmax_gpu, pieces).unwrap();
        let backward = maxout_backward(ctx, &dy_gpu, &argmax_gpu, &dx_gpu, pieces).unwrap();
        let dx = run_and_read(&[&forward, &backward], &dx_gpu);
        let y = ctx.read_f32(&y_gpu).unwrap();
        let argmax = ctx.read_u32(&argmax_gpu).unwrap();

        let (expected_y, expected_argmax) = reference::maxout(&to_f64(&x), pieces);
        assert_eq!(argmax, expected_argmax, "{what}: argmax");
        assert_eq!(
            to_f64(&y),
            expected_y,
            "{what}: values are copies, so exact"
        );
        let expected_dx = reference::maxout_backward(&to_f64(&dy), &argmax, pieces);
        assert_eq!(
            to_f64(&dx),
            expected_dx,
            "{what}: gradient only to the argmax"
        );
    }
}

#[test]
fn dropout_mask_matches_philox_and_statistics() {
    let ctx = gpu();
    let n = 100_003; // not a multiple of 4: the last Philox block is partial
    let mut rng = rng("dropout");
    let x = uniform(&mut rng, n, -1.0, 1.0);
    let dy = uniform(&mut rng, n, -1.0, 1.0);
    let (seed, stream) = (0x0123_4567_89AB_CDEF_u64, 3);
    for keep in [0.5f32, 0.8, 1.0] {
        let counter = gpu().upload("counter", &[1], &[0u32]).unwrap();
        let (x_gpu, y_gpu, mask_gpu) = (upload(&x), poisoned(n), poisoned(n));
        let forward =
            dropout_forward(ctx, &x_gpu, &y_gpu, &mask_gpu, keep, seed, stream, &counter).unwrap();
        let y = run_and_read(&[&forward], &y_gpu);
        let mask = ctx.read_f32(&mask_gpu).unwrap();

        let scale = 1.0 / keep;
        assert!(
            mask.iter()
                .all(|&m| m == 0.0 || (m - scale).abs() <= 1e-6 * scale),
            "keep {keep}: mask values must be 0 or 1/keep"
        );
        let expected = reference::dropout_mask(n, keep, seed, stream, 0);
        let kept: Vec<bool> = mask.iter().map(|&m| m != 0.0).collect();
        let expected_kept: Vec<bool> = expected.iter().map(|&m| m != 0.0).collect();
        assert!(
            kept == expected_kept,
            "keep {keep}: pattern differs from Philox reference"
        );
        let fraction = kept.iter().filter(|&&k| k).count() as f64 / n as f64;
        let keep64 = keep as f64;
        let standard_error = (keep64 * (1.0 - keep64) / n as f64).sqrt();
        assert!(
            (fraction - keep64).abs() <= 5.0 * standard_error + 1e-12,
            "keep {keep}: kept fraction {fraction}"
        );
        for i in 0..n {
            assert_eq!(y[i], x[i] * mask[i], "y[{i}] = x·mask exactly");
        }

        let (dy_gpu, dx_gpu) = (upload(&dy), poisoned(n));
        let backward = dropout_backward(ctx, &dy_gpu, &mask_gpu, &dx_gpu).unwrap();
        let dx = run_and_read(&[&backward], &dx_gpu);
        for i in 0..n {
            assert_eq!(dx[i], dy[i] * mask[i], "dx[{i}] = dy·mask");
        }

        // Same counter: same mask. Next counter: a different mask (unless everything is kept).
        let again = run_and_read(&[&forward], &mask_gpu);
        assert_eq!(again, mask, "keep {keep}: same counter, same mask");
        ctx.write(&counter, &[1u32]);
        let next = run_and_read(&[&forward], &mask_gpu);
        if keep < 1.0 {
            assert_ne!(
                next, mask,
                "keep {keep}: a new counter must draw a new mask"
            );
            let expected_next = reference::dropout_mask(n, keep, seed, stream, 1);
            let next_kept: Vec<bool> = next.iter().map(|&m| m != 0.0).collect();
            assert!(next_kept == expected_next.iter().map(|&m| m != 0.0).collect::<Vec<_>>());
        } else {
            assert!(next.iter().all(|&m| m == 1.0), "keep 1 keeps everything");
        }
    }
}

#[test]
fn elementwise_rejects_bad_shapes_and_keep_probability() {
    let ctx = gpu();
    let (x, y) = (upload(&[1.0; 6]), poisoned(5));
    let error = activation_forward(ctx, &x, &y, Activation::Relu)
        .err()
        .unwrap();
    assert!(
        error.to_string().contains("y has 5 elements, expected 6"),
        "{error}"
    );

    let argmax = upload_u32(&[0; 2]);
    let error = maxout_forward(ctx, &x, &poisoned(2), &argmax, 2)
        .err()
        .unwrap();
    assert!(
        error.to_string().contains("x has 6 elements, expected 4"),
        "{error}"
    );

    let counter = ctx.upload("counter", &[1], &[0u32]).unwrap();
    let mask = poisoned(6);
    for keep in [0.0, -0.5, 1.5, f32::NAN] {
        let error = dropout_forward(ctx, &x, &poisoned(6), &mask, keep, 1, 0, &counter)
            .err()
            .unwrap();
        assert!(error.to_string().contains("keep_probability"), "{error}");
    }
}
