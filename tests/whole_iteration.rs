//! Whole training iterations, in the style of llm.c's test_gpt2: two iterations of Algorithm 1
//! (a D step, then a G step: nsgan, Adam, k = 1) run on the GPU exactly as `gan-gpu train` runs
//! them, and the same two iterations in f64 from `gan_gpu::reference` — the same Philox noise,
//! the same shuffled batches, the same losses, backward passes and Adam updates. Afterwards
//! every parameter, Adam moment and batch-norm running statistic of G and D must agree, for an
//! MLP GAN and for a small convolutional GAN with batch norm in both networks.

mod support;

use gan_gpu::data::SplitMix64;
use gan_gpu::gan::graph::{TrainGraph, stream};
use gan_gpu::gan::prior::label_layout;
use gan_gpu::gan::real_data::{HostData, RealData, SampleShape};
use gan_gpu::gan::{
    DataSource, EvalSchedule, GanLoss, OptimizerConfig, OptimizerKind, TrainConfig,
    WassersteinConfig,
};
use gan_gpu::gpu::{FlatBuffer, Recorder};
use gan_gpu::kernels::Activation;
use gan_gpu::kernels::data::{IndexOrder, PixelRange};
use gan_gpu::kernels::penalty::PenaltyForm;
use gan_gpu::nn::init::initial_parameters;
use gan_gpu::nn::network::initial_buffers;
use gan_gpu::nn::{
    BatchNormSpec, ConvSpec, Layer, LayerInit, LinearSpec, MlpSpec, Network, NetworkSpec,
};
use gan_gpu::reference::{condition, data, loss, network, optim, penalty, random};
use support::{gpu, to_f64};

const BATCH: usize = 6;
const EXAMPLES: usize = 37;
const SIDE: usize = 6;
const ITERATIONS: usize = 2;

/// `bias` false before batch norm, as DCGAN writes it: normalising removes every per-channel
/// shift, so such a bias has a zero gradient and Adam would move it by rounding noise alone.
fn conv(i: usize, o: usize, kernel: usize, stride: usize, padding: usize, bias: bool) -> ConvSpec {
    ConvSpec {
        in_channels: i,
        out_channels: o,
        kernel,
        stride,
        padding,
        bias,
        init: LayerInit::Normal { std: 0.2 },
    }
}

fn batch_norm(features: usize) -> Layer {
    Layer::BatchNorm(BatchNormSpec {
        features,
        init: LayerInit::Normal { std: 0.2 },
    })
}

/// A dcgan in miniature on 6×6 images: G linear, BN1d, ReLU, unflatten, ConvT (stride 2),
/// BN2d, ReLU, ConvT, tanh; D conv (stride 2), LeakyReLU, conv, BN2d, LeakyReLU, flatten,
/// linear.
fn small_dcgan(noise: usize) -> (NetworkSpec, NetworkSpec) {
    let g = NetworkSpec::new(
        &[noise],
        vec![
            Layer::Linear(LinearSpec {
                inputs: noise,
                outputs: 18,
                bias: false,
                init: LayerInit::Torch,
            }),
            batch_norm(18),
            Layer::Activation(Activation::Relu),
            Layer::Unflatten(vec![2, 3, 3]),
            Layer::ConvTranspose2d(conv(2, 3, 4, 2, 1, false)),
            batch_norm(3),
            Layer::Activation(Activation::Relu),
            Layer::ConvTranspose2d(conv(3, 1, 3, 1, 1, true)),
            Layer::Activation(Activation::Tanh),
        ],
    );
    let d = NetworkSpec::new(
        &[1, SIDE, SIDE],
        vec![
            Layer::Conv2d(conv(1, 3, 4, 2, 1, true)),
            Layer::Activation(Activation::LeakyRelu(0.2)),
            Layer::Conv2d(conv(3, 4, 3, 1, 1, false)),
            batch_norm(4),
            Layer::Activation(Activation::LeakyRelu(0.2)),
            Layer::Flatten,
            Layer::Linear(LinearSpec {
                inputs: 36,
                outputs: 1,
                bias: true,
                init: LayerInit::Torch,
            }),
        ],
    );
    (g, d)
}

fn config(
    generator: NetworkSpec,
    discriminator: NetworkSpec,
    noise: usize,
    variant: Variant,
) -> TrainConfig {
    let adam = OptimizerConfig {
        lr: 1e-3,
        ..OptimizerConfig::default_for(OptimizerKind::Adam)
    };
    TrainConfig {
        data: DataSource::Folder("synthetic".into()),
        noise_dim: noise,
        noise: Default::default(),
        noise_scale: variant.noise_scale.unwrap_or(1.0),
        classes: variant.classes,
        generator,
        discriminator,
        loss: GanLoss::Nsgan,
        wasserstein: WassersteinConfig::default(),
        generator_optimizer: adam,
        discriminator_optimizer: adam,
        batch_size: BATCH,
        k: 1,
        steps: ITERATIONS as u64,
        seed: 0x5EED,
        log_every: 1,
        sample_every: 1,
        checkpoint_every: 1,
        holdout: 0,
        pixel_range: PixelRange::MinusOneToOne,
        pack: variant.pack,
        ema: variant.ema,
        r1: variant.r1,
        r1_every: variant.r1_every.max(1),
        eval: EvalSchedule::default(),
    }
}

/// One network's state in f64: parameters, Adam moments, running statistics, update count.
struct Reference {
    spec: NetworkSpec,
    params: Vec<Vec<f64>>,
    m: Vec<Vec<f64>>,
    v: Vec<Vec<f64>>,
    buffers: Vec<Vec<f64>>,
    t: u32,
}

impl Reference {
    fn new(spec: &NetworkSpec, params: &[Vec<f32>]) -> Reference {
        let zeros: Vec<Vec<f64>> = params.iter().map(|p| vec![0.0; p.len()]).collect();
        Reference {
            spec: spec.clone(),
            params: params.iter().map(|p| to_f64(p)).collect(),
            m: zeros.clone(),
            v: zeros,
            buffers: initial_buffers(spec).iter().map(|b| to_f64(b)).collect(),
            t: 0,
        }
    }

    /// A training forward pass over as many rows as `input` holds (BATCH examples, or
    /// BATCH / pack packs for a packed D).
    fn forward(&mut self, input: &[f64]) -> network::Trace {
        let masks = vec![None; self.spec.layers.len()];
        let rows = input.len() / self.spec.inputs();
        network::forward(
            &self.spec,
            &self.params,
            &mut self.buffers,
            input,
            rows,
            true,
            &masks,
        )
    }

    fn adam(&mut self, grads: &[Vec<f64>], config: &OptimizerConfig) {
        self.t += 1;
        let h = optim::Adam {
            lr: config.lr as f64,
            beta1: config.momentum as f64,
            beta2: config.beta2 as f64,
            eps: config.eps as f64,
        };
        let state = self.params.iter_mut().zip(&mut self.m).zip(&mut self.v);
        for (((params, m), v), grads) in state.zip(grads) {
            optim::adam(params, grads, m, v, h, self.t);
        }
    }
}

fn add(a: &mut [Vec<f64>], b: &[Vec<f64>]) {
    for (x, y) in a.iter_mut().zip(b) {
        for (x, y) in x.iter_mut().zip(y) {
            *x += y;
        }
    }
}

/// Every tensor read from the GPU against the reference, each element within `tolerance` of
/// the largest reference value of the whole network (a tensor whose values are all near zero,
/// such as the moments of a bias that batch norm follows, is judged at the network's scale).
fn compare(what: &str, gpu_values: &[Vec<f32>], reference: &[Vec<f64>], tolerance: f64) {
    let scale = reference
        .iter()
        .flatten()
        .fold(0.0f64, |m, v| m.max(v.abs()))
        .max(1e-30);
    for (i, (g, r)) in gpu_values.iter().zip(reference).enumerate() {
        for (j, (&g, &r)) in g.iter().zip(r).enumerate() {
            assert!(
                (g as f64 - r).abs() <= tolerance * scale,
                "{what} {i}[{j}]: gpu {g} vs reference {r} (scale {scale})"
            );
        }
    }
}

/// Parameters after Adam: each update is lr·m̂/(√v̂ + eps), so f32 rounding of the gradients
/// shows as a fraction of lr; every element must agree to 2 % of lr (plus 1e-6 relative).
fn compare_params(what: &str, gpu_values: &[Vec<f32>], reference: &[Vec<f64>], lr: f64) {
    for (i, (g, r)) in gpu_values.iter().zip(reference).enumerate() {
        for (j, (&g, &r)) in g.iter().zip(r).enumerate() {
            assert!(
                (g as f64 - r).abs() <= 0.02 * lr + 1e-6 * r.abs(),
                "{what} {i}[{j}]: gpu {g} vs reference {r} (lr {lr})"
            );
        }
    }
}

/// What a run adds to plain Algorithm 1.
#[derive(Clone, Copy, Default)]
struct Variant {
    /// A conditional GAN of that many classes (the networks widened for the label), each
    /// example of a random class.
    classes: Option<usize>,
    /// PacGAN: D judges `pack` examples side by side (0 and 1: none).
    pack: usize,
    /// An EMA generator with this β.
    ema: Option<f32>,
    /// R1 with this γ: γ/2 · mean ‖∇ₓD(x)‖² at the real batch, by double backprop (MLP D).
    r1: Option<f32>,
    /// Lazy R1: the penalty on every N-th D step only, at γ·N (0 and 1: every step).
    r1_every: u64,
    /// G's noise N(0, s²) (`--noise-scale`; None: 1).
    noise_scale: Option<f32>,
}

fn run(generator: NetworkSpec, discriminator: NetworkSpec, noise: usize, variant: Variant) {
    let ctx = gpu();
    let classes = variant.classes;
    let variant = Variant {
        pack: variant.pack.max(1),
        ..variant
    };
    let (generator, discriminator) = match classes {
        Some(k) => (
            generator.with_extra_input_channels(k, "G").unwrap(),
            discriminator.with_extra_input_channels(k, "D").unwrap(),
        ),
        None => (generator, discriminator),
    };
    // A packed D's first layer takes `pack` examples' channels.
    let per_example = discriminator.input_shape()[0];
    let discriminator = discriminator
        .with_extra_input_channels((variant.pack - 1) * per_example, "D")
        .unwrap();
    let config = config(generator, discriminator, noise, variant);
    let mut rng = SplitMix64::new(7);
    let dim = SIDE * SIDE;
    let pixels: Vec<u8> = (0..EXAMPLES * dim)
        .map(|_| (rng.next_u64() >> 56) as u8)
        .collect();
    let labels: Vec<u8> = match classes {
        Some(k) => (0..EXAMPLES).map(|_| rng.below(k as u64) as u8).collect(),
        None => Vec::new(),
    };
    // The label after G's noise, and after D's input (channels for a conv D).
    let (g_layout, d_layout) = match classes {
        Some(k) => (
            Some((k, 1)),
            Some((k, label_layout(&config.discriminator, k).repeat)),
        ),
        None => (None, None),
    };
    let with_label = |x: &[f64], labels: &[u32], layout: Option<(usize, usize)>| match layout {
        Some(layout) => condition::append_one_hot(x, labels, x.len() / BATCH, layout),
        None => x.to_vec(),
    };
    let host = HostData {
        shape: SampleShape::Image {
            height: SIDE,
            width: SIDE,
            channels: 1,
        },
        pixels: pixels.clone(),
        count: EXAMPLES,
        description: "synthetic 6×6".into(),
        labels: labels.clone(),
        classes: classes.unwrap_or(0),
    };
    let real = RealData::upload_conditional(ctx, host, BATCH, classes).unwrap();
    let graph = TrainGraph::new(ctx, &config, real).unwrap();
    let mut recorder = Recorder::new(ctx);
    for iteration in 0..ITERATIONS as u64 {
        graph.record_iteration(&mut recorder, iteration);
    }
    recorder.submit().unwrap();

    // The same initial parameters as TrainGraph draws.
    let g_init = initial_parameters(&config.generator, config.seed ^ 0x0047_454E, None).unwrap();
    let d_init =
        initial_parameters(&config.discriminator, config.seed ^ 0x0044_4953, None).unwrap();
    let mut g = Reference::new(&config.generator, &g_init);
    let mut d = Reference::new(&config.discriminator, &d_init);
    let mut ema = g.params.clone();
    let (mut rng_counter, mut batch_counter) = (0u32, 0u32);
    let mut batch_labels = Vec::new();
    let noise_scale = variant.noise_scale.unwrap_or(1.0);
    for iteration in 0..ITERATIONS as u64 {
        // D step: BCE(D(x), 1) + BCE(D(G(z)), 0).
        rng_counter += 1;
        let z = random::fill_normal(
            BATCH * noise,
            0.0,
            noise_scale as f64,
            config.seed,
            stream::NOISE,
            rng_counter,
        );
        let indices = data::draw_indices(
            BATCH,
            EXAMPLES as u32,
            IndexOrder::Shuffled,
            config.seed,
            stream::BATCH,
            batch_counter,
        );
        batch_counter += 1;
        let x = data::gather_u8(&pixels, &indices, dim, config.pixel_range);
        if classes.is_some() {
            batch_labels = data::gather_labels(&labels, &indices);
        }
        let fake = g
            .forward(&with_label(&z, &batch_labels, g_layout))
            .output()
            .to_vec();
        let real_trace = d.forward(&with_label(&x, &batch_labels, d_layout));
        let fake_trace = d.forward(&with_label(&fake, &batch_labels, d_layout));
        let real_grad = loss::bce_with_logits_backward(real_trace.output(), 1.0, 1.0);
        let fake_grad = loss::bce_with_logits_backward(fake_trace.output(), 0.0, 1.0);
        let (mut d_grads, _) = network::backward(&d.spec, &d.params, &real_trace, &real_grad);
        add(
            &mut d_grads,
            &network::backward(&d.spec, &d.params, &fake_trace, &fake_grad).0,
        );
        let every = variant.r1_every.max(1);
        if let Some(gamma) = variant.r1.filter(|_| iteration % every == 0) {
            let gamma = gamma * every as f32;
            let critic = d.spec.as_mlp().expect("R1 is checked on an MLP D");
            let real_input = with_label(&x, &batch_labels, d_layout);
            let (_, r1_grads) = penalty::critic_gradient_penalty_backward(
                &critic,
                &d.params,
                &real_input,
                real_input.len() / critic.inputs(),
                gamma as f64 / 2.0,
                PenaltyForm::ZeroCentred,
            );
            add(&mut d_grads, &r1_grads);
        }
        d.adam(&d_grads, &config.discriminator_optimizer);

        // G step: −log D(G(z)) with fresh noise, through the updated D.
        rng_counter += 1;
        let z = random::fill_normal(
            BATCH * noise,
            0.0,
            noise_scale as f64,
            config.seed,
            stream::NOISE,
            rng_counter,
        );
        // The G step keeps the last D step's labels.
        let g_trace = g.forward(&with_label(&z, &batch_labels, g_layout));
        let d_trace = d.forward(&with_label(g_trace.output(), &batch_labels, d_layout));
        let logit_grad = loss::bce_with_logits_backward(d_trace.output(), 1.0, 1.0);
        let (_, input_grad) = network::backward(&d.spec, &d.params, &d_trace, &logit_grad);
        // G's output gradient: the image part of D's input gradient.
        let sample_grad = match d_layout {
            Some(_) => condition::take_columns(&input_grad, d.spec.inputs() / variant.pack, dim),
            None => input_grad,
        };
        let (g_grads, _) = network::backward(&g.spec, &g.params, &g_trace, &sample_grad);
        g.adam(&g_grads, &config.generator_optimizer);
        if let Some(beta) = variant.ema {
            for (average, params) in ema.iter_mut().zip(&g.params) {
                optim::ema_update(average, params, beta as f64, g.t as u64);
            }
        }
    }

    let read = |views: &[gan_gpu::gpu::Tensor]| -> Vec<Vec<f32>> {
        views.iter().map(|v| ctx.read_f32(v).unwrap()).collect()
    };
    let alignment = ctx.limits.min_storage_buffer_offset_alignment as u64;
    // An optimizer's moments cover the flat parameter buffer: cut them into the same views.
    let moments = |network: &Network, state: &gan_gpu::gpu::Tensor| -> Vec<Vec<f32>> {
        let shapes = network.spec.parameter_shapes();
        let (offsets, _) = FlatBuffer::layout(alignment, &shapes);
        let whole = ctx.read_f32(state).unwrap();
        offsets
            .iter()
            .zip(&shapes)
            .map(|(&o, s)| whole[o..o + s.iter().product::<usize>()].to_vec())
            .collect()
    };
    let lr = config.generator_optimizer.lr as f64;
    for (name, network, optimizer, reference) in [
        ("G", &graph.generator, &graph.g_optimizer, &g),
        ("D", &graph.discriminator, &graph.d_optimizer, &d),
    ] {
        compare_params(
            &format!("{name} parameter"),
            &read(&network.params.views),
            &reference.params,
            lr,
        );
        compare(
            &format!("{name} Adam m"),
            &moments(network, &optimizer.state[0]),
            &reference.m,
            2e-3,
        );
        compare(
            &format!("{name} Adam v"),
            &moments(network, &optimizer.state[1]),
            &reference.v,
            4e-3,
        );
        compare(
            &format!("{name} running statistic"),
            &read(&network.buffers.views),
            &reference.buffers,
            1e-4,
        );
        assert_eq!(
            ctx.read_u32(&optimizer.step).unwrap()[0],
            reference.t,
            "{name}: Adam's update count"
        );
    }
    match (&graph.ema, variant.ema) {
        (Some(network), Some(_)) => {
            compare_params("G EMA parameter", &read(&network.params.views), &ema, lr)
        }
        (None, None) => {}
        _ => panic!("the graph keeps an EMA generator exactly when the config asks for one"),
    }
}

#[test]
fn two_mlp_gan_iterations_match_the_f64_reference() {
    let hidden = Activation::LeakyRelu(0.2);
    let g = MlpSpec::from_sizes(&[4, 17, SIDE * SIDE], hidden, Activation::Tanh);
    let d = MlpSpec::from_sizes(&[SIDE * SIDE, 13, 1], hidden, Activation::Identity);
    run(g.into(), d.into(), 4, Variant::default());
}

/// R1 (`--r1-gamma`): its exact double-backprop gradient at the real batch is part of D's
/// update, for a plain and a packed MLP D, and every other D step under `--r1-every 2`.
#[test]
fn r1_gan_iterations_match_the_f64_reference() {
    let hidden = Activation::LeakyRelu(0.2);
    let g = MlpSpec::from_sizes(&[4, 17, SIDE * SIDE], hidden, Activation::Tanh);
    let d = MlpSpec::from_sizes(&[SIDE * SIDE, 13, 1], hidden, Activation::Identity);
    for variant in [
        Variant {
            r1: Some(10.0),
            ..Variant::default()
        },
        Variant {
            pack: 2,
            r1: Some(3.0),
            ..Variant::default()
        },
        // Lazy R1: the first iteration's D step has the penalty at 2γ, the second none; and
        // G's noise drawn at 2.5 times the standard deviation.
        Variant {
            r1: Some(5.0),
            r1_every: 2,
            noise_scale: Some(2.5),
            ..Variant::default()
        },
    ] {
        run(g.clone().into(), d.clone().into(), 4, variant);
    }
}

#[test]
fn two_conv_gan_iterations_match_the_f64_reference() {
    let (g, d) = small_dcgan(5);
    run(g, d, 5, Variant::default());
}

/// Conditional GANs: labels gathered with their images, one-hot after G's noise and after D's
/// input (features for the MLP, channels for the conv D), G's gradient the image part of D's.
#[test]
fn two_conditional_gan_iterations_match_the_f64_reference() {
    let hidden = Activation::LeakyRelu(0.2);
    let g = MlpSpec::from_sizes(&[4, 17, SIDE * SIDE], hidden, Activation::Tanh);
    let d = MlpSpec::from_sizes(&[SIDE * SIDE, 13, 1], hidden, Activation::Identity);
    run(
        g.into(),
        d.into(),
        4,
        Variant {
            classes: Some(3),
            ..Variant::default()
        },
    );
    let (g, d) = small_dcgan(5);
    run(
        g,
        d,
        5,
        Variant {
            classes: Some(4),
            ..Variant::default()
        },
    );
}

/// PacGAN (D judges packs of 2 or 3 examples: the same memory seen as [batch / m, m·F], or m·C
/// channels for the conv D with batch norm over 3 or 2 packs) and the EMA generator (updated
/// after each G step through the warm-up), each against the f64 reference; also together with
/// a conditional MLP.
#[test]
fn packed_and_ema_gan_iterations_match_the_f64_reference() {
    let hidden = Activation::LeakyRelu(0.2);
    let g = MlpSpec::from_sizes(&[4, 17, SIDE * SIDE], hidden, Activation::Tanh);
    let d = MlpSpec::from_sizes(&[SIDE * SIDE, 13, 1], hidden, Activation::Identity);
    let packed = Variant {
        pack: 2,
        ema: Some(0.9),
        ..Variant::default()
    };
    run(g.clone().into(), d.clone().into(), 4, packed);
    let conditional = Variant {
        classes: Some(3),
        pack: 3,
        ..Variant::default()
    };
    run(g.into(), d.into(), 4, conditional);
    let (g, d) = small_dcgan(5);
    let conv = Variant {
        pack: 3,
        ema: Some(0.5),
        ..Variant::default()
    };
    run(g, d, 5, conv);
}
