//! `gan-gpu bench train`: iterations per second of a whole GAN (the reference MLP, or the dcgan
//! preset's convolutional networks; nsgan, Adam, k = 1) on synthetic MNIST-sized data resident
//! on the GPU; with each batch size's GPU memory by part and its first-iteration time.

use std::time::Instant;

use crate::data::SplitMix64;
use crate::error::Result;
use crate::gan::conv_nets;
use crate::gan::memory::MemoryBreakdown;
use crate::gan::real_data::{HostData, SampleShape};
use crate::gan::setup::{self, FirstIteration};
use crate::gan::{DataSource, GanLoss, OptimizerConfig, OptimizerKind, TrainConfig};
use crate::gpu::{GpuContext, Recorder};
use crate::kernels::data::PixelRange;
use crate::nn::conv::conv_op;
use crate::nn::{Layer, MlpSpec, NetworkSpec};

pub struct TrainRow {
    pub batch: usize,
    pub it_per_s: f64,
    pub dispatches_per_iteration: usize,
    /// Floating-point work of one iteration (matmuls only), for GFLOP/s.
    pub flops_per_iteration: f64,
    /// What the run allocates on the GPU, by part.
    pub memory: MemoryBreakdown,
    /// From the data upload to the first iteration done, with a cold pipeline cache.
    pub first_iteration: FirstIteration,
}

/// Which GAN `bench train` measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum BenchModel {
    /// The reference MLP GAN (preset pytorch-gan).
    Mlp,
    /// The dcgan preset's networks (width 64).
    Dcgan,
}

impl BenchModel {
    pub fn name(self) -> &'static str {
        match self {
            BenchModel::Mlp => "mlp",
            BenchModel::Dcgan => "dcgan",
        }
    }
}

/// The reference MLP GAN's config at this batch size.
pub fn reference_config(batch: usize) -> TrainConfig {
    model_config(BenchModel::Mlp, batch)
}

/// The config `bench train` runs for `model` at this batch size.
pub fn model_config(model: BenchModel, batch: usize) -> TrainConfig {
    let adam = OptimizerConfig::default_for(OptimizerKind::Adam);
    let (generator, discriminator): (NetworkSpec, NetworkSpec) = match model {
        BenchModel::Mlp => (
            MlpSpec::reference_generator(100, 784).into(),
            MlpSpec::reference_discriminator(784).into(),
        ),
        BenchModel::Dcgan => (
            conv_nets::dcgan_generator(100, 1, 64),
            conv_nets::dcgan_discriminator(1, 64, true),
        ),
    };
    TrainConfig {
        data: DataSource::Folder("synthetic".into()),
        noise_dim: 100,
        noise: Default::default(),
        noise_scale: 1.0,
        classes: None,
        generator,
        discriminator,
        loss: GanLoss::Nsgan,
        wasserstein: Default::default(),
        generator_optimizer: adam,
        discriminator_optimizer: adam,
        batch_size: batch,
        k: 1,
        steps: 1,
        seed: 0,
        log_every: 1,
        sample_every: 1,
        checkpoint_every: 1,
        holdout: 0,
        pixel_range: PixelRange::MinusOneToOne,
        pack: 1,
        ema: None,
        r1: None,
        r1_every: 1,
        eval: Default::default(),
    }
}

/// Multiply-adds of one example through `spec`'s linear and convolution layers.
pub fn forward_macs(spec: &NetworkSpec) -> f64 {
    let mut input = spec.input_shape();
    let mut macs = 0.0;
    for (layer, output) in spec.layers.iter().zip(spec.shapes()) {
        macs += match layer {
            Layer::Dense(_) | Layer::Linear(_) => {
                let dense = layer.as_dense().expect("dense or linear");
                (dense.inputs * dense.width()) as f64
            }
            Layer::Conv2d(c) | Layer::ConvTranspose2d(c) => {
                let transposed = matches!(layer, Layer::ConvTranspose2d(_));
                conv_op(c, transposed, 1, &input).map_or(0.0, |op| op.macs() as f64)
            }
            _ => 0.0,
        };
        input = output;
    }
    macs
}

/// Matmul FLOPs of one iteration: D step = G fwd + D fwd ×2 + D bwd ×2 (dW, dX);
/// G step = G fwd + D fwd + D bwd (dX only) + G bwd (dW, dX).
fn iteration_flops(config: &TrainConfig) -> f64 {
    let b = config.batch_size as f64;
    let layer_flops = |spec: &NetworkSpec| -> f64 { 2.0 * b * forward_macs(spec) };
    let (g, d) = (
        layer_flops(&config.generator),
        layer_flops(&config.discriminator),
    );
    let d_step = g + 2.0 * d + 2.0 * 2.0 * d;
    let g_step = g + d + d + 2.0 * g;
    config.k as f64 * d_step + g_step
}

pub fn run(
    ctx: &GpuContext,
    model: BenchModel,
    batches: &[usize],
    min_seconds: f64,
) -> Result<Vec<TrainRow>> {
    let mut rows = Vec::new();
    for &batch in batches {
        let config = model_config(model, batch);
        let mut rng = SplitMix64::new(1);
        let count = 2048;
        let host = HostData {
            shape: SampleShape::Image {
                height: 28,
                width: 28,
                channels: 1,
            },
            pixels: (0..count * 784)
                .map(|_| (rng.next_u64() >> 56) as u8)
                .collect(),
            count,
            description: "synthetic 28×28".into(),
            labels: Vec::new(),
            classes: 0,
        };
        // Every batch size compiles its own pipelines, as a fresh `train` run would.
        ctx.clear_pipeline_cache();
        let measured = setup::build(ctx, &config, host)?;
        let first_iteration = measured.first_iteration(ctx, 0)?;
        let graph = &measured.graph;
        let time = |iterations: usize| -> Result<f64> {
            let start = Instant::now();
            let mut recorder = Recorder::new(ctx);
            for iteration in 0..iterations as u64 {
                graph.record_iteration(&mut recorder, iteration);
            }
            recorder.submit()?;
            ctx.wait_idle()?;
            Ok(start.elapsed().as_secs_f64())
        };
        let once = time(2)? / 2.0;
        let iterations = ((min_seconds / once.max(1e-6)).ceil() as usize).clamp(2, 100_000);
        let seconds = time(iterations)?;
        rows.push(TrainRow {
            batch,
            it_per_s: iterations as f64 / seconds,
            dispatches_per_iteration: graph.dispatches_per_iteration(),
            flops_per_iteration: iteration_flops(&config),
            memory: measured.memory,
            first_iteration,
        });
    }
    Ok(rows)
}
