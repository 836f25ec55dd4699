//! Whole-network gradients: the GPU MLP's backward pass against the f64 reference MLP, and the
//! reference itself against central finite differences, for LeakyReLU, ReLU, tanh and sigmoid,
//! maxout layers (the goodfellow2014 critic's shape) and inverted dropout with the GPU's masks.

mod support;

use gan_gpu::data::SplitMix64;
use gan_gpu::gan::presets::goodfellow2014_discriminator;
use gan_gpu::gpu::{GpuContext, Recorder, Tensor};
use gan_gpu::kernels::Activation;
use gan_gpu::nn::init::linear_init;
use gan_gpu::nn::{DropoutRng, LayerInit, LayerSpec, MlpSpec, Network, ParamGrads};
use gan_gpu::reference::activation::dropout_mask;
use gan_gpu::reference::mlp;
use support::{assert_close_to_scale, gpu, to_f64};

fn spec(hidden: Activation, output: Activation) -> MlpSpec {
    MlpSpec::from_sizes(&[7, 65, 33, 3], hidden, output)
}

/// Loss = Σ output·weights with fixed random weights, so dLoss/doutput = weights.
fn loss(spec: &MlpSpec, params: &[Vec<f64>], input: &[f64], weights: &[f64], batch: usize) -> f64 {
    let masks = vec![None; spec.layers.len()];
    masked_loss(spec, params, input, weights, batch, &masks)
}

/// The same loss through a training pass with these dropout masks.
fn masked_loss(
    spec: &MlpSpec,
    params: &[Vec<f64>],
    input: &[f64],
    weights: &[f64],
    batch: usize,
    masks: &[Option<Vec<f64>>],
) -> f64 {
    let trace = mlp::forward_with_masks(spec, params, input, batch, masks);
    trace
        .outputs
        .last()
        .unwrap()
        .iter()
        .zip(weights)
        .map(|(y, w)| y * w)
        .sum()
}

#[test]
fn reference_mlp_gradients_match_finite_differences() {
    let batch = 4;
    for (hidden, output) in [
        (Activation::LeakyRelu(0.2), Activation::Identity),
        (Activation::Tanh, Activation::Sigmoid),
    ] {
        let spec = spec(hidden, output);
        let mut rng = SplitMix64::new(11);
        let params: Vec<Vec<f64>> = linear_init(&spec, 3)
            .iter()
            .map(|p| p.iter().map(|&v| v as f64).collect())
            .collect();
        let input: Vec<f64> = (0..batch * 7).map(|_| rng.next_normal()).collect();
        let weights: Vec<f64> = (0..batch * 3).map(|_| rng.next_normal()).collect();
        let trace = mlp::forward(&spec, &params, &input, batch);
        let (grads, _) = mlp::backward(&spec, &params, &trace, &weights, batch);
        let h = 1e-6;
        for (p, tensor) in params.iter().enumerate() {
            for index in (0..tensor.len()).step_by(tensor.len() / 9 + 1) {
                let mut plus = params.clone();
                plus[p][index] += h;
                let mut minus = params.clone();
                minus[p][index] -= h;
                let numeric = (loss(&spec, &plus, &input, &weights, batch)
                    - loss(&spec, &minus, &input, &weights, batch))
                    / (2.0 * h);
                let analytic = grads[p][index];
                assert!(
                    (numeric - analytic).abs() <= 1e-6 * analytic.abs().max(1.0),
                    "{hidden:?}/{output:?} param {p}[{index}]: finite difference {numeric} vs backward {analytic}"
                );
            }
        }
    }
}

#[test]
fn gpu_mlp_gradients_match_reference() {
    let ctx = gpu();
    let batch = 5;
    for (hidden, output) in [
        (Activation::LeakyRelu(0.2), Activation::Tanh),
        (Activation::Relu, Activation::Identity),
        (Activation::Tanh, Activation::Sigmoid),
    ] {
        let spec = spec(hidden, output);
        let initial = linear_init(&spec, 5);
        let mut rng = SplitMix64::new(17);
        let input: Vec<f32> = (0..batch * 7).map(|_| rng.next_normal() as f32).collect();
        let weights: Vec<f32> = (0..batch * 3).map(|_| rng.next_normal() as f32).collect();

        let network = Network::new(ctx, "test", spec.clone(), &initial).unwrap();
        let x = ctx.upload("x", &[batch, 7], &input).unwrap();
        let pass = network.pass(ctx, "test", &x, batch).unwrap();
        ctx.write(pass.output_grad(), &weights);
        let input_grad = ctx.zeros("dx", &[batch, 7]).unwrap();
        let backward = network
            .backward(ctx, &pass, ParamGrads::Overwrite, Some(&input_grad))
            .unwrap();
        let mut recorder = Recorder::new(ctx);
        recorder.record_all(&pass.forward);
        recorder.record_all(&backward);
        recorder.submit().unwrap();

        let params: Vec<Vec<f64>> = initial
            .iter()
            .map(|p| p.iter().map(|&v| v as f64).collect())
            .collect();
        let input64: Vec<f64> = input.iter().map(|&v| v as f64).collect();
        let weights64: Vec<f64> = weights.iter().map(|&v| v as f64).collect();
        let trace = mlp::forward(&spec, &params, &input64, batch);
        let (grads, dx) = mlp::backward(&spec, &params, &trace, &weights64, batch);
        for (p, view) in network.gradients().unwrap().views.iter().enumerate() {
            assert_close_to_scale(
                &format!("{hidden:?}/{output:?} grad {p}"),
                &ctx.read_f32(view).unwrap(),
                &grads[p],
                1e-4,
            );
        }
        assert_close_to_scale(
            &format!("{hidden:?}/{output:?} input grad"),
            &ctx.read_f32(&input_grad).unwrap(),
            &dx,
            1e-4,
        );
    }
}

/// The goodfellow2014 critic's shape, shrunk (7 inputs, maxout 9×3 → 9×3 → 1), with PyTorch's
/// initialisation so pre-activations are O(1) and maxout's winners are far from ties.
fn maxout_critic() -> MlpSpec {
    let mut spec = goodfellow2014_discriminator(7, 9, 3);
    for layer in &mut spec.layers {
        layer.init = LayerInit::Torch;
    }
    spec
}

/// Maxout, then tanh and sigmoid layers, every input dropped (keep 0.8, 0.5, 0.6).
fn dropout_network() -> MlpSpec {
    MlpSpec {
        layers: vec![
            LayerSpec {
                pieces: 3,
                input_keep: 0.8,
                ..LayerSpec::linear(7, 9, Activation::Identity)
            },
            LayerSpec {
                input_keep: 0.5,
                ..LayerSpec::linear(9, 33, Activation::Tanh)
            },
            LayerSpec {
                input_keep: 0.6,
                ..LayerSpec::linear(33, 3, Activation::Sigmoid)
            },
        ],
    }
}

/// Central differences of `loss` at every ~tenth parameter and input, against `grads`/`dx`.
fn check_finite_differences(
    what: &str,
    params: &[Vec<f64>],
    input: &[f64],
    grads: &[Vec<f64>],
    dx: &[f64],
    loss: impl Fn(&[Vec<f64>], &[f64]) -> f64,
) {
    let h = 1e-6;
    let check = |name: String, numeric: f64, analytic: f64| {
        assert!(
            (numeric - analytic).abs() <= 1e-6 * analytic.abs().max(1.0),
            "{what} {name}: finite difference {numeric} vs backward {analytic}"
        );
    };
    for (p, tensor) in params.iter().enumerate() {
        for index in (0..tensor.len()).step_by(tensor.len() / 9 + 1) {
            let (mut plus, mut minus) = (params.to_vec(), params.to_vec());
            plus[p][index] += h;
            minus[p][index] -= h;
            let numeric = (loss(&plus, input) - loss(&minus, input)) / (2.0 * h);
            check(format!("param {p}[{index}]"), numeric, grads[p][index]);
        }
    }
    for index in (0..input.len()).step_by(input.len() / 9 + 1) {
        let (mut plus, mut minus) = (input.to_vec(), input.to_vec());
        plus[index] += h;
        minus[index] -= h;
        let numeric = (loss(params, &plus) - loss(params, &minus)) / (2.0 * h);
        check(format!("input[{index}]"), numeric, dx[index]);
    }
}

#[test]
fn reference_maxout_and_dropout_gradients_match_finite_differences() {
    let batch = 4;
    let mut rng = SplitMix64::new(23);
    let input: Vec<f64> = (0..batch * 7).map(|_| rng.next_normal()).collect();
    // Without dropout: the maxout critic.
    let critic = maxout_critic();
    let params: Vec<Vec<f64>> = linear_init(&critic, 3).iter().map(|p| to_f64(p)).collect();
    let weights: Vec<f64> = (0..batch).map(|_| rng.next_normal()).collect();
    let trace = mlp::forward(&critic, &params, &input, batch);
    assert!(
        trace.argmax[0].iter().any(|&p| p > 0) && trace.argmax[0].contains(&0),
        "the test should route gradients to several pieces"
    );
    let (grads, dx) = mlp::backward(&critic, &params, &trace, &weights, batch);
    check_finite_differences("maxout critic", &params, &input, &grads, &dx, |p, x| {
        loss(&critic, p, x, &weights, batch)
    });
    // With fixed dropout masks (as the GPU draws them) on every layer's input.
    let network = dropout_network();
    let params: Vec<Vec<f64>> = linear_init(&network, 4).iter().map(|p| to_f64(p)).collect();
    let weights: Vec<f64> = (0..batch * 3).map(|_| rng.next_normal()).collect();
    let masks: Vec<Option<Vec<f64>>> = network
        .layers
        .iter()
        .enumerate()
        .map(|(i, l)| {
            Some(to_f64(&dropout_mask(
                batch * l.inputs,
                l.input_keep,
                5,
                i as u32,
                0,
            )))
        })
        .collect();
    let trace = mlp::forward_with_masks(&network, &params, &input, batch, &masks);
    let (grads, dx) = mlp::backward(&network, &params, &trace, &weights, batch);
    assert!(
        dx.contains(&0.0),
        "a dropped input gets no gradient (and the test drops some)"
    );
    check_finite_differences("dropout", &params, &input, &grads, &dx, |p, x| {
        masked_loss(&network, p, x, &weights, batch, &masks)
    });
}

/// Record and run a pass's forward and the backward from `output_grad`, returning the input
/// gradient tensor.
fn run_pass(
    ctx: &GpuContext,
    network: &Network,
    pass: &gan_gpu::nn::Pass,
    output_grad: &[f32],
    inputs: usize,
) -> Tensor {
    ctx.write(pass.output_grad(), output_grad);
    let input_grad = ctx.zeros("dx", &[pass.batch, inputs]).unwrap();
    let backward = network
        .backward(ctx, pass, ParamGrads::Overwrite, Some(&input_grad))
        .unwrap();
    let mut recorder = Recorder::new(ctx);
    recorder.record_all(&pass.forward);
    recorder.record_all(&backward);
    recorder.submit().unwrap();
    input_grad
}

fn compare_pass(
    ctx: &GpuContext,
    what: &str,
    network: &Network,
    pass: &gan_gpu::nn::Pass,
    input_grad: &Tensor,
    reference: (&mlp::Trace, &[Vec<f64>], &[f64]),
) {
    let (trace, grads, dx) = reference;
    assert_close_to_scale(
        &format!("{what} output"),
        &ctx.read_f32(pass.output()).unwrap(),
        trace.outputs.last().unwrap(),
        1e-4,
    );
    for (p, view) in network.gradients().unwrap().views.iter().enumerate() {
        assert_close_to_scale(
            &format!("{what} grad {p}"),
            &ctx.read_f32(view).unwrap(),
            &grads[p],
            1e-4,
        );
    }
    assert_close_to_scale(
        &format!("{what} input grad"),
        &ctx.read_f32(input_grad).unwrap(),
        dx,
        1e-4,
    );
}

#[test]
fn gpu_maxout_critic_gradients_match_reference() {
    let ctx = gpu();
    let batch = 5;
    let spec = maxout_critic();
    let initial = linear_init(&spec, 5);
    let mut rng = SplitMix64::new(29);
    let input: Vec<f32> = (0..batch * 7).map(|_| rng.next_normal() as f32).collect();
    let weights: Vec<f32> = (0..batch).map(|_| rng.next_normal() as f32).collect();
    let network = Network::new(ctx, "critic", spec.clone(), &initial).unwrap();
    let x = ctx.upload("x", &[batch, 7], &input).unwrap();
    // An evaluation pass: the critic's dropout does not apply.
    let pass = network.pass(ctx, "critic", &x, batch).unwrap();
    assert!(!pass.training && pass.layers.iter().all(|l| l.mask.is_none()));
    let input_grad = run_pass(ctx, &network, &pass, &weights, 7);

    let params: Vec<Vec<f64>> = initial.iter().map(|p| to_f64(p)).collect();
    let trace = mlp::forward(&spec, &params, &to_f64(&input), batch);
    let (grads, dx) = mlp::backward(&spec, &params, &trace, &to_f64(&weights), batch);
    for (i, argmax) in trace.argmax.iter().enumerate().take(2) {
        let gpu = ctx
            .read_u32(pass.layers[i].argmax.as_ref().unwrap())
            .unwrap();
        assert_eq!(&gpu, argmax, "layer {i}: maxout winners");
    }
    compare_pass(
        ctx,
        "maxout critic",
        &network,
        &pass,
        &input_grad,
        (&trace, &grads, &dx),
    );
}

#[test]
fn gpu_dropout_uses_philox_masks_and_matches_reference() {
    let ctx = gpu();
    let batch = 5;
    let spec = dropout_network();
    let initial = linear_init(&spec, 6);
    let mut rng = SplitMix64::new(31);
    let input: Vec<f32> = (0..batch * 7).map(|_| rng.next_normal() as f32).collect();
    let weights: Vec<f32> = (0..batch * 3).map(|_| rng.next_normal() as f32).collect();
    let network = Network::new(ctx, "dropout", spec.clone(), &initial).unwrap();
    let x = ctx.upload("x", &[batch, 7], &input).unwrap();
    let (seed, stream, step) = (77u64, 0x40u32, 12u32);
    let counter = ctx.upload("counter", &[1], &[step]).unwrap();
    let rng = DropoutRng {
        seed,
        stream,
        counter: &counter,
    };
    let pass = network
        .training_pass(ctx, "dropout", &x, batch, rng)
        .unwrap();
    assert!(pass.training);
    let input_grad = run_pass(ctx, &network, &pass, &weights, 7);

    // The masks the GPU drew are the reference's Philox masks for (seed, stream + layer, step).
    let mut masks = Vec::new();
    for (i, layer) in spec.layers.iter().enumerate() {
        let gpu = ctx.read_f32(pass.layers[i].mask.as_ref().unwrap()).unwrap();
        let expected = dropout_mask(
            batch * layer.inputs,
            layer.input_keep,
            seed,
            stream + i as u32,
            step,
        );
        assert_eq!(gpu, expected, "layer {i}: dropout mask");
        assert!(gpu.contains(&0.0) && gpu.iter().any(|&m| m > 1.0));
        masks.push(Some(to_f64(&gpu)));
    }
    let params: Vec<Vec<f64>> = initial.iter().map(|p| to_f64(p)).collect();
    let trace = mlp::forward_with_masks(&spec, &params, &to_f64(&input), batch, &masks);
    let (grads, dx) = mlp::backward(&spec, &params, &trace, &to_f64(&weights), batch);
    compare_pass(
        ctx,
        "dropout",
        &network,
        &pass,
        &input_grad,
        (&trace, &grads, &dx),
    );

    // The next step (counter advanced on the GPU) draws new masks.
    let mut recorder = Recorder::new(ctx);
    recorder.record(&gan_gpu::kernels::random::increment_counter(ctx, &counter).unwrap());
    recorder.record_all(&pass.forward);
    recorder.submit().unwrap();
    let next = ctx.read_f32(pass.layers[1].mask.as_ref().unwrap()).unwrap();
    let expected = dropout_mask(batch * 9, 0.5, seed, stream + 1, step + 1);
    assert_eq!(next, expected, "the mask of step {}", step + 1);
    assert_ne!(Some(to_f64(&next)), masks[1], "a new step, a new mask");

    // An evaluation pass of the same network drops nothing: the reference without masks.
    let eval = network.pass(ctx, "eval", &x, batch).unwrap();
    let mut recorder = Recorder::new(ctx);
    recorder.record_all(&eval.forward);
    recorder.submit().unwrap();
    let trace = mlp::forward(&spec, &params, &to_f64(&input), batch);
    assert_close_to_scale(
        "evaluation output",
        &ctx.read_f32(eval.output()).unwrap(),
        trace.outputs.last().unwrap(),
        1e-4,
    );
}
