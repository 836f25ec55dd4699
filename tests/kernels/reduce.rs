//! Reductions: bias gradients (column sums, overwrite and accumulate), the scaled mean into a
//! metrics slot and its gradient, and per-row squared norms, on awkward shapes.

use gan_gpu::gpu::Tensor;
use gan_gpu::kernels::reduce::*;
use gan_gpu::reference::reduce as reference;

use crate::common::*;

const SHAPES: [(usize, usize); 6] = [(1, 1), (1, 1200), (7, 63), (65, 784), (63, 65), (784, 7)];

fn upload_matrix(values: &[f32], rows: usize, cols: usize) -> Tensor {
    gpu().upload("test matrix", &[rows, cols], values).unwrap()
}

#[test]
fn bias_gradient_sums_columns() {
    let ctx = gpu();
    for (rows, cols) in SHAPES {
        for accumulate in [false, true] {
            let what = format!("bias_gradient [{rows}, {cols}] accumulate={accumulate}");
            let mut rng = rng(&what);
            let dy = uniform(&mut rng, rows * cols, -1.0, 1.0);
            let initial = uniform(&mut rng, cols, -1.0, 1.0);
            let dy_gpu = upload_matrix(&dy, rows, cols);
            let db_gpu = if accumulate {
                upload(&initial)
            } else {
                poisoned(cols)
            };
            let dispatch = bias_gradient(ctx, &dy_gpu, &db_gpu, accumulate).unwrap();
            let db = run_and_read(&[&dispatch], &db_gpu);
            let mut expected = reference::column_sums(&to_f64(&dy), cols);
            let mut scale = reference::column_sums(&abs(&dy), cols);
            if accumulate {
                for ((e, s), &b) in expected.iter_mut().zip(scale.iter_mut()).zip(&initial) {
                    *e += b as f64;
                    *s += b.abs() as f64;
                }
            }
            // Sums of signed values cancel: judge the error against Σ|dy|.
            assert_close_scaled(&what, &db, &expected, &scale, 1e-5);
        }
    }
}

#[test]
fn mean_writes_and_accumulates_its_slot() {
    let ctx = gpu();
    for n in [1, 7, 63, 65, 784, 1200, 65 * 784] {
        for accumulate in [false, true] {
            let what = format!("mean n={n} accumulate={accumulate}");
            let mut rng = rng(&what);
            // Offset so the mean is far from 0 and the relative bound is meaningful.
            let x = uniform(&mut rng, n, -0.5, 1.5);
            let scale = -1.5f32;
            let initial = [f32::NAN, 0.25, f32::NAN, f32::NAN];
            let out_gpu = upload(&initial);
            let x_gpu = upload(&x);
            let dispatch = mean(ctx, &x_gpu, &out_gpu, 1, scale, accumulate).unwrap();
            let out = run_and_read(&[&dispatch], &out_gpu);
            let mut expected = scale as f64 * reference::mean(&to_f64(&x));
            if accumulate {
                expected += 0.25;
            }
            assert_close(&what, &out[1..2], &[expected], 1e-4, 1e-2);
            assert!(
                out[0].is_nan() && out[2].is_nan() && out[3].is_nan(),
                "{what}: other slots untouched"
            );
        }
    }
}

#[test]
fn mean_backward_is_scale_over_n() {
    let ctx = gpu();
    for n in [1, 65, 1200, 65 * 1200] {
        let dx_gpu = poisoned(n);
        let dispatch = mean_backward(ctx, &dx_gpu, -2.5).unwrap();
        let dx = run_and_read(&[&dispatch], &dx_gpu);
        assert_close(
            &format!("mean_backward n={n}"),
            &dx,
            &vec![-2.5 / n as f64; n],
            1e-6,
            0.0,
        );
    }
}

#[test]
fn sum_of_squares_per_row() {
    let ctx = gpu();
    for (rows, cols) in SHAPES {
        let what = format!("sum_of_squares_rows [{rows}, {cols}]");
        let mut rng = rng(&what);
        let x = uniform(&mut rng, rows * cols, -2.0, 2.0);
        let (x_gpu, out_gpu) = (upload_matrix(&x, rows, cols), poisoned(rows));
        let dispatch = sum_of_squares_rows(ctx, &x_gpu, &out_gpu).unwrap();
        let out = run_and_read(&[&dispatch], &out_gpu);
        let expected = reference::sum_of_squares_rows(&to_f64(&x), cols);
        // Terms are non-negative: no cancellation, a plain relative bound holds.
        assert_close(&what, &out, &expected, 1e-4, 1e-6);
    }
}

#[test]
fn reductions_reject_bad_shapes() {
    let ctx = gpu();
    let dy = upload_matrix(&[1.0; 6], 2, 3);
    let error = bias_gradient(ctx, &dy, &poisoned(2), false).err().unwrap();
    assert!(
        error.to_string().contains("db has 2 elements, expected 3"),
        "{error}"
    );
    let error = sum_of_squares_rows(ctx, &dy, &poisoned(3)).err().unwrap();
    assert!(
        error.to_string().contains("out has 3 elements, expected 2"),
        "{error}"
    );
    let error = bias_gradient(
        ctx,
        &upload(&[1.0; 6]).reshaped(&[1, 2, 3]),
        &poisoned(3),
        false,
    )
    .err()
    .unwrap();
    assert!(error.to_string().contains("must be 2-D"), "{error}");
    let error = mean(ctx, &dy, &poisoned(2), 2, 1.0, false).err().unwrap();
    assert!(error.to_string().contains("slot 2"), "{error}");
}
