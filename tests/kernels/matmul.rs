//! Matmul in all three layouts, odd shapes, fused bias + activation, and accumulation.

use gan_gpu::gpu::Recorder;
use gan_gpu::kernels::Activation;
use gan_gpu::kernels::matmul::{Layout, MatmulKernel, MatmulOptions, MatmulTuning, matmul};
use gan_gpu::reference;

use crate::common::*;

/// Every matmul kernel this adapter can run: the tiled ones (buffer and texture operands)
/// always, the subgroup ones where subgroups are exactly 8 wide (llvmpipe, so CI tests all).
fn kernels() -> Vec<MatmulKernel> {
    if !gpu().has_subgroups_of(8) {
        println!(
            "subgroup8 and texture matmuls not tested: this adapter's subgroups are not 8 wide"
        );
    }
    MatmulKernel::available(gpu())
}

/// Shapes (m, n, k) that are not tile multiples, include 1, and reach the MLP's 784 and 1200
/// (A of 64×1200 and B of 1200×784 also span several 1024-texel rows of a texture kernel).
const SHAPES: [(usize, usize, usize); 7] = [
    (1, 1, 1),
    (37, 29, 53),
    (7, 63, 65),
    (65, 7, 1),
    (63, 65, 784),
    (1, 1200, 7),
    (64, 784, 1200),
];

fn check(
    kernel: MatmulKernel,
    layout: Layout,
    (m, n, k): (usize, usize, usize),
    bias: bool,
    activation: Activation,
    accumulate: bool,
) {
    let what = format!(
        "{} {layout:?} {m}×{n}×{k} bias={bias} {activation:?} accumulate={accumulate}",
        kernel.name()
    );
    let mut rng = rng(&what);
    let a = uniform(&mut rng, m * k, -1.0, 1.0);
    let b = uniform(&mut rng, k * n, -1.0, 1.0);
    let bias_values = uniform(&mut rng, n, -1.0, 1.0);
    let initial = uniform(&mut rng, m * n, -1.0, 1.0);

    let (a_gpu, b_gpu, bias_gpu) = (upload(&a), upload(&b), upload(&bias_values));
    let c_gpu = if accumulate {
        upload(&initial)
    } else {
        poisoned(m * n)
    };
    let options = MatmulOptions {
        bias: bias.then_some(&bias_gpu),
        activation,
        accumulate,
        tuning: MatmulTuning::with_kernel(kernel),
        ..Default::default()
    };
    let dispatch = matmul(gpu(), layout, &a_gpu, &b_gpu, &c_gpu, (m, n, k), options).unwrap();
    let result = run_and_read(&[&dispatch], &c_gpu);

    let mut expected = reference::matmul::matmul(layout, &to_f64(&a), &to_f64(&b), (m, n, k));
    let mut scale = reference::matmul::matmul(layout, &abs(&a), &abs(&b), (m, n, k));
    if bias {
        reference::matmul::add_bias(&mut expected, &to_f64(&bias_values));
        reference::matmul::add_bias(&mut scale, &abs(&bias_values));
    }
    if accumulate {
        for ((e, s), &c0) in expected.iter_mut().zip(scale.iter_mut()).zip(&initial) {
            *e += c0 as f64;
            *s += c0.abs() as f64;
        }
    }
    // The activations are 1-Lipschitz, so the pre-activation error bound carries over.
    let expected: Vec<f64> = expected
        .iter()
        .map(|&x| reference::activation::activate(x, activation))
        .collect();
    assert_close_scaled(&what, &result, &expected, &scale, 1e-5);
}

#[test]
fn matmul_every_layout_and_awkward_shape() {
    for kernel in kernels() {
        for layout in Layout::ALL {
            for shape in SHAPES {
                check(kernel, layout, shape, false, Activation::Identity, false);
            }
            // Tile edges of the subgroup kernel (16 rows, 32 columns, k in steps of 8).
            check(
                kernel,
                layout,
                (9, 33, 9),
                false,
                Activation::Identity,
                false,
            );
            check(
                kernel,
                layout,
                (16, 64, 16),
                false,
                Activation::Identity,
                false,
            );
        }
    }
}

#[test]
fn matmul_fused_bias_and_activations() {
    for activation in [
        Activation::Relu,
        Activation::LeakyRelu(0.2),
        Activation::Tanh,
        Activation::Sigmoid,
    ] {
        for kernel in kernels() {
            check(kernel, Layout::XW, (7, 65, 63), true, activation, false);
            check(kernel, Layout::XW, (65, 784, 100), true, activation, false);
        }
    }
}

#[test]
fn matmul_accumulates_into_output() {
    for kernel in kernels() {
        check(
            kernel,
            Layout::XtDy,
            (63, 65, 7),
            false,
            Activation::Identity,
            true,
        );
        check(
            kernel,
            Layout::DyWt,
            (7, 784, 65),
            false,
            Activation::Identity,
            true,
        );
    }
}

/// The weight-gradient layout with column sums: C = Xᵀ·dY as before, and the sums of dY's
/// columns (the bias gradient) from op(A)'s extra row of ones, overwritten or accumulated.
#[test]
fn matmul_column_sums_are_the_bias_gradient() {
    // m + 1 crosses a tile edge at 15 and 16 (subgroup8: 16 rows) and at 31 (tiled: 32 rows).
    let shapes = [
        (1, 1, 1),
        (63, 65, 7),
        (15, 33, 9),
        (16, 64, 16),
        (31, 7, 65),
    ];
    for kernel in kernels() {
        for (m, n, k) in shapes {
            for accumulate in [false, true] {
                let what = format!(
                    "{} column sums {m}×{n}×{k} accumulate={accumulate}",
                    kernel.name()
                );
                let mut rng = rng(&what);
                let a = uniform(&mut rng, m * k, -1.0, 1.0);
                let b = uniform(&mut rng, k * n, -1.0, 1.0);
                let initial_c = uniform(&mut rng, m * n, -1.0, 1.0);
                let initial_sums = uniform(&mut rng, n, -1.0, 1.0);
                let (a_gpu, b_gpu) = (upload(&a), upload(&b));
                let (c_gpu, sums_gpu) = if accumulate {
                    (upload(&initial_c), upload(&initial_sums))
                } else {
                    (poisoned(m * n), poisoned(n))
                };
                let options = MatmulOptions {
                    accumulate,
                    column_sums: Some(&sums_gpu),
                    tuning: MatmulTuning::with_kernel(kernel),
                    ..Default::default()
                };
                let dispatch = matmul(
                    gpu(),
                    Layout::XtDy,
                    &a_gpu,
                    &b_gpu,
                    &c_gpu,
                    (m, n, k),
                    options,
                )
                .unwrap();
                let c = run_and_read(&[&dispatch], &c_gpu);
                let sums = gpu().read_f32(&sums_gpu).unwrap();
                let mut expected_c =
                    reference::matmul::matmul(Layout::XtDy, &to_f64(&a), &to_f64(&b), (m, n, k));
                let mut scale_c =
                    reference::matmul::matmul(Layout::XtDy, &abs(&a), &abs(&b), (m, n, k));
                let mut expected_sums = reference::reduce::column_sums(&to_f64(&b), n);
                let mut scale_sums = reference::reduce::column_sums(&abs(&b), n);
                if accumulate {
                    for (i, &c0) in initial_c.iter().enumerate() {
                        expected_c[i] += c0 as f64;
                        scale_c[i] += c0.abs() as f64;
                    }
                    for (j, &s0) in initial_sums.iter().enumerate() {
                        expected_sums[j] += s0 as f64;
                        scale_sums[j] += s0.abs() as f64;
                    }
                }
                assert_close_scaled(&what, &c, &expected_c, &scale_c, 1e-5);
                assert_close_scaled(
                    &format!("{what}: sums"),
                    &sums,
                    &expected_sums,
                    &scale_sums,
                    1e-5,
                );
            }
        }
    }
}

/// A gate on the input-gradient layout, dX = (dY·Wᵀ) ⊙ f'(y) with f' from the previous layer's
/// output y, and on the forward layout (the gradient penalty's adjoint chain, X·W ⊙ f'(y) with
/// y the next layer's output), as activation_backward would make it in a second dispatch.
#[test]
fn matmul_gate_is_the_previous_activation_backward() {
    for (layout, activation) in [Layout::DyWt, Layout::XW].into_iter().flat_map(|layout| {
        [
            Activation::Relu,
            Activation::LeakyRelu(0.2),
            Activation::Tanh,
            Activation::Sigmoid,
        ]
        .map(|activation| (layout, activation))
    }) {
        for kernel in kernels() {
            for (m, n, k) in [(7, 65, 63), (17, 33, 9), (1, 1, 1)] {
                let what = format!(
                    "{} {} gate {activation:?} {m}×{n}×{k}",
                    kernel.name(),
                    layout.name()
                );
                let mut rng = rng(&what);
                let a = uniform(&mut rng, m * k, -1.0, 1.0);
                let b = uniform(&mut rng, k * n, -1.0, 1.0);
                // Outputs the activation can produce: sigmoid's lie in (0, 1), the rest in (−1, 1).
                let low = if activation == Activation::Sigmoid {
                    0.01
                } else {
                    -0.99
                };
                let gate = uniform(&mut rng, m * n, low, 0.99);
                let (a_gpu, b_gpu, gate_gpu, c_gpu) =
                    (upload(&a), upload(&b), upload(&gate), poisoned(m * n));
                let options = MatmulOptions {
                    gate: Some((&gate_gpu, activation)),
                    tuning: MatmulTuning::with_kernel(kernel),
                    ..Default::default()
                };
                let dispatch =
                    matmul(gpu(), layout, &a_gpu, &b_gpu, &c_gpu, (m, n, k), options).unwrap();
                let result = run_and_read(&[&dispatch], &c_gpu);

                let product =
                    reference::matmul::matmul(layout, &to_f64(&a), &to_f64(&b), (m, n, k));
                let expected = reference::activation::activation_backward(
                    &product,
                    &to_f64(&gate),
                    activation,
                );
                // |f'| ≤ 1 for these activations, so the product's error bound carries over.
                let scale = reference::matmul::matmul(layout, &abs(&a), &abs(&b), (m, n, k));
                assert_close_scaled(&what, &result, &expected, &scale, 1e-5);
            }
        }
    }
}

#[test]
fn matmul_refuses_fusions_in_the_wrong_layout() {
    let (a, b, c, sums) = (
        upload(&[1.0; 4]),
        upload(&[1.0; 4]),
        poisoned(4),
        poisoned(2),
    );
    let options = MatmulOptions {
        column_sums: Some(&sums),
        ..Default::default()
    };
    let error = matmul(gpu(), Layout::XW, &a, &b, &c, (2, 2, 2), options)
        .err()
        .expect("refused");
    assert!(error.to_string().contains("column sums"), "{error}");
    let options = MatmulOptions {
        gate: Some((&c, Activation::Tanh)),
        ..Default::default()
    };
    let error = matmul(gpu(), Layout::XtDy, &a, &b, &c, (2, 2, 2), options)
        .err()
        .expect("refused");
    assert!(error.to_string().contains("gate"), "{error}");
}

#[test]
fn matmul_other_workgroup_shapes_agree() {
    // Tile sizes are pipeline constants for per-adapter tuning; every choice must be correct.
    for (workgroup_x, workgroup_y) in [(8, 8), (32, 2), (64, 1)] {
        let tuning = MatmulTuning {
            workgroup_x,
            workgroup_y,
            kernel: MatmulKernel::Tiled,
        };
        let (m, n, k) = (33, 70, 17);
        let mut rng = rng("workgroup shapes");
        let a = uniform(&mut rng, m * k, -1.0, 1.0);
        let b = uniform(&mut rng, k * n, -1.0, 1.0);
        let (a_gpu, b_gpu, c_gpu) = (upload(&a), upload(&b), poisoned(m * n));
        let options = MatmulOptions {
            tuning,
            ..Default::default()
        };
        let dispatch = matmul(
            gpu(),
            Layout::XW,
            &a_gpu,
            &b_gpu,
            &c_gpu,
            (m, n, k),
            options,
        )
        .unwrap();
        let result = run_and_read(&[&dispatch], &c_gpu);
        let expected = reference::matmul::matmul(Layout::XW, &to_f64(&a), &to_f64(&b), (m, n, k));
        assert_close(&format!("{tuning:?}"), &result, &expected, 1e-4, 1.0);
    }
}

/// Operands that are views into a larger buffer (as a network's flat parameters are), and a
/// second run after the operands changed: texture kernels must copy the right elements, anew
/// before every run.
#[test]
fn matmul_reads_views_and_sees_new_operand_values() {
    let (m, n, k) = (37, 29, 53);
    let ctx = gpu();
    // The storage-offset alignment in elements, so the views can be bound.
    let skip = ctx.limits.min_storage_buffer_offset_alignment as usize / 4;
    for kernel in kernels() {
        let what = format!("{} views", kernel.name());
        let mut rng = rng(&what);
        let packed_len = 2 * skip + m * k + k * n;
        let packed = upload(&uniform(&mut rng, packed_len, -1.0, 1.0));
        let a_gpu = packed.view(skip, &[m * k]);
        let b_gpu = packed.view(2 * skip + m * k - (m * k) % skip, &[k * n]);
        let c_gpu = poisoned(m * n);
        let options = MatmulOptions {
            tuning: MatmulTuning::with_kernel(kernel),
            ..Default::default()
        };
        let dispatch = matmul(ctx, Layout::XW, &a_gpu, &b_gpu, &c_gpu, (m, n, k), options).unwrap();
        for run in 0..2 {
            let all = uniform(&mut rng, packed_len, -1.0, 1.0);
            ctx.write(&packed, &all);
            let result = run_and_read(&[&dispatch], &c_gpu);
            let a = &all[a_gpu.byte_offset() as usize / 4..][..m * k];
            let b = &all[b_gpu.byte_offset() as usize / 4..][..k * n];
            let expected = reference::matmul::matmul(Layout::XW, &to_f64(a), &to_f64(b), (m, n, k));
            assert_close(&format!("{what}, run {run}"), &result, &expected, 1e-4, 1.0);
        }
    }
}

#[test]
fn matmul_rejects_mismatched_shapes() {
    let a = upload(&[1.0; 6]);
    let b = upload(&[1.0; 6]);
    let c = poisoned(4);
    let error = matmul(
        gpu(),
        Layout::XW,
        &a,
        &b,
        &c,
        (2, 2, 4),
        MatmulOptions::default(),
    )
    .err()
    .expect("A has 6 elements, not 2×4");
    assert!(
        error.to_string().contains("A has 6 elements, expected 8"),
        "{error}"
    );
}

/// A texture kernel's operand is copied into its texture once per recording until something
/// writes the operand: two matmuls reading X and W copy each once; after a kernel rewrites W,
/// the next matmul copies W again (not X) and sees the new values.
#[test]
fn texture_operands_are_copied_again_only_after_a_write() {
    let Some(kernel) = kernels().into_iter().find(|k| k.reads_textures()) else {
        println!("no texture matmul on this adapter: nothing to test");
        return;
    };
    let (m, n, k) = (13, 37, 21);
    let mut rng = rng("texture copies");
    let x = uniform(&mut rng, m * k, -1.0, 1.0);
    let w = uniform(&mut rng, k * n, -1.0, 1.0);
    let (x_gpu, w_gpu) = (upload(&x), upload(&w));
    let outputs = [poisoned(m * n), poisoned(m * n), poisoned(m * n)];
    let options = || MatmulOptions {
        tuning: MatmulTuning::with_kernel(kernel),
        ..Default::default()
    };
    let products: Vec<_> = outputs
        .iter()
        .map(|c| matmul(gpu(), Layout::XW, &x_gpu, &w_gpu, c, (m, n, k), options()).unwrap())
        .collect();
    let clip = 0.25;
    let ctx = gpu();
    let mut recorder = Recorder::new(ctx);
    recorder.record(&products[0]);
    recorder.record(&products[1]);
    assert_eq!(recorder.texture_copies, 2, "X and W once each");
    recorder.record(&gan_gpu::kernels::optim::clip_weights(ctx, &w_gpu, clip).unwrap());
    recorder.record(&products[2]);
    assert_eq!(recorder.texture_copies, 3, "W again after the clip, X not");
    recorder.submit().unwrap();

    let clipped: Vec<f32> = w.iter().map(|v| v.clamp(-clip, clip)).collect();
    for (c, weights) in outputs.iter().zip([&w, &w, &clipped]) {
        let result = ctx.read_f32(c).unwrap();
        let expected =
            reference::matmul::matmul(Layout::XW, &to_f64(&x), &to_f64(weights), (m, n, k));
        let scale = reference::matmul::matmul(Layout::XW, &abs(&x), &abs(weights), (m, n, k));
        assert_close_scaled(
            "matmul after texture reuse",
            &result,
            &expected,
            &scale,
            1e-5,
        );
    }
}

/// A texture kernel writes its output's texture beside the output (X·W and dY·Wᵀ, not the
/// weight gradient Xᵀ·dY), so the next matmul reading that output copies nothing for it: in
/// H = X·W₁, Y = H·W₂ only X, W₁ and W₂ are copied, and Y is right. After another kernel
/// rewrites H, the next matmul reading H copies it again and sees the new values; a weight
/// gradient's reader copies it.
#[test]
fn a_texture_matmul_leaves_its_output_texture_current() {
    let texture_kernels: Vec<_> = kernels()
        .into_iter()
        .filter(|k| k.reads_textures())
        .collect();
    if texture_kernels.is_empty() {
        println!("no texture matmul on this adapter: nothing to test");
        return;
    }
    let ctx = gpu();
    let mut rng = rng("output textures");
    for kernel in texture_kernels {
        let (m, k, hidden, n) = (19, 11, 37, 6);
        let x = uniform(&mut rng, m * k, -1.0, 1.0);
        let w1 = uniform(&mut rng, k * hidden, -1.0, 1.0);
        let w2 = uniform(&mut rng, hidden * n, -1.0, 1.0);
        let (x_gpu, w1_gpu, w2_gpu) = (upload(&x), upload(&w1), upload(&w2));
        let (h_gpu, y_gpu, y_after_gpu) = (poisoned(m * hidden), poisoned(m * n), poisoned(m * n));
        let options = || MatmulOptions {
            tuning: MatmulTuning::with_kernel(kernel),
            ..Default::default()
        };
        let first = matmul(
            ctx,
            Layout::XW,
            &x_gpu,
            &w1_gpu,
            &h_gpu,
            (m, hidden, k),
            options(),
        );
        let second = |c| {
            matmul(
                ctx,
                Layout::XW,
                &h_gpu,
                &w2_gpu,
                c,
                (m, n, hidden),
                options(),
            )
        };
        let (second, second_after) = (second(&y_gpu).unwrap(), second(&y_after_gpu).unwrap());
        // A weight gradient [k, hidden] = Xᵀ·H, then read as the A of [k, hidden]·W₂.
        let (grad_gpu, grad_product_gpu) = (poisoned(k * hidden), poisoned(k * n));
        let gradient = matmul(
            ctx,
            Layout::XtDy,
            &x_gpu,
            &h_gpu,
            &grad_gpu,
            (k, hidden, m),
            options(),
        );
        let gradient_product = matmul(
            ctx,
            Layout::XW,
            &grad_gpu,
            &w2_gpu,
            &grad_product_gpu,
            (k, n, hidden),
            options(),
        );
        let clip = 0.25;
        let mut recorder = Recorder::new(ctx);
        recorder.record(&first.unwrap());
        recorder.record(&second);
        assert_eq!(
            recorder.texture_copies, 3,
            "{kernel:?}: X, W₁ and W₂; H is current"
        );
        recorder.record(&gradient.unwrap());
        assert_eq!(
            recorder.texture_copies, 3,
            "{kernel:?}: X and H are current"
        );
        recorder.record(&gradient_product.unwrap());
        assert_eq!(
            recorder.texture_copies, 4,
            "{kernel:?}: the weight gradient is copied"
        );
        recorder.record(&gan_gpu::kernels::optim::clip_weights(ctx, &h_gpu, clip).unwrap());
        recorder.record(&second_after);
        assert_eq!(
            recorder.texture_copies, 5,
            "{kernel:?}: H again after the clip"
        );
        recorder.submit().unwrap();

        let h = reference::matmul::matmul(Layout::XW, &to_f64(&x), &to_f64(&w1), (m, hidden, k));
        let h_scale = reference::matmul::matmul(Layout::XW, &abs(&x), &abs(&w1), (m, hidden, k));
        let h_clipped: Vec<f64> = h
            .iter()
            .map(|v| v.clamp(-clip as f64, clip as f64))
            .collect();
        let w2_64 = to_f64(&w2);
        let grad = reference::matmul::matmul(Layout::XtDy, &to_f64(&x), &h, (k, hidden, m));
        let grad_scale =
            reference::matmul::matmul(Layout::XtDy, &abs(&x), &h_scale, (k, hidden, m));
        let abs64 = |v: &[f64]| v.iter().map(|e| e.abs()).collect::<Vec<_>>();
        let product =
            |a: &[f64], rows| reference::matmul::matmul(Layout::XW, a, &w2_64, (rows, n, hidden));
        let product_scale = |a: &[f64], rows| {
            reference::matmul::matmul(Layout::XW, a, &abs64(&w2_64), (rows, n, hidden))
        };
        let checks = [
            (
                "Y from H's texture",
                &y_gpu,
                product(&h, m),
                product_scale(&h_scale, m),
            ),
            (
                "Y after H was clipped",
                &y_after_gpu,
                product(&h_clipped, m),
                product_scale(&h_scale, m),
            ),
            (
                "the weight gradient's product",
                &grad_product_gpu,
                product(&grad, k),
                product_scale(&grad_scale, k),
            ),
        ];
        for (what, tensor, expected, scale) in checks {
            let result = ctx.read_f32(tensor).unwrap();
            assert_close_scaled(
                &format!("{kernel:?}: {what}"),
                &result,
                &expected,
                &scale,
                1e-5,
            );
        }
    }
}

/// A network's weights live in one flat parameter buffer, mirrored by one texture: matmuls read
/// each weight view from it at the view's offset, and Adam stores the new parameters there as
/// it updates them. Two layers' products before and after an Adam step copy the parameter
/// texture once (at the start) and are right both times, the second with the updated weights.
#[test]
fn adam_leaves_the_parameter_texture_current_for_the_weight_matmuls() {
    use gan_gpu::gpu::FlatBuffer;
    use gan_gpu::kernels::optim::{OptimizerSettings, adam, adam_count};
    let Some(kernel) = kernels().into_iter().find(|k| k.reads_textures()) else {
        println!("no texture matmul on this adapter: nothing to test");
        return;
    };
    let ctx = gpu();
    let mut rng = rng("parameter texture");
    let (m, k, n1, n2) = (7, 13, 29, 5);
    let shapes = [vec![k, n1], vec![n1], vec![k, n2]];
    let params = FlatBuffer::zeros(ctx, "test parameters", &shapes).unwrap();
    let grads = FlatBuffer::zeros(ctx, "test gradients", &shapes).unwrap();
    let (_, mirror) = ctx
        .texture_copy_of("test parameter texture", &params.whole)
        .unwrap();
    let len = params.whole.len();
    let initial = uniform(&mut rng, len, -1.0, 1.0);
    let gradient = uniform(&mut rng, len, -1.0, 1.0);
    ctx.write(&params.whole, &initial);
    ctx.write(&grads.whole, &gradient);
    let zeros = vec![0.0; len];
    let (m_gpu, v_gpu) = (upload(&zeros), upload(&zeros));
    let settings = OptimizerSettings::adam(0.05, 0.5, 0.999, 1e-8);
    let settings_gpu = settings.upload(ctx, "settings").unwrap();
    let counter = ctx.upload("adam step", &[1], &[0u32]).unwrap();
    let corrections = upload(&[f32::NAN; 2]);
    let count = adam_count(ctx, &counter, &settings_gpu, &corrections).unwrap();
    let step = adam(
        ctx,
        &params.whole,
        &grads.whole,
        &m_gpu,
        &v_gpu,
        &settings_gpu,
        &corrections,
        Some(&mirror),
    )
    .unwrap();
    let x = uniform(&mut rng, m * k, -1.0, 1.0);
    let x_gpu = upload(&x);
    let options = || MatmulOptions {
        tuning: MatmulTuning::with_kernel(kernel),
        ..Default::default()
    };
    // The first and third parameter tensors are the weights (the second only shifts the third).
    let products = |tag: &str| {
        [(0, n1), (2, n2)].map(|(view, n)| {
            let c = poisoned(m * n);
            let dispatch = matmul(
                ctx,
                Layout::XW,
                &x_gpu,
                &params.views[view],
                &c,
                (m, n, k),
                options(),
            )
            .unwrap_or_else(|e| panic!("{tag}: {e}"));
            (c, dispatch)
        })
    };
    let (before, after) = (products("before"), products("after"));
    let mut recorder = Recorder::new(ctx);
    for (_, dispatch) in &before {
        recorder.record(dispatch);
    }
    assert_eq!(
        recorder.texture_copies, 2,
        "{kernel:?}: X and the parameter texture once"
    );
    recorder.record(&count);
    recorder.record(&step);
    for (_, dispatch) in &after {
        recorder.record(dispatch);
    }
    assert_eq!(
        recorder.texture_copies, 2,
        "{kernel:?}: Adam left the parameter texture current"
    );
    recorder.submit().unwrap();

    let updated = ctx.read_f32(&params.whole).unwrap();
    let offsets = FlatBuffer::layout(
        ctx.limits.min_storage_buffer_offset_alignment as u64,
        &shapes,
    )
    .0;
    for (weights, results, when) in [(&initial, &before, "before"), (&updated, &after, "after")] {
        for ((c, _), (view, n)) in results.iter().zip([(0, n1), (2, n2)]) {
            let w = &weights[offsets[view]..offsets[view] + k * n];
            let expected =
                reference::matmul::matmul(Layout::XW, &to_f64(&x), &to_f64(w), (m, n, k));
            let scale = reference::matmul::matmul(Layout::XW, &abs(&x), &abs(w), (m, n, k));
            let result = ctx.read_f32(c).unwrap();
            assert_close_scaled(
                &format!("{kernel:?}: weights {view} {when} Adam"),
                &result,
                &expected,
                &scale,
                1e-5,
            );
        }
    }
    assert!(
        updated != initial,
        "the Adam step changed the parameters, so the second products test the texture's update"
    );
}
