//! Convolutional networks (conv2d, conv_transpose2d, batch norm, flatten/unflatten, linear) as
//! whole layer sequences: (a) the f64 reference's gradients against central finite differences,
//! batch norm in training mode included; (b) the GPU network's training and evaluation passes
//! against the reference: outputs, every parameter gradient, the input gradient and the updated
//! running statistics; (c) the exact gradient-penalty gradient of a convolutional critic against
//! central finite differences of the f64 penalty.

mod support;

use gan_gpu::data::SplitMix64;
use gan_gpu::gan::critic::GradientPenalty;
use gan_gpu::gpu::{Recorder, Tensor};
use gan_gpu::kernels::Activation;
use gan_gpu::kernels::penalty::{PenaltyForm, PenaltyShape, PenaltySlots};
use gan_gpu::nn::init::initial_parameters;
use gan_gpu::nn::network::initial_buffers;
use gan_gpu::nn::{
    BatchNormSpec, ConvSpec, DropoutRng, Layer, LayerInit, LinearSpec, Network, NetworkSpec,
    ParamGrads,
};
use gan_gpu::reference::network as reference;
use support::{
    assert_close_to_scale, assert_close_within, fresh_rng, gpu, largest_magnitude, to_f64,
};

fn conv(i: usize, o: usize, kernel: usize, stride: usize, padding: usize, bias: bool) -> ConvSpec {
    ConvSpec {
        in_channels: i,
        out_channels: o,
        kernel,
        stride,
        padding,
        bias,
        init: LayerInit::Torch,
    }
}

fn linear(inputs: usize, outputs: usize) -> Layer {
    Layer::Linear(LinearSpec {
        inputs,
        outputs,
        bias: true,
        init: LayerInit::Torch,
    })
}

fn batch_norm(features: usize) -> Layer {
    Layer::BatchNorm(BatchNormSpec {
        features,
        init: LayerInit::Normal { std: 0.3 },
    })
}

/// A discriminator-like net on odd-sized 3-channel images: conv (stride 2, padding 1), batch
/// norm, LeakyReLU, conv (kernel 4, no bias), tanh, flatten, linear.
fn critic_like() -> NetworkSpec {
    NetworkSpec::new(
        &[3, 13, 9],
        vec![
            Layer::Conv2d(conv(3, 4, 3, 2, 1, true)),
            batch_norm(4),
            Layer::Activation(Activation::LeakyRelu(0.2)),
            Layer::Conv2d(conv(4, 2, 4, 1, 0, false)),
            Layer::Activation(Activation::Tanh),
            Layer::Flatten,
            linear(2 * 4 * 2, 1),
        ],
    )
}

/// A generator-like net: linear, batch norm 1-D, ReLU, unflatten, transposed conv (stride 2),
/// batch norm 2-D, sigmoid, transposed conv (kernel 5, padding 2), tanh.
fn generator_like() -> NetworkSpec {
    NetworkSpec::new(
        &[5],
        vec![
            linear(5, 3 * 4 * 4),
            batch_norm(3 * 4 * 4),
            Layer::Activation(Activation::Relu),
            Layer::Unflatten(vec![3, 4, 4]),
            Layer::ConvTranspose2d(conv(3, 2, 4, 2, 1, true)),
            batch_norm(2),
            Layer::Activation(Activation::Sigmoid),
            Layer::ConvTranspose2d(conv(2, 1, 5, 1, 2, true)),
            Layer::Activation(Activation::Tanh),
        ],
    )
}

fn uniform(rng: &mut SplitMix64, n: usize, scale: f64) -> Vec<f32> {
    (0..n)
        .map(|_| ((rng.next_f64() * 2.0 - 1.0) * scale) as f32)
        .collect()
}

/// Σ output·weights through a training-mode reference pass (fresh running buffers each time).
fn weighted_output(
    spec: &NetworkSpec,
    params: &[Vec<f64>],
    input: &[f64],
    weights: &[f64],
    batch: usize,
) -> f64 {
    let mut buffers: Vec<Vec<f64>> = initial_buffers(spec).iter().map(|b| to_f64(b)).collect();
    let masks = vec![None; spec.layers.len()];
    let trace = reference::forward(spec, params, &mut buffers, input, batch, true, &masks);
    trace.output().iter().zip(weights).map(|(o, w)| o * w).sum()
}

#[test]
fn reference_conv_network_gradients_match_finite_differences() {
    let mut rng = fresh_rng("reference_conv_network_gradients_match_finite_differences");
    for (spec, batch) in [(critic_like(), 3), (generator_like(), 2)] {
        spec.validate("test").unwrap();
        let params: Vec<Vec<f64>> = initial_parameters(&spec, rng.next_u64(), None)
            .unwrap()
            .iter()
            .map(|p| to_f64(p))
            .collect();
        let input = to_f64(&uniform(&mut rng, batch * spec.inputs(), 1.0));
        let weights = to_f64(&uniform(&mut rng, batch * spec.outputs(), 1.0));
        let mut buffers: Vec<Vec<f64>> = initial_buffers(&spec).iter().map(|b| to_f64(b)).collect();
        let masks = vec![None; spec.layers.len()];
        let trace = reference::forward(&spec, &params, &mut buffers, &input, batch, true, &masks);
        let (grads, dx) = reference::backward(&spec, &params, &trace, &weights);
        let h = 1e-6;
        for (p, tensor) in params.iter().enumerate() {
            // A few entries of every tensor (all of the small ones).
            for index in (0..tensor.len()).step_by((tensor.len() / 7).max(1)) {
                let mut plus = params.clone();
                plus[p][index] += h;
                let mut minus = params.clone();
                minus[p][index] -= h;
                let numeric = (weighted_output(&spec, &plus, &input, &weights, batch)
                    - weighted_output(&spec, &minus, &input, &weights, batch))
                    / (2.0 * h);
                let analytic = grads[p][index];
                assert!(
                    (numeric - analytic).abs() <= 1e-5 * analytic.abs().max(1e-2),
                    "{}: parameter {p}[{index}]: finite difference {numeric} vs backward {analytic}",
                    spec.sizes_text()
                );
            }
        }
        for index in (0..input.len()).step_by(5) {
            let mut plus = input.clone();
            plus[index] += h;
            let mut minus = input.clone();
            minus[index] -= h;
            let numeric = (weighted_output(&spec, &params, &plus, &weights, batch)
                - weighted_output(&spec, &params, &minus, &weights, batch))
                / (2.0 * h);
            assert!(
                (numeric - dx[index]).abs() <= 1e-5 * dx[index].abs().max(1e-2),
                "input[{index}]: finite difference {numeric} vs backward {}",
                dx[index]
            );
        }
    }
}

/// What the network's f32 output is rounded relative to. A final linear layer's outputs are
/// sums that can cancel far below their terms (a batch-1 critic output of 3e-4 from terms near
/// 0.1), so they are judged against max Σᵢ|xᵢ·wᵢ| + |b|; other outputs against themselves.
fn output_scale(spec: &NetworkSpec, params: &[Vec<f64>], trace: &reference::Trace) -> f64 {
    let output = largest_magnitude(trace.output());
    let last = spec.layers.len() - 1;
    let Layer::Linear(linear) = &spec.layers[last] else {
        return output;
    };
    let x = if last == 0 {
        &trace.input
    } else {
        &trace.outputs[last - 1]
    };
    let (w, b) = (&params[params.len() - 2], &params[params.len() - 1]);
    let mut terms = output;
    for row in x.chunks(linear.inputs) {
        for o in 0..linear.outputs {
            let sum: f64 = row
                .iter()
                .enumerate()
                .map(|(i, v)| (v * w[i * linear.outputs + o]).abs())
                .sum();
            terms = terms.max(sum + b[o].abs());
        }
    }
    terms
}

fn read(tensor: &Tensor) -> Vec<f32> {
    gpu().read_f32(tensor).unwrap()
}

#[test]
fn gpu_conv_networks_match_reference_in_training_and_evaluation() {
    let ctx = gpu();
    let mut rng = fresh_rng("gpu_conv_networks_match_reference_in_training_and_evaluation");
    for (spec, batch) in [
        (critic_like(), 5),
        (critic_like(), 1),
        (generator_like(), 2),
    ] {
        let what = format!("{} batch {batch}", spec.sizes_text());
        let initial = initial_parameters(&spec, rng.next_u64(), None).unwrap();
        let network = Network::new(ctx, "test", spec.clone(), &initial).unwrap();
        // Running statistics away from their initial values, so evaluation mode shows them.
        let buffers: Vec<Vec<f32>> = spec
            .buffer_shapes()
            .iter()
            .enumerate()
            .map(|(i, shape)| {
                let values = uniform(&mut rng, shape[0], 0.5);
                match i % 2 {
                    0 => values,
                    _ => values.iter().map(|v| 1.0 + v).collect(), // variances > 0
                }
            })
            .collect();
        network.write_buffers(ctx, &buffers);
        let input = uniform(&mut rng, batch * spec.inputs(), 1.0);
        let weights = uniform(&mut rng, batch * spec.outputs(), 1.0);
        let x = ctx.upload("x", &[batch, spec.inputs()], &input).unwrap();
        let counter = ctx.upload("counter", &[1], &[0u32]).unwrap();
        let rng_source = DropoutRng {
            seed: 1,
            stream: 0,
            counter: &counter,
        };

        // Evaluation pass: running statistics, nothing updated.
        let eval = network.pass(ctx, "eval", &x, batch).unwrap();
        let mut recorder = Recorder::new(ctx);
        recorder.record_all(&eval.forward);
        recorder.submit().unwrap();
        let params64: Vec<Vec<f64>> = initial.iter().map(|p| to_f64(p)).collect();
        let mut reference_buffers: Vec<Vec<f64>> = buffers.iter().map(|b| to_f64(b)).collect();
        let masks = vec![None; spec.layers.len()];
        let trace = reference::forward(
            &spec,
            &params64,
            &mut reference_buffers,
            &to_f64(&input),
            batch,
            false,
            &masks,
        );
        assert_close_within(
            &format!("{what}: evaluation output"),
            &read(eval.output()),
            trace.output(),
            2e-5,
            output_scale(&spec, &params64, &trace),
        );

        // Training pass: batch statistics, running statistics updated, then backward.
        let train = network
            .training_pass(ctx, "train", &x, batch, rng_source)
            .unwrap();
        let dx = ctx.zeros("dx", &[batch, spec.inputs()]).unwrap();
        ctx.write(train.output_grad(), &weights);
        let backward = network
            .backward(ctx, &train, ParamGrads::Overwrite, Some(&dx))
            .unwrap();
        let mut recorder = Recorder::new(ctx);
        recorder.record_all(&train.forward);
        recorder.record_all(&backward);
        recorder.submit().unwrap();
        let trace = reference::forward(
            &spec,
            &params64,
            &mut reference_buffers,
            &to_f64(&input),
            batch,
            true,
            &masks,
        );
        let (grads, reference_dx) =
            reference::backward(&spec, &params64, &trace, &to_f64(&weights));
        let training_output_scale = output_scale(&spec, &params64, &trace);
        assert_close_within(
            &format!("{what}: training output"),
            &read(train.output()),
            trace.output(),
            2e-5,
            training_output_scale,
        );
        for (i, layer_output) in train.outputs.iter().enumerate() {
            let scale = if i + 1 == train.outputs.len() {
                training_output_scale
            } else {
                largest_magnitude(&trace.outputs[i])
            };
            assert_close_within(
                &format!("{what}: layer {i} output"),
                &read(layer_output),
                &trace.outputs[i],
                1e-4,
                scale,
            );
        }
        // A conv bias followed by batch norm has a zero gradient (the normalisation removes
        // every per-channel shift): judge each tensor against the largest gradient of all.
        let largest = grads.iter().flatten().fold(0.0f64, |m, g| m.max(g.abs()));
        for (p, view) in network.gradients().unwrap().views.iter().enumerate() {
            let got = read(view);
            for (j, (&g, &r)) in got.iter().zip(&grads[p]).enumerate() {
                assert!(
                    (g as f64 - r).abs() <= 2e-4 * largest,
                    "{what}: parameter {p} gradient[{j}]: gpu {g} vs reference {r} (largest {largest})"
                );
            }
        }
        assert_close_to_scale(
            &format!("{what}: input gradient"),
            &read(&dx),
            &reference_dx,
            2e-4,
        );
        for (b, view) in network.buffers.views.iter().enumerate() {
            assert_close_to_scale(
                &format!("{what}: running statistic {b}"),
                &read(view),
                &reference_buffers[b],
                1e-5,
            );
        }
    }
}

#[test]
fn batch_norm_over_features_refuses_a_training_batch_of_one() {
    let ctx = gpu();
    let spec = generator_like();
    let initial = initial_parameters(&spec, 1, None).unwrap();
    let network = Network::new(ctx, "G", spec.clone(), &initial).unwrap();
    let x = ctx.zeros("x", &[1, spec.inputs()]).unwrap();
    let counter = ctx.zeros("counter", &[1]).unwrap();
    let rng = DropoutRng {
        seed: 1,
        stream: 0,
        counter: &counter,
    };
    let error = network
        .training_pass(ctx, "G", &x, 1, rng)
        .err()
        .expect("a batch of one has no batch statistics over [features]")
        .to_string();
    assert!(error.contains("more than one value per channel"), "{error}");
    // Evaluation passes use the running statistics and take any batch.
    network.pass(ctx, "G", &x, 1).unwrap();
}

/// λ/B Σ_b (‖∂D/∂x_b‖ − 1)² of a critic in f64.
fn reference_penalty(spec: &NetworkSpec, params: &[Vec<f64>], points: &[f64], batch: usize) -> f64 {
    let masks = vec![None; spec.layers.len()];
    let trace = reference::forward(spec, params, &mut [], points, batch, false, &masks);
    let (_, g) = reference::backward(spec, params, &trace, &vec![1.0; batch]);
    let dim = spec.inputs();
    let sum: f64 = g
        .chunks(dim)
        .map(|row| (row.iter().map(|v| v * v).sum::<f64>().sqrt() - 1.0).powi(2))
        .sum();
    10.0 * sum / batch as f64
}

#[test]
fn conv_critic_penalty_gradient_matches_finite_differences() {
    let ctx = gpu();
    let mut rng = fresh_rng("conv_critic_penalty_gradient_matches_finite_differences");
    // Smooth activations (no kinks for a finite difference to straddle), exercising the φ''
    // terms through both convolution kinds.
    let spec = NetworkSpec::new(
        &[2, 9, 7],
        vec![
            Layer::Conv2d(conv(2, 3, 3, 2, 1, true)),
            Layer::Activation(Activation::Tanh),
            Layer::ConvTranspose2d(conv(3, 2, 3, 1, 1, true)),
            Layer::Activation(Activation::Sigmoid),
            Layer::Conv2d(conv(2, 2, 4, 2, 0, true)),
            Layer::Flatten,
            linear(2, 1),
        ],
    );
    spec.validate("critic").unwrap();
    let batch = 3;
    let params = initial_parameters(&spec, rng.next_u64(), None).unwrap();
    let points = uniform(&mut rng, batch * spec.inputs(), 1.0);
    let critic = Network::new(ctx, "critic", spec.clone(), &params).unwrap();
    let metrics = ctx.zeros("metrics", &[3]).unwrap();
    let x = ctx.upload("x̂", &[batch, spec.inputs()], &points).unwrap();
    let shape = PenaltyShape {
        lambda: 10.0,
        form: PenaltyForm::Squared,
    };
    let slots = PenaltySlots {
        penalty: 0,
        norm: 1,
        loss: 2,
    };
    let gp = GradientPenalty::new(
        ctx,
        &critic,
        &x,
        batch,
        (shape, spec.inputs()),
        &metrics,
        slots,
    )
    .unwrap();
    let mut recorder = Recorder::new(ctx);
    recorder.record_all(&gp.dispatches);
    recorder.submit().unwrap();

    let params64: Vec<Vec<f64>> = params.iter().map(|p| to_f64(p)).collect();
    let points64 = to_f64(&points);
    let value = reference_penalty(&spec, &params64, &points64, batch);
    let got = read(&metrics);
    assert!(
        ((got[0] as f64) - value).abs() <= 1e-4 * value.abs().max(1.0),
        "penalty: gpu {} vs reference {value}",
        got[0]
    );
    let h = 1e-6;
    for (p, tensor) in params64.iter().enumerate() {
        let numeric: Vec<f64> = (0..tensor.len())
            .map(|index| {
                let mut plus = params64.clone();
                plus[p][index] += h;
                let mut minus = params64.clone();
                minus[p][index] -= h;
                (reference_penalty(&spec, &plus, &points64, batch)
                    - reference_penalty(&spec, &minus, &points64, batch))
                    / (2.0 * h)
            })
            .collect();
        assert_close_to_scale(
            &format!("penalty gradient of parameter {p}"),
            &read(&critic.gradients().unwrap().views[p]),
            &numeric,
            5e-4,
        );
    }
}
