//! Whole-network gradients: the GPU MLP's backward pass against the f64 reference MLP, and the
//! reference itself against central finite differences, for LeakyReLU, ReLU, tanh and sigmoid.

use gan_gpu::data::SplitMix64;
use gan_gpu::gpu::{AdapterChoice, GpuContext, Recorder};
use gan_gpu::kernels::Activation;
use gan_gpu::nn::init::linear_init;
use gan_gpu::nn::{Mlp, MlpSpec, ParamGrads};
use gan_gpu::reference::mlp;

fn spec(hidden: Activation, output: Activation) -> MlpSpec {
    MlpSpec::from_sizes(&[7, 65, 33, 3], hidden, output)
}

/// Loss = Σ output·weights with fixed random weights, so dLoss/doutput = weights.
fn loss(spec: &MlpSpec, params: &[Vec<f64>], input: &[f64], weights: &[f64], batch: usize) -> f64 {
    let trace = mlp::forward(spec, params, input, batch);
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
    let ctx = GpuContext::new(&AdapterChoice::from_flag_or_env(None)).unwrap();
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

        let network = Mlp::new(&ctx, "test", spec.clone(), &initial).unwrap();
        let x = ctx.upload("x", &[batch, 7], &input).unwrap();
        let pass = network.pass(&ctx, "test", &x, batch).unwrap();
        ctx.write(pass.output_grad(), &weights);
        let input_grad = ctx.zeros("dx", &[batch, 7]).unwrap();
        let backward = network
            .backward(&ctx, &pass, ParamGrads::Overwrite, Some(&input_grad))
            .unwrap();
        let mut recorder = Recorder::new(&ctx);
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
        let compare = |what: String, gpu: Vec<f32>, reference: &[f64]| {
            let scale = reference
                .iter()
                .fold(0.0f64, |m, v| m.max(v.abs()))
                .max(1e-6);
            for (i, (&g, &r)) in gpu.iter().zip(reference).enumerate() {
                // Judged against the tensor's largest gradient: f32 sums over a batch and a
                // layer cancel, so tiny entries carry the absolute error of the large ones.
                assert!(
                    ((g as f64) - r).abs() <= 1e-4 * scale,
                    "{what}[{i}]: gpu {g} vs reference {r} (scale {scale})"
                );
            }
        };
        for (p, view) in network.grads.views.iter().enumerate() {
            compare(
                format!("{hidden:?}/{output:?} grad {p}"),
                ctx.read_f32(view).unwrap(),
                &grads[p],
            );
        }
        compare(
            format!("{hidden:?}/{output:?} input grad"),
            ctx.read_f32(&input_grad).unwrap(),
            &dx,
        );
    }
}
