//! The GPU memory breakdown of a training run: every part is there, the parts fit in what the
//! context counted, and the parameter buffers are the networks' parameters (4 bytes each, plus
//! only the alignment padding between tensors).

mod support;

use gan_gpu::gan::real_data::HostData;
use gan_gpu::gan::setup;
use gan_gpu::gan::{DataSource, GanLoss, OptimizerConfig, OptimizerKind, TrainConfig};
use gan_gpu::gpu::FlatBuffer;
use gan_gpu::kernels::Activation;
use gan_gpu::kernels::data::PixelRange;
use gan_gpu::nn::{MlpSpec, NetworkSpec};
use support::gpu;

fn tiny_toy_config() -> TrainConfig {
    let hidden = Activation::LeakyRelu(0.2);
    let adam = OptimizerConfig::default_for(OptimizerKind::Adam);
    TrainConfig {
        data: DataSource::Toy("ring8".into()),
        noise_dim: 2,
        noise: Default::default(),
        noise_scale: 1.0,
        classes: None,
        generator: MlpSpec::from_sizes(&[2, 16, 2], hidden, Activation::Identity).into(),
        discriminator: MlpSpec::from_sizes(&[2, 16, 1], hidden, Activation::Identity).into(),
        loss: GanLoss::Nsgan,
        wasserstein: Default::default(),
        generator_optimizer: adam,
        discriminator_optimizer: adam,
        batch_size: 8,
        k: 1,
        steps: 1,
        seed: 3,
        log_every: 1,
        sample_every: 1,
        checkpoint_every: 1,
        holdout: 0,
        pixel_range: PixelRange::MinusOneToOne,
        pack: 1,
        // On, so that every part of the breakdown has something to count.
        ema: Some(0.99),
        r1: None,
        r1_every: 1,
        eval: Default::default(),
    }
}

/// Bytes of `spec`'s parameters packed as a flat buffer on this adapter, and 4 × their count.
fn parameter_bytes(spec: &NetworkSpec) -> (u64, u64) {
    let alignment = gpu().limits.min_storage_buffer_offset_alignment as u64;
    let (_, packed) = FlatBuffer::layout(alignment, &spec.parameter_shapes());
    (4 * packed as u64, 4 * spec.parameter_count() as u64)
}

#[test]
fn memory_breakdown_of_a_toy_run_counts_every_part() {
    let config = tiny_toy_config();
    let host = HostData::load(&config.data).unwrap();
    let measured = setup::build(gpu(), &config, host).unwrap();
    let memory = measured.memory;
    let parts = [
        ("G parameters", memory.g_parameters),
        ("D parameters", memory.d_parameters),
        ("gradients", memory.gradients),
        ("optimizer state", memory.optimizer_state),
        ("EMA generator", memory.ema),
        ("data set", memory.dataset),
        ("activations and scratch", memory.activations_and_scratch()),
    ];
    for (name, bytes) in parts {
        assert!(bytes > 0, "{name}: 0 bytes in {memory}");
    }
    assert!(memory.named() <= memory.total, "{memory}");
    assert!(memory.buffers > 0, "{memory}");

    for (name, bytes, spec) in [
        ("G", memory.g_parameters, &config.generator),
        ("D", memory.d_parameters, &config.discriminator),
    ] {
        let (packed, exact) = parameter_bytes(spec);
        assert_eq!(
            bytes, packed,
            "{name}: parameter buffer vs its packed layout"
        );
        let padding = spec.parameter_shapes().len() as u64
            * gpu().limits.min_storage_buffer_offset_alignment as u64;
        assert!(
            exact <= bytes && bytes < exact + padding,
            "{name}: {bytes} bytes for {} parameters",
            exact / 4
        );
    }
    // Gradients mirror the parameters; Adam keeps two moments of each (plus its settings and
    // step counter); the EMA generator is a whole copy of G's buffers.
    assert_eq!(memory.gradients, memory.parameters());
    assert!(memory.optimizer_state > 2 * memory.parameters());
    assert!(memory.ema >= memory.g_parameters);

    let first = measured.first_iteration(gpu(), 0).unwrap();
    assert!(first.seconds > 0.0);
    assert!(
        first.to_string().starts_with("first iteration: "),
        "{first}"
    );
}
