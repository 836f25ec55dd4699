//! Convolution: im2col / col2im alone, the rows ↔ NCHW reshuffles, the per-channel sum, and every
//! `ConvOp` pass (Conv2d and ConvTranspose2d forward, input gradient, weight and bias gradients,
//! overwrite and accumulate) against the direct nested-loop reference, on awkward shapes.

use gan_gpu::gpu::Tensor;
use gan_gpu::kernels::conv::*;
use gan_gpu::reference::conv as reference;

use crate::common::*;

/// Errors of f32 sums of products, relative to the same sums over absolute values.
const REL: f64 = 2e-5;

fn len(shape: [usize; 4]) -> usize {
    shape.iter().product()
}

/// (batch, in_c, out_c, h, w, k_h, k_w, stride, padding) of a layer: together they cover batch 1
/// and 5, 1 and 3 channels, 7×7, 28×28 and 13×9 inputs, kernels 1/3/4/5, stride 1/2, padding 0/1/2.
type Layer = (
    usize,
    usize,
    usize,
    usize,
    usize,
    usize,
    usize,
    usize,
    usize,
);

const CONV2D: [Layer; 5] = [
    (1, 1, 3, 28, 28, 4, 4, 2, 1),
    (5, 3, 1, 7, 7, 3, 3, 1, 1),
    (1, 3, 3, 13, 9, 5, 5, 2, 2),
    (5, 1, 3, 13, 9, 1, 1, 1, 0),
    (1, 3, 1, 7, 7, 4, 3, 2, 0),
];

const CONV_TRANSPOSE2D: [Layer; 5] = [
    (5, 3, 1, 7, 7, 4, 4, 2, 1),
    (1, 1, 3, 13, 9, 3, 3, 1, 1),
    (1, 3, 3, 7, 7, 5, 5, 2, 2),
    (5, 1, 1, 28, 28, 1, 1, 1, 0),
    (2, 3, 3, 13, 9, 4, 3, 2, 0),
];

fn op(transposed: bool, (b, ci, co, h, w, kh, kw, s, p): Layer) -> ConvOp {
    if transposed {
        ConvOp::conv_transpose2d(b, ci, co, h, w, kh, kw, s, p).unwrap()
    } else {
        ConvOp::conv2d(b, ci, co, h, w, kh, kw, s, p).unwrap()
    }
}

/// The reference's (forward, backward_input, backward_weight, backward_bias) of `op`.
struct Reference {
    op: ConvOp,
}

impl Reference {
    fn forward(&self, x: &[f64], w: &[f64], b: Option<&[f64]>) -> Vec<f64> {
        let (g, c) = (self.op.geometry, self.op.out_channels);
        if self.op.transposed {
            reference::conv_transpose2d_forward(x, w, b, g, c)
        } else {
            reference::conv2d_forward(x, w, b, g, c)
        }
    }

    fn backward_input(&self, dy: &[f64], w: &[f64]) -> Vec<f64> {
        let (g, c) = (self.op.geometry, self.op.out_channels);
        if self.op.transposed {
            reference::conv_transpose2d_backward_input(dy, w, g, c)
        } else {
            reference::conv2d_backward_input(dy, w, g, c)
        }
    }

    fn backward_weight(&self, x: &[f64], dy: &[f64]) -> Vec<f64> {
        let (g, c) = (self.op.geometry, self.op.out_channels);
        if self.op.transposed {
            reference::conv_transpose2d_backward_weight(x, dy, g, c)
        } else {
            reference::conv2d_backward_weight(x, dy, g, c)
        }
    }

    fn backward_bias(&self, dy: &[f64]) -> Vec<f64> {
        let (g, c) = (self.op.geometry, self.op.out_channels);
        if self.op.transposed {
            reference::conv_transpose2d_backward_bias(dy, g)
        } else {
            reference::conv2d_backward_bias(dy, g, c)
        }
    }
}

fn upload_shaped(values: &[f32], shape: &[usize]) -> Tensor {
    gpu().upload("test input", shape, values).unwrap()
}

/// Forward (with and without bias), input gradient, and parameter gradients (overwrite or
/// accumulate) of one layer, each against the reference.
fn check_layer(transposed: bool, layer: Layer, bias: bool, accumulate: bool) {
    let ctx = gpu();
    let op = op(transposed, layer);
    let what = format!("{op:?} bias={bias} accumulate={accumulate}");
    let mut rng = rng(&what);
    let (x_len, y_len) = (len(op.input_shape()), len(op.output_shape()));
    let [wr, wc] = op.weight_shape();
    let out_c = op.output_shape()[1];
    let x = uniform(&mut rng, x_len, -1.0, 1.0);
    let w = uniform(&mut rng, wr * wc, -1.0, 1.0);
    let b = uniform(&mut rng, out_c, -1.0, 1.0);
    let dy = uniform(&mut rng, y_len, -1.0, 1.0);
    let dw0 = uniform(&mut rng, wr * wc, -1.0, 1.0);
    let db0 = uniform(&mut rng, out_c, -1.0, 1.0);

    let x_gpu = upload_shaped(&x, &op.input_shape());
    let w_gpu = upload_shaped(&w, &op.weight_shape());
    let b_gpu = upload(&b);
    let dy_gpu = upload_shaped(&dy, &op.output_shape());
    let (y_gpu, dx_gpu) = (poisoned(y_len), poisoned(x_len));
    let (dw_gpu, db_gpu) = if accumulate {
        (upload(&dw0), upload(&db0))
    } else {
        (poisoned(wr * wc), poisoned(out_c))
    };
    let scratch = ConvScratch::new(ctx, "test", &op).unwrap();
    // Poison the scratch too, so a pass that relies on something it never wrote shows.
    for t in [
        &scratch.cols,
        &scratch.rows,
        &scratch.grad_rows,
        &scratch.grad_cols,
    ] {
        ctx.write(t, &vec![f32::NAN; t.len()]);
    }

    let bias_gpu = bias.then_some(&b_gpu);
    let mut dispatches = op
        .forward(ctx, &x_gpu, &w_gpu, bias_gpu, &y_gpu, &scratch)
        .unwrap();
    // backward_params right after forward (it must not need backward_input), then the input
    // gradient (which reuses scratch that backward_params also wrote).
    dispatches.extend(
        op.backward_params(
            ctx,
            &dy_gpu,
            &dw_gpu,
            bias.then_some(&db_gpu),
            accumulate,
            &scratch,
        )
        .unwrap(),
    );
    dispatches.extend(
        op.backward_input(ctx, &dy_gpu, &w_gpu, &dx_gpu, &scratch)
            .unwrap(),
    );
    let refs: Vec<_> = dispatches.iter().collect();
    let y = run_and_read(&refs, &y_gpu);
    let dx = ctx.read_f32(&dx_gpu).unwrap();
    let dw = ctx.read_f32(&dw_gpu).unwrap();

    let r = Reference { op };
    let (x64, w64, b64, dy64) = (to_f64(&x), to_f64(&w), to_f64(&b), to_f64(&dy));
    let (bias_ref, bias_abs) = (bias.then_some(&b64[..]), abs(&b));
    let bias_abs = bias.then_some(&bias_abs[..]);
    assert_close_scaled(
        &format!("{what} forward"),
        &y,
        &r.forward(&x64, &w64, bias_ref),
        &r.forward(&abs(&x), &abs(&w), bias_abs),
        REL,
    );
    assert_close_scaled(
        &format!("{what} backward_input"),
        &dx,
        &r.backward_input(&dy64, &w64),
        &r.backward_input(&abs(&dy), &abs(&w)),
        REL,
    );
    let add = |mut v: Vec<f64>, initial: &[f32], absolute: bool| {
        if accumulate {
            for (e, &i) in v.iter_mut().zip(initial) {
                *e += if absolute { i.abs() as f64 } else { i as f64 };
            }
        }
        v
    };
    assert_close_scaled(
        &format!("{what} weight gradient"),
        &dw,
        &add(r.backward_weight(&x64, &dy64), &dw0, false),
        &add(r.backward_weight(&abs(&x), &abs(&dy)), &dw0, true),
        REL,
    );
    if bias {
        let db = ctx.read_f32(&db_gpu).unwrap();
        assert_close_scaled(
            &format!("{what} bias gradient"),
            &db,
            &add(r.backward_bias(&dy64), &db0, false),
            &add(r.backward_bias(&abs(&dy)), &db0, true),
            REL,
        );
    }
}

#[test]
fn conv2d_forward_and_backward_match_reference() {
    for (i, layer) in CONV2D.into_iter().enumerate() {
        check_layer(false, layer, i != 3, i % 2 == 1);
    }
}

#[test]
fn conv_transpose2d_forward_and_backward_match_reference() {
    for (i, layer) in CONV_TRANSPOSE2D.into_iter().enumerate() {
        check_layer(true, layer, i != 2, i % 2 == 0);
    }
}

#[test]
fn im2col_and_col2im_alone() {
    let ctx = gpu();
    for (i, layer) in CONV2D.into_iter().enumerate() {
        let g = op(false, layer).geometry;
        let what = format!("im2col/col2im {g:?}");
        let mut rng = rng(&what);
        let image = uniform(&mut rng, g.image_len(), -1.0, 1.0);
        let cols = uniform(&mut rng, g.positions() * g.patch_len(), -1.0, 1.0);
        let bias = uniform(&mut rng, g.channels, -1.0, 1.0);
        let (image_gpu, cols_gpu, bias_gpu) = (upload(&image), upload(&cols), upload(&bias));
        let (cols_out, image_out) = (poisoned(cols.len()), poisoned(image.len()));
        let with_bias = i % 2 == 0;
        let d1 = im2col(ctx, &image_gpu, &cols_out, g).unwrap();
        let d2 = col2im(
            ctx,
            &cols_gpu,
            &image_out,
            g,
            with_bias.then_some(&bias_gpu),
        )
        .unwrap();
        let got_cols = run_and_read(&[&d1, &d2], &cols_out);
        let got_image = ctx.read_f32(&image_out).unwrap();
        // im2col only copies: exact.
        assert_close(
            &format!("{what} im2col"),
            &got_cols,
            &reference::im2col(&to_f64(&image), g),
            0.0,
            1.0,
        );
        let b64 = to_f64(&bias);
        let b_abs = abs(&bias);
        assert_close_scaled(
            &format!("{what} col2im bias={with_bias}"),
            &got_image,
            &reference::col2im(&to_f64(&cols), g, with_bias.then_some(&b64[..])),
            &reference::col2im(&abs(&cols), g, with_bias.then_some(&b_abs[..])),
            1e-6,
        );
    }
}

#[test]
fn rows_channels_reshuffles_and_channel_sum() {
    let ctx = gpu();
    for (batch, channels, spatial) in [(1, 1, 1), (5, 3, 49), (1, 3, 117), (5, 1, 784), (2, 65, 9)]
    {
        for accumulate in [false, true] {
            let what = format!("[{batch}, {channels}, {spatial}] accumulate={accumulate}");
            let mut rng = rng(&what);
            let n = batch * channels * spatial;
            let x = uniform(&mut rng, n, -1.0, 1.0);
            let bias = uniform(&mut rng, channels, -1.0, 1.0);
            let initial = uniform(&mut rng, channels, -1.0, 1.0);
            let x_gpu = upload(&x);
            let bias_gpu = upload(&bias);
            let (rows, back, sums) = (
                poisoned(n),
                poisoned(n),
                if accumulate {
                    upload(&initial)
                } else {
                    poisoned(channels)
                },
            );
            let d1 = channels_to_rows(ctx, &x_gpu, &rows, batch, channels).unwrap();
            let d2 = rows_to_channels(ctx, &rows, &back, batch, channels, Some(&bias_gpu)).unwrap();
            let d3 = channel_sum(ctx, &x_gpu, &sums, batch, channels, accumulate).unwrap();
            let got_rows = run_and_read(&[&d1, &d2, &d3], &rows);
            let got_back = ctx.read_f32(&back).unwrap();
            let got_sums = ctx.read_f32(&sums).unwrap();
            let mut expected_rows = vec![0.0; n];
            let mut expected_back = vec![0.0; n];
            for b in 0..batch {
                for c in 0..channels {
                    for p in 0..spatial {
                        let i = (b * channels + c) * spatial + p;
                        expected_rows[(b * spatial + p) * channels + c] = x[i] as f64;
                        expected_back[i] = x[i] as f64 + bias[c] as f64;
                    }
                }
            }
            assert_close(
                &format!("{what} channels_to_rows"),
                &got_rows,
                &expected_rows,
                0.0,
                1.0,
            );
            assert_close(
                &format!("{what} rows_to_channels"),
                &got_back,
                &expected_back,
                1e-7,
                1.0,
            );
            let mut expected = reference::channel_sums(&to_f64(&x), batch, channels);
            let mut scale = reference::channel_sums(&abs(&x), batch, channels);
            if accumulate {
                for ((e, s), &i) in expected.iter_mut().zip(scale.iter_mut()).zip(&initial) {
                    *e += i as f64;
                    *s += i.abs() as f64;
                }
            }
            assert_close_scaled(
                &format!("{what} channel_sum"),
                &got_sums,
                &expected,
                &scale,
                1e-5,
            );
        }
    }
}

#[test]
fn geometry_validation_names_the_bad_sizes() {
    let good = ConvGeometry {
        batch: 2,
        channels: 3,
        height: 3,
        width: 9,
        kernel_h: 5,
        kernel_w: 3,
        stride: 1,
        padding: 0,
    };
    let message = good.validate().unwrap_err().to_string();
    assert!(
        message.contains("kernel height 5") && message.contains("3 + 2·0 = 3"),
        "{message}"
    );
    let message = ConvGeometry {
        stride: 0,
        padding: 1,
        ..good
    }
    .validate()
    .unwrap_err()
    .to_string();
    assert!(message.contains("stride is 0"), "{message}");
    let message = ConvGeometry {
        channels: 0,
        padding: 1,
        ..good
    }
    .validate()
    .unwrap_err()
    .to_string();
    assert!(message.contains("channels is 0"), "{message}");
    assert!(ConvGeometry { padding: 1, ..good }.validate().is_ok());
    let message = ConvOp::conv_transpose2d(1, 1, 1, 1, 1, 2, 2, 1, 1)
        .unwrap_err()
        .to_string();
    assert!(message.contains("padding 1"), "{message}");
    // Mismatched tensors are named too.
    let op = ConvOp::conv2d(1, 1, 2, 4, 4, 3, 3, 1, 1).unwrap();
    let scratch = ConvScratch::new(gpu(), "test", &op).unwrap();
    let error = op
        .forward(
            gpu(),
            &poisoned(15),
            &poisoned(18),
            None,
            &poisoned(32),
            &scratch,
        )
        .err()
        .unwrap()
        .to_string();
    assert!(error.contains("x has 15 elements, expected 16"), "{error}");
}

#[test]
fn conv_shapes_are_pytorchs() {
    // The DCGAN MNIST layers.
    let g1 = ConvOp::conv_transpose2d(64, 128, 64, 7, 7, 4, 4, 2, 1).unwrap();
    assert_eq!(g1.input_shape(), [64, 128, 7, 7]);
    assert_eq!(g1.output_shape(), [64, 64, 14, 14]);
    assert_eq!(g1.weight_shape(), [128, 64 * 16]);
    let d2 = ConvOp::conv2d(64, 64, 128, 14, 14, 4, 4, 2, 1).unwrap();
    assert_eq!(d2.input_shape(), [64, 64, 14, 14]);
    assert_eq!(d2.output_shape(), [64, 128, 7, 7]);
    assert_eq!(d2.weight_shape(), [128, 64 * 16]);
    assert_eq!(d2.macs(), 64 * 49 * 128 * 64 * 16);
    assert_eq!(g1.macs(), 64 * 49 * 128 * 64 * 16);
}

#[test]
fn conv_passes_are_deterministic() {
    // No atomics anywhere: the same inputs give the same bits on a second run.
    let ctx = gpu();
    for transposed in [false, true] {
        let op = op(transposed, (5, 3, 3, 7, 7, 4, 4, 2, 1));
        let mut rng = rng(&format!("determinism {op:?}"));
        let [wr, wc] = op.weight_shape();
        let x = upload(&uniform(&mut rng, len(op.input_shape()), -1.0, 1.0));
        let w = upload(&uniform(&mut rng, wr * wc, -1.0, 1.0));
        let b = upload(&uniform(&mut rng, op.output_shape()[1], -1.0, 1.0));
        let dy = upload(&uniform(&mut rng, len(op.output_shape()), -1.0, 1.0));
        let run = || {
            let scratch = ConvScratch::new(ctx, "determinism", &op).unwrap();
            let (y, dx) = (
                poisoned(len(op.output_shape())),
                poisoned(len(op.input_shape())),
            );
            let (dw, db) = (poisoned(wr * wc), poisoned(op.output_shape()[1]));
            let mut dispatches = op.forward(ctx, &x, &w, Some(&b), &y, &scratch).unwrap();
            dispatches.extend(op.backward_input(ctx, &dy, &w, &dx, &scratch).unwrap());
            dispatches.extend(
                op.backward_params(ctx, &dy, &dw, Some(&db), false, &scratch)
                    .unwrap(),
            );
            let refs: Vec<_> = dispatches.iter().collect();
            let mut bits = run_and_read(&refs, &y);
            for t in [&dx, &dw, &db] {
                bits.extend(ctx.read_f32(t).unwrap());
            }
            bits.iter().map(|v| v.to_bits()).collect::<Vec<u32>>()
        };
        assert!(run() == run(), "{op:?}: two runs differ");
    }
}
