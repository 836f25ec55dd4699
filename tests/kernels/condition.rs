//! Conditioning kernels: one-hot labels appended to rows (as features, and as constant
//! channels of an image), and the image part taken back out, on awkward shapes against the f64
//! reference; bad shapes are errors.

use gan_gpu::kernels::condition::*;
use gan_gpu::reference::condition as reference;
use rand::RngExt;

use crate::common::*;

#[test]
fn append_one_hot_matches_reference() {
    let ctx = gpu();
    // (rows, F, K, S): feature rows, a gray 28×28 image with 10 label channels, odd sizes.
    for (rows, cols, classes, repeat) in [
        (1, 1, 2, 1),
        (7, 63, 10, 1),
        (3, 784, 10, 784),
        (65, 5, 3, 9),
    ] {
        let what = format!("append_one_hot [{rows}, {cols}] K {classes} S {repeat}");
        let mut rng = rng(&what);
        let x = uniform(&mut rng, rows * cols, -1.0, 1.0);
        let labels: Vec<u32> = (0..rows)
            .map(|_| rng.random_range(0..classes as u32))
            .collect();
        let width = cols + classes * repeat;
        let out = poisoned(rows * width);
        let layout = LabelLayout { classes, repeat };
        let labels_tensor = ctx.upload("labels", &[rows], &labels).unwrap();
        let dispatch = append_one_hot(ctx, &upload(&x), &labels_tensor, &out, layout).unwrap();
        let got = run_and_read(&[&dispatch], &out);
        let expected = reference::append_one_hot(&to_f64(&x), &labels, cols, (classes, repeat));
        assert_close(&what, &got, &expected, 0.0, 1.0);
        // Each row's label part sums to S (one class on, S values each).
        for (b, row) in got.chunks(width).enumerate() {
            let ones: f32 = row[cols..].iter().sum();
            assert_eq!(ones, repeat as f32, "{what}: row {b}");
        }
    }
}

#[test]
fn take_columns_matches_reference() {
    let ctx = gpu();
    for (rows, width, cols) in [(1, 1, 1), (7, 73, 63), (3, 8624, 784), (65, 12, 2)] {
        let what = format!("take_columns [{rows}, {width}] → {cols}");
        let mut rng = rng(&what);
        let x = uniform(&mut rng, rows * width, -1.0, 1.0);
        let out = poisoned(rows * cols);
        let dispatch = take_columns(ctx, &upload(&x), &out, rows).unwrap();
        let got = run_and_read(&[&dispatch], &out);
        let expected = reference::take_columns(&to_f64(&x), width, cols);
        assert_close(&what, &got, &expected, 0.0, 1.0);
    }
}

#[test]
fn bad_condition_shapes_are_errors() {
    let ctx = gpu();
    let labels = ctx.upload("labels", &[2], &[0u32, 1]).unwrap();
    let layout = LabelLayout {
        classes: 3,
        repeat: 1,
    };
    let message = |r: gan_gpu::Result<gan_gpu::gpu::Dispatch>| r.err().unwrap().to_string();
    let error = message(append_one_hot(
        ctx,
        &upload(&[0.0; 4]),
        &labels,
        &upload(&[0.0; 9]),
        layout,
    ));
    assert!(error.contains("out") && error.contains("10"), "{error}");
    let error = message(append_one_hot(
        ctx,
        &upload(&[0.0; 5]),
        &labels,
        &upload(&[0.0; 10]),
        layout,
    ));
    assert!(error.contains("5 elements for 2 labels"), "{error}");
    let error = message(take_columns(ctx, &upload(&[0.0; 4]), &upload(&[0.0; 6]), 2));
    assert!(error.contains("cols ≤ W"), "{error}");
}
