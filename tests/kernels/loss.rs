//! Losses: BCE with logits (loss, probability metric, slots, scale, accumulation) and softmax
//! cross-entropy, against the f64 reference on awkward shapes and at logits of ±100 and ±1e4;
//! both backward kernels also against central finite differences of the reference loss.

use gan_gpu::gpu::Tensor;
use gan_gpu::kernels::loss::*;
use gan_gpu::reference::loss as reference;

use crate::common::*;

fn upload_u32(values: &[u32]) -> Tensor {
    gpu().upload("labels", &[values.len()], values).unwrap()
}

fn upload_matrix(values: &[f32], rows: usize, cols: usize) -> Tensor {
    gpu().upload("logits", &[rows, cols], values).unwrap()
}

/// Central finite differences of `loss` at `x` in f64. With h = 1e-4 the truncation error is
/// ~h²·|f'''| ≈ 1e-9 relative and the rounding error ~ε·|loss|/h ≈ 1e-11 absolute, so comparisons
/// use an absolute floor well above 1e-11 / 1e-4 = 1e-7.
fn finite_differences(x: &[f64], loss: impl Fn(&[f64]) -> f64) -> Vec<f64> {
    let h = 1e-4;
    (0..x.len())
        .map(|i| {
            let mut plus = x.to_vec();
            let mut minus = x.to_vec();
            plus[i] += h;
            minus[i] -= h;
            (loss(&plus) - loss(&minus)) / (2.0 * h)
        })
        .collect()
}

/// Run `bce_with_logits` into slots 1 (loss) and 2 (probability) of a poisoned 4-slot tensor
/// (or one pre-filled with `initial` when accumulating) and return the slots.
fn bce_slots(logits: &[f32], target: f32, scale: f32, initial: Option<[f32; 4]>) -> Vec<f32> {
    let logits_gpu = upload(logits);
    let out_gpu = upload(&initial.unwrap_or([f32::NAN; 4]));
    let dispatch = bce_with_logits(
        gpu(),
        &logits_gpu,
        target,
        &out_gpu,
        1,
        Some(2),
        scale,
        initial.is_some(),
    )
    .unwrap();
    run_and_read(&[&dispatch], &out_gpu)
}

#[test]
fn bce_with_logits_matches_reference() {
    for batch in [1, 7, 65, 784, 1200] {
        for (target, scale) in [(1.0f32, 1.0f32), (0.0, 1.0), (0.0, -1.0), (0.9, 0.5)] {
            let what = format!("BCE B={batch} t={target} scale={scale}");
            let mut rng = rng(&what);
            let logits = uniform(&mut rng, batch, -6.0, 6.0);
            let z = to_f64(&logits);
            let loss = scale as f64 * reference::bce_with_logits(&z, target as f64);
            let probability = reference::mean_probability(&z);

            let out = bce_slots(&logits, target, scale, None);
            assert!(
                out[0].is_nan() && out[3].is_nan(),
                "{what}: other slots untouched"
            );
            // Every term is positive: no cancellation in the mean.
            assert_close(&what, &out[1..3], &[loss, probability], 1e-4, 1e-6);

            let out = bce_slots(&logits, target, scale, Some([9.0, 0.5, 0.25, 9.0]));
            assert_close(
                &format!("{what} accumulate"),
                &out,
                &[9.0, 0.5 + loss, 0.25 + probability, 9.0],
                1e-4,
                1e-6,
            );
        }
    }
    // Without a probability slot only the loss slot is written.
    let (logits_gpu, out_gpu) = (upload(&[0.5, -0.5]), poisoned(3));
    let d = bce_with_logits(gpu(), &logits_gpu, 1.0, &out_gpu, 0, None, 1.0, false).unwrap();
    let out = run_and_read(&[&d], &out_gpu);
    assert!(
        out[0].is_finite() && out[1].is_nan() && out[2].is_nan(),
        "{out:?}"
    );
}

#[test]
fn bce_is_exact_and_finite_at_extreme_logits() {
    let ctx = gpu();
    for z in [100.0f32, -100.0, 1e4, -1e4] {
        for target in [0.0f32, 1.0] {
            let what = format!("BCE(z={z}, t={target})");
            let out = bce_slots(&[z], target, 1.0, None);
            let expected = reference::bce_with_logits(&[z as f64], target as f64);
            // floor 1e-30: BCE(100, t=1) = log1p(e^−100) ≈ 3.7e-44, an f32 denormal (may flush to 0).
            assert_close(&what, &out[1..2], &[expected], 1e-4, 1e-30);
            let p = reference::mean_probability(&[z as f64]);
            assert_close(&format!("{what} σ"), &out[2..3], &[p], 1e-4, 1e-30);

            let (logits_gpu, dlogits_gpu) = (upload(&[z]), poisoned(1));
            let d = bce_with_logits_backward(ctx, &logits_gpu, target, &dlogits_gpu, 1.0).unwrap();
            let dlogits = run_and_read(&[&d], &dlogits_gpu);
            let expected = reference::bce_with_logits_backward(&[z as f64], target as f64, 1.0);
            assert_close(
                &format!("{what} backward"),
                &dlogits,
                &expected,
                1e-4,
                1e-30,
            );
        }
    }
    // The exact values the brief promises.
    assert_eq!(bce_slots(&[1e4], 0.0, 1.0, None)[1], 1e4);
    assert_eq!(bce_slots(&[-1e4], 1.0, 1.0, None)[1], 1e4);
    assert_eq!(bce_slots(&[1e4], 1.0, 1.0, None)[1], 0.0);
    // A batch mixing all extremes stays finite.
    let out = bce_slots(&[100.0, -100.0, 1e4, -1e4], 1.0, 1.0, None);
    assert_close(
        "mixed extremes",
        &out[1..2],
        &[(100.0 + 1e4) / 4.0],
        1e-6,
        1.0,
    );
}

#[test]
fn bce_backward_matches_reference_and_finite_differences() {
    let ctx = gpu();
    for batch in [1, 7, 65, 1200] {
        for (target, scale) in [(1.0f32, 1.0f32), (0.0, 1.0), (0.0, -1.0), (0.9, 2.0)] {
            let what = format!("BCE backward B={batch} t={target} scale={scale}");
            let mut rng = rng(&what);
            let logits = uniform(&mut rng, batch, -12.0, 12.0);
            let (logits_gpu, dlogits_gpu) = (upload(&logits), poisoned(batch));
            let d =
                bce_with_logits_backward(ctx, &logits_gpu, target, &dlogits_gpu, scale).unwrap();
            let dlogits = run_and_read(&[&d], &dlogits_gpu);

            let z = to_f64(&logits);
            let (t, s) = (target as f64, scale as f64);
            let expected = reference::bce_with_logits_backward(&z, t, s);
            // For t ∈ {0, 1} the kernel keeps full relative precision even where σ(z) ≈ t
            // (z = ±12: |σ − t| ≈ 6e-6). For a soft target σ(z) − t cancels in f32, leaving an
            // absolute error of a few ulp(1)·|s|/B (ulp(1) ≈ 1.2e-7): judge that part absolutely.
            let floor = if target == 0.0 || target == 1.0 {
                1e-20
            } else {
                1e-2 * (scale.abs() as f64) / batch as f64
            };
            assert_close(&what, &dlogits, &expected, 1e-4, floor);
            let numeric = finite_differences(&z, |z| s * reference::bce_with_logits(z, t));
            // Below 0.1% of the gradient's natural scale 1/B (≥ 8e-7 here), judge absolutely:
            // that is where the finite differences' own rounding error lives.
            let floor = 1e-3 / batch as f64;
            assert_close(
                &format!("{what} vs finite differences"),
                &dlogits,
                &numeric,
                1e-4,
                floor,
            );
        }
    }
}

#[test]
fn softmax_cross_entropy_matches_reference() {
    let ctx = gpu();
    for (batch, classes) in [
        (1, 1),
        (1, 10),
        (7, 63),
        (65, 10),
        (63, 7),
        (7, 1200),
        (1200, 10),
    ] {
        for accumulate in [false, true] {
            let what = format!("softmax CE [{batch}, {classes}] accumulate={accumulate}");
            let mut rng = rng(&what);
            let logits = uniform(&mut rng, batch * classes, -5.0, 5.0);
            let labels: Vec<u32> = (0..batch)
                .map(|_| uniform(&mut rng, 1, 0.0, classes as f32)[0] as u32)
                .collect();
            let (logits_gpu, labels_gpu) =
                (upload_matrix(&logits, batch, classes), upload_u32(&labels));
            let initial = [f32::NAN, 0.75];
            let out_gpu = upload(&if accumulate {
                [f32::NAN, 0.75]
            } else {
                [f32::NAN; 2]
            });
            let d = softmax_cross_entropy(ctx, &logits_gpu, &labels_gpu, &out_gpu, 1, accumulate)
                .unwrap();
            let out = run_and_read(&[&d], &out_gpu);
            assert!(out[0].is_nan(), "{what}: slot 0 untouched");
            let mut expected = reference::softmax_cross_entropy(&to_f64(&logits), &labels, classes);
            if accumulate {
                expected += initial[1] as f64;
            }
            assert_close(&what, &out[1..], &[expected], 1e-4, 1e-6);

            let dlogits_gpu = poisoned(batch * classes);
            let d = softmax_cross_entropy_backward(ctx, &logits_gpu, &labels_gpu, &dlogits_gpu)
                .unwrap();
            let dlogits = run_and_read(&[&d], &dlogits_gpu);
            let expected =
                reference::softmax_cross_entropy_backward(&to_f64(&logits), &labels, classes);
            // Gradients of order 1/B; smaller probabilities are judged against 1e-6/B.
            assert_close(
                &format!("{what} backward"),
                &dlogits,
                &expected,
                1e-4,
                1e-6 / batch as f64,
            );
        }
    }
}

#[test]
fn softmax_cross_entropy_backward_matches_finite_differences() {
    let ctx = gpu();
    for (batch, classes) in [(1, 3), (7, 10), (65, 7)] {
        let what = format!("softmax CE finite differences [{batch}, {classes}]");
        let mut rng = rng(&what);
        let logits = uniform(&mut rng, batch * classes, -4.0, 4.0);
        let labels: Vec<u32> = (0..batch).map(|b| (b * 5 % classes) as u32).collect();
        let (logits_gpu, labels_gpu) =
            (upload_matrix(&logits, batch, classes), upload_u32(&labels));
        let dlogits_gpu = poisoned(batch * classes);
        let d =
            softmax_cross_entropy_backward(ctx, &logits_gpu, &labels_gpu, &dlogits_gpu).unwrap();
        let dlogits = run_and_read(&[&d], &dlogits_gpu);
        let numeric = finite_differences(&to_f64(&logits), |z| {
            reference::softmax_cross_entropy(z, &labels, classes)
        });
        assert_close(&what, &dlogits, &numeric, 1e-4, 1e-4 / batch as f64);
    }
}

#[test]
fn softmax_cross_entropy_is_finite_at_extremes_and_clamps_labels() {
    let ctx = gpu();
    // Rows: confident and right, confident and wrong, ±100, and labels past the last class.
    let classes = 4;
    let logits = [
        1e4, -1e4, 0.0, -1e4, // label 0: loss 0
        -1e4, 1e4, -1e4, 1e4, // label 0, confidently wrong: loss 2e4 + log 2
        100.0, -100.0, 100.0, 0.0, // label 2: loss log 2
        0.5, 1.0, -1.0, 2.0, // label 7 → clamped to 3
        3.0, 1.0, 2.0, -2.0, // label u32::MAX → clamped to 3
    ];
    let labels = [0u32, 0, 2, 7, u32::MAX];
    let batch = labels.len();
    let (logits_gpu, labels_gpu) = (upload_matrix(&logits, batch, classes), upload_u32(&labels));
    let out_gpu = poisoned(1);
    let d = softmax_cross_entropy(ctx, &logits_gpu, &labels_gpu, &out_gpu, 0, false).unwrap();
    let out = run_and_read(&[&d], &out_gpu);
    let expected = reference::softmax_cross_entropy(&to_f64(&logits), &labels, classes);
    assert_close("softmax CE extremes", &out, &[expected], 1e-4, 1e-6);

    let dlogits_gpu = poisoned(batch * classes);
    let d = softmax_cross_entropy_backward(ctx, &logits_gpu, &labels_gpu, &dlogits_gpu).unwrap();
    let dlogits = run_and_read(&[&d], &dlogits_gpu);
    let expected = reference::softmax_cross_entropy_backward(&to_f64(&logits), &labels, classes);
    assert_close(
        "softmax CE extremes backward",
        &dlogits,
        &expected,
        1e-4,
        1e-6,
    );
    // Each row's gradient sums to 0 and the clamped label gets the negative entry.
    for row in dlogits.chunks(classes) {
        assert!(row.iter().sum::<f32>().abs() < 1e-6, "{row:?}");
    }
    assert!(dlogits[3 * classes + 3] < 0.0 && dlogits[4 * classes + 3] < 0.0);
}

#[test]
fn losses_reject_bad_shapes() {
    let ctx = gpu();
    let logits = upload_matrix(&[0.0; 6], 2, 3);
    let labels = upload_u32(&[0, 1, 2]);
    let error = softmax_cross_entropy(ctx, &logits, &labels, &poisoned(1), 0, false)
        .err()
        .unwrap();
    assert!(
        error
            .to_string()
            .contains("labels has 3 elements, expected 2"),
        "{error}"
    );
    let error = softmax_cross_entropy(ctx, &upload(&[0.0; 6]), &labels, &poisoned(1), 0, false)
        .err()
        .unwrap();
    assert!(error.to_string().contains("[rows, classes]"), "{error}");
    let error = bce_with_logits_backward(ctx, &upload(&[0.0; 4]), 1.0, &poisoned(3), 1.0)
        .err()
        .unwrap();
    assert!(
        error
            .to_string()
            .contains("dlogits has 3 elements, expected 4"),
        "{error}"
    );
    let error = bce_with_logits(
        ctx,
        &upload(&[0.0; 4]),
        1.0,
        &poisoned(2),
        0,
        Some(2),
        1.0,
        false,
    )
    .err()
    .unwrap();
    assert!(error.to_string().contains("slot 2"), "{error}");
}
