//! Lipschitz-penalty kernels: interpolation, the gradient penalty (value, adjoint, metrics;
//! squared, one-sided and hinge ψ, norms over all or a prefix of the columns; zero rows), the φ'' product, the in-place add and the finite-difference
//! penalty (including coinciding points), on awkward shapes against the f64 reference.

use gan_gpu::gpu::Tensor;
use gan_gpu::kernels::Activation;
use gan_gpu::kernels::penalty::*;
use gan_gpu::reference::penalty as reference;

use crate::common::*;

const FORMS: [PenaltyForm; 3] = [
    PenaltyForm::Squared,
    PenaltyForm::OneSidedSquared,
    PenaltyForm::Hinge,
];

const SHAPES: [(usize, usize); 5] = [(1, 1), (1, 784), (7, 63), (65, 2), (300, 7)];

const SLOTS: PenaltySlots = PenaltySlots {
    penalty: 1,
    norm: 3,
    loss: 0,
};

fn upload_matrix(values: &[f32], rows: usize, cols: usize) -> Tensor {
    gpu().upload("test matrix", &[rows, cols], values).unwrap()
}

/// Metrics that already hold sums (the kernels add to them), and their starting values.
fn metrics() -> (Tensor, [f32; 5]) {
    let start = [0.5, -0.25, 7.0, 2.0, 3.0];
    (upload(&start), start)
}

fn check_metrics(
    what: &str,
    got: &[f32],
    start: [f32; 5],
    value: f64,
    mean_slope: f64,
    lambda: f64,
) {
    let expected = [
        start[0] as f64 + value,
        start[1] as f64 + value,
        start[2] as f64,
        start[3] as f64 + mean_slope,
        start[4] as f64,
    ];
    // The sums of f32 terms are judged against their natural scale (λ, the slopes' size).
    assert_close(
        &format!("{what}: metrics"),
        got,
        &expected,
        1e-5,
        lambda.max(1.0),
    );
}

#[test]
fn interpolate_mixes_rows_with_their_own_epsilon() {
    let ctx = gpu();
    for (rows, cols) in SHAPES {
        let what = format!("interpolate [{rows}, {cols}]");
        let mut rng = rng(&what);
        let real = uniform(&mut rng, rows * cols, -3.0, 3.0);
        let fake = uniform(&mut rng, rows * cols, -3.0, 3.0);
        let mut eps = uniform(&mut rng, rows, 0.0, 1.0);
        eps[0] = 1.0; // the top value fill_uniform can give: x̂ = x exactly
        let out = poisoned(rows * cols);
        let dispatch = interpolate(
            ctx,
            &upload_matrix(&real, rows, cols),
            &upload_matrix(&fake, rows, cols),
            &upload(&eps),
            &out,
        )
        .unwrap();
        let got = run_and_read(&[&dispatch], &out);
        let expected = reference::interpolate(&to_f64(&real), &to_f64(&fake), &to_f64(&eps), cols);
        assert_close(&what, &got, &expected, 1e-6, 3.0);
        assert_eq!(
            got[..cols],
            real[..cols],
            "{what}: ε = 1 gives the real row"
        );
    }
}

#[test]
fn gradient_penalty_value_adjoint_and_metrics() {
    let ctx = gpu();
    for (rows, cols) in SHAPES {
        // The norm over all columns, and over an image part followed by label columns.
        let norm_widths = if cols > 3 {
            vec![cols, cols - 3]
        } else {
            vec![cols]
        };
        for (form, norm_cols) in FORMS
            .into_iter()
            .flat_map(|form| norm_widths.iter().map(move |&w| (form, w)))
        {
            let what = format!("gradient_penalty [{rows}, {cols}] {form:?} norm over {norm_cols}");
            let mut rng = rng(&what);
            // Row norms on both sides of 1, and a zero row where there are several.
            let spread = 2.0 / (cols as f32).sqrt();
            let mut g = uniform(&mut rng, rows * cols, -spread, spread);
            if rows > 1 {
                g[cols..2 * cols].fill(0.0);
            }
            let lambda = 10.0;
            let adjoint = poisoned(rows * cols);
            let (metrics, start) = metrics();
            let dispatch = gradient_penalty(
                ctx,
                &upload_matrix(&g, rows, cols),
                &adjoint,
                &metrics,
                (PenaltyShape { lambda, form }, norm_cols),
                SLOTS,
            )
            .unwrap();
            let got = run_and_read(&[&dispatch], &adjoint);
            let expected =
                reference::gradient_penalty(&to_f64(&g), (cols, norm_cols), lambda as f64, form);
            // Each adjoint element is coefficient·g: relative to the row's scale λ/B·|g|.
            let floor = lambda as f64 / rows as f64 * spread as f64 * 1e-2;
            assert_close(
                &format!("{what}: adjoint"),
                &got,
                &expected.adjoint,
                1e-4,
                floor,
            );
            if rows > 1 {
                assert!(
                    got[cols..2 * cols].iter().all(|&v| v == 0.0),
                    "{what}: zero row"
                );
            }
            let m = ctx.read_f32(&metrics).unwrap();
            check_metrics(
                &what,
                &m,
                start,
                expected.value,
                expected.mean_slope,
                lambda as f64,
            );
        }
    }
}

#[test]
fn second_derivative_term_of_smooth_activations() {
    let ctx = gpu();
    for n in [1, 63, 65, 784] {
        for activation in [
            Activation::Tanh,
            Activation::Sigmoid,
            Activation::LeakyRelu(0.2),
            Activation::Relu,
            Activation::Identity,
        ] {
            let what = format!("second_derivative n={n} {activation:?}");
            let mut rng = rng(&what);
            let ebar = uniform(&mut rng, n, -2.0, 2.0);
            let delta = uniform(&mut rng, n, -2.0, 2.0);
            // Outputs in the activation's range (tanh (−1, 1), sigmoid (0, 1)).
            let y: Vec<f32> = uniform(&mut rng, n, -8.0, 8.0)
                .iter()
                .map(|&a| gan_gpu::reference::activation::activate(a as f64, activation) as f32)
                .collect();
            let out = poisoned(n);
            let dispatch = second_derivative(
                ctx,
                &upload(&ebar),
                &upload(&delta),
                &upload(&y),
                &out,
                activation,
            )
            .unwrap();
            let got = run_and_read(&[&dispatch], &out);
            let expected = reference::second_derivative(
                &to_f64(&ebar),
                &to_f64(&delta),
                &to_f64(&y),
                activation,
            );
            // 1 − y² and 1 − y cancel near saturation: judge against the uncancelled size.
            let scale: Vec<f64> = ebar
                .iter()
                .zip(&delta)
                .map(|(&e, &d)| 2.0 * (e as f64 * d as f64).abs())
                .collect();
            assert_close_scaled(&what, &got, &expected, &scale, 1e-6);
            if !matches!(activation, Activation::Tanh | Activation::Sigmoid) {
                assert!(
                    got.iter().all(|&v| v == 0.0),
                    "{what}: piecewise linear has φ'' = 0"
                );
            }
        }
    }
}

#[test]
fn add_in_place_adds() {
    let ctx = gpu();
    for n in [1, 65, 1000] {
        let what = format!("add_in_place n={n}");
        let mut rng = rng(&what);
        let x = uniform(&mut rng, n, -1.0, 1.0);
        let start = uniform(&mut rng, n, -1.0, 1.0);
        let out = upload(&start);
        let dispatch = add_in_place(ctx, &upload(&x), &out).unwrap();
        let got = run_and_read(&[&dispatch], &out);
        let expected: Vec<f64> = x
            .iter()
            .zip(&start)
            .map(|(&a, &b)| a as f64 + b as f64)
            .collect();
        assert_close(&what, &got, &expected, 1e-6, 1.0);
    }
}

#[test]
fn lipschitz_penalty_ratio_and_gradients() {
    let ctx = gpu();
    for (rows, cols) in SHAPES {
        for form in FORMS {
            let what = format!("lipschitz_penalty [{rows}, {cols}] {form:?}");
            let mut rng = rng(&what);
            let y1 = uniform(&mut rng, rows * cols, -1.0, 1.0);
            let mut y2 = uniform(&mut rng, rows * cols, -1.0, 1.0);
            if rows > 1 {
                y2[cols..2 * cols].copy_from_slice(&y1[cols..2 * cols]); // coinciding points
            }
            // Slopes around 1: |d1 − d2| up to twice the typical distance.
            let scale = (cols as f32 / 1.5).sqrt();
            let d1 = uniform(&mut rng, rows, -scale, scale);
            let d2 = uniform(&mut rng, rows, -scale, scale);
            let lambda = 10.0;
            let (grad1, grad2) = (poisoned(rows), poisoned(rows));
            let (metrics, start) = metrics();
            let dispatch = lipschitz_penalty(
                ctx,
                (&upload(&d1), &upload(&d2)),
                (
                    &upload_matrix(&y1, rows, cols),
                    &upload_matrix(&y2, rows, cols),
                ),
                (&grad1, &grad2),
                &metrics,
                PenaltyShape { lambda, form },
                SLOTS,
            )
            .unwrap();
            let got1 = run_and_read(&[&dispatch], &grad1);
            let got2 = ctx.read_f32(&grad2).unwrap();
            let expected = reference::lipschitz_penalty(
                (&to_f64(&d1), &to_f64(&d2)),
                (&to_f64(&y1), &to_f64(&y2)),
                cols,
                lambda as f64,
                form,
            );
            let floor = lambda as f64 / rows as f64 * 1e-2;
            assert_close(
                &format!("{what}: grad1"),
                &got1,
                &expected.adjoint,
                1e-4,
                floor,
            );
            assert_close(
                &format!("{what}: grad2"),
                &got2,
                &expected.adjoint2,
                1e-4,
                floor,
            );
            if rows > 1 {
                assert_eq!((got1[1], got2[1]), (0.0, 0.0), "{what}: coinciding points");
            }
            let m = ctx.read_f32(&metrics).unwrap();
            check_metrics(
                &what,
                &m,
                start,
                expected.value,
                expected.mean_slope,
                lambda as f64,
            );
        }
    }
}

#[test]
fn bad_shapes_and_settings_are_errors() {
    let ctx = gpu();
    let g = upload_matrix(&[0.0; 6], 2, 3);
    let (metrics, _) = metrics();
    let shape = PenaltyShape {
        lambda: 1.0,
        form: PenaltyForm::Squared,
    };
    let message = |r: gan_gpu::Result<gan_gpu::gpu::Dispatch>| r.err().unwrap().to_string();
    let nan = PenaltyShape {
        lambda: f32::NAN,
        ..shape
    };
    let outside = PenaltySlots { norm: 5, ..SLOTS };
    let same = PenaltySlots { norm: 1, ..SLOTS };
    for (adjoint_len, shape, slots, expected) in [
        (5, shape, SLOTS, "adjoint"),
        (6, nan, SLOTS, "lambda"),
        (6, shape, outside, "slot 5"),
        (6, shape, same, "must differ"),
    ] {
        let adjoint = upload(&vec![0.0; adjoint_len]);
        let error = message(gradient_penalty(
            ctx,
            &g,
            &adjoint,
            &metrics,
            (shape, 3),
            slots,
        ));
        assert!(error.contains(expected), "{expected}: {error}");
    }
    for norm_cols in [0, 4] {
        let adjoint = upload(&[0.0; 6]);
        let error = message(gradient_penalty(
            ctx,
            &g,
            &adjoint,
            &metrics,
            (shape, norm_cols),
            SLOTS,
        ));
        assert!(error.contains("1 to 3 columns"), "{norm_cols}: {error}");
    }
    assert!(
        message(interpolate(
            ctx,
            &g,
            &g,
            &upload(&[0.5; 3]),
            &upload(&[0.0; 6])
        ))
        .contains("eps")
    );
}
