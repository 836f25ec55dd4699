//! End-to-end training: losses move and files appear (ring8 always, MNIST where ../shared has
//! it), a stopped-and-resumed run reproduces the uninterrupted one bit for bit, and a training
//! iteration makes no host write or read.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use gan_gpu::gan::checkpoint::Checkpoint;
use gan_gpu::gan::graph::TrainGraph;
use gan_gpu::gan::real_data::{HostData, RealData};
use gan_gpu::gan::{
    DataSource, GanLoss, OptimizerConfig, OptimizerKind, Penalty, Silent, TrainConfig,
    WassersteinConfig, train,
};
use gan_gpu::gpu::{AdapterChoice, GpuContext, Recorder};
use gan_gpu::kernels::Activation;
use gan_gpu::nn::MlpSpec;

fn gpu() -> &'static GpuContext {
    static CONTEXT: OnceLock<GpuContext> = OnceLock::new();
    CONTEXT.get_or_init(|| {
        GpuContext::new(&AdapterChoice::from_flag_or_env(None))
            .expect("a GPU adapter (lavapipe will do)")
    })
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("gan-gpu-test-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn toy_config(steps: u64) -> TrainConfig {
    let hidden = Activation::LeakyRelu(0.2);
    let mut optimizer = OptimizerConfig::default_for(OptimizerKind::Adam);
    optimizer.lr = 1e-3;
    TrainConfig {
        data: DataSource::Toy("ring8".into()),
        noise_dim: 2,
        generator: MlpSpec::from_sizes(&[2, 32, 32, 2], hidden, Activation::Identity),
        discriminator: MlpSpec::from_sizes(&[2, 32, 32, 1], hidden, Activation::Identity),
        loss: GanLoss::Nsgan,
        wasserstein: Default::default(),
        generator_optimizer: optimizer,
        discriminator_optimizer: optimizer,
        batch_size: 64,
        k: 1,
        steps,
        seed: 7,
        log_every: 10,
        sample_every: 20,
        checkpoint_every: 20,
    }
}

fn loss_columns(run: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(run.join("metrics.csv")).unwrap();
    // step, d_loss, g_loss, d_real, d_fake (it_per_s differs run to run).
    text.lines()
        .skip(1)
        .map(|line| line.split(',').take(5).collect::<Vec<_>>().join(","))
        .collect()
}

#[test]
fn ring8_training_moves_losses_and_writes_every_file() {
    let run = scratch("ring8");
    let outcome = train(gpu(), &toy_config(60), &run, None, &mut Silent).unwrap();
    assert_eq!(outcome.final_step, 60);
    assert_eq!(outcome.rows.len(), 6);
    let first = &outcome.rows[0];
    let last = outcome.rows.last().unwrap();
    assert!(
        outcome
            .rows
            .iter()
            .all(|r| r.d_loss.is_finite() && r.g_loss.is_finite())
    );
    assert_ne!(first.d_loss, last.d_loss, "D loss never moved");
    assert_ne!(first.g_loss, last.g_loss, "G loss never moved");
    assert!((0.0..=1.0).contains(&last.d_real) && (0.0..=1.0).contains(&last.d_fake));
    for file in [
        "config.json",
        "metrics.csv",
        "loss_curves.png",
        "generator.safetensors",
        "samples/step_000000.png",
        "samples/step_000060.png",
        "checkpoints/step_000020.safetensors",
        "checkpoints/step_000060.safetensors",
    ] {
        assert!(run.join(file).is_file(), "{file} missing");
    }
    let leftovers: Vec<_> = walk(&run)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "tmp"))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
    std::fs::remove_dir_all(&run).ok();
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}

#[test]
fn resuming_reproduces_an_uninterrupted_run_bit_for_bit() {
    check_resume_is_bit_exact("nsgan", &toy_config);
}

/// Run `config(40)` whole, and as 20 + 20 with a resume between: same losses, same generator.
fn check_resume_is_bit_exact(name: &str, config: &dyn Fn(u64) -> TrainConfig) {
    let whole = scratch(&format!("{name}-whole"));
    train(gpu(), &config(40), &whole, None, &mut Silent).unwrap();

    let split = scratch(&format!("{name}-split"));
    train(gpu(), &config(20), &split, None, &mut Silent).unwrap();
    let checkpoint = Checkpoint::load(&Checkpoint::find_latest(&split).unwrap()).unwrap();
    assert_eq!(checkpoint.step, 20);
    let mut config = checkpoint.config.clone();
    config.steps = 40;
    train(gpu(), &config, &split, Some(&checkpoint), &mut Silent).unwrap();

    let (a, b) = (loss_columns(&whole), loss_columns(&split));
    assert_eq!(a.len(), 4, "{name}");
    assert_eq!(
        a, b,
        "{name}: resumed losses differ from the uninterrupted run"
    );
    let weights = |run: &Path| {
        gan_gpu::checkpoint_io::load_tensors(run.join("generator.safetensors"))
            .unwrap()
            .0
    };
    assert!(
        weights(&whole) == weights(&split),
        "{name}: final generator differs"
    );
    std::fs::remove_dir_all(&whole).ok();
    std::fs::remove_dir_all(&split).ok();
}

#[test]
fn a_training_iteration_makes_no_host_write_or_read() {
    // A context of its own: the other tests' transfers would show in a shared one's counters.
    let ctx = &GpuContext::new(&AdapterChoice::from_flag_or_env(None)).unwrap();
    for config in [
        toy_config(10),
        wasserstein_config(10, GanLoss::WganGp, Penalty::TwoSided),
        wasserstein_config(10, GanLoss::WganGp, Penalty::LipschitzFd),
        wasserstein_config(10, GanLoss::Wgan, Penalty::TwoSided),
    ] {
        let what = format!("{:?} {:?}", config.loss, config.wasserstein.penalty);
        let real = RealData::upload(
            ctx,
            HostData::load(&config.data).unwrap(),
            config.batch_size,
        )
        .unwrap();
        let graph = TrainGraph::new(ctx, &config, real).unwrap();
        ctx.wait_idle().unwrap();
        let (writes, reads) = (ctx.transfers.writes(), ctx.transfers.reads());
        let mut recorder = Recorder::new(ctx);
        for _ in 0..5 {
            graph.record_iteration(&mut recorder);
        }
        assert_eq!(recorder.dispatches, 5 * graph.dispatches_per_iteration());
        recorder.submit().unwrap();
        ctx.wait_idle().unwrap();
        assert_eq!(
            ctx.transfers.writes(),
            writes,
            "{what}: training iterations wrote from the host"
        );
        assert_eq!(
            ctx.transfers.reads(),
            reads,
            "{what}: training iterations read back to the host"
        );
        // And the iterations did train: the critic's optimizer stepped k times per iteration.
        if config.discriminator_optimizer.kind == OptimizerKind::Adam {
            let steps = ctx.read_u32(&graph.d_optimizer.step).unwrap()[0];
            assert_eq!(steps as usize, 5 * config.k, "{what}");
        }
    }
}

#[test]
fn restoring_a_checkpoint_of_another_architecture_is_refused() {
    let run = scratch("arch");
    train(gpu(), &toy_config(20), &run, None, &mut Silent).unwrap();
    let checkpoint = Checkpoint::load(&Checkpoint::find_latest(&run).unwrap()).unwrap();
    let mut other = toy_config(20);
    other.generator = MlpSpec::from_sizes(&[2, 64, 2], Activation::Relu, Activation::Identity);
    let error = checkpoint
        .check_architecture(&other)
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("generator architecture")
            && error.contains("2-64-2")
            && error.contains("2-32-32-2"),
        "{error}"
    );
    std::fs::remove_dir_all(&run).ok();
}

#[test]
fn mnist_training_moves_losses_and_writes_a_grid() {
    let folder = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/data/mnist");
    if !Path::new(folder).is_dir() {
        eprintln!(
            "skipped: {folder} is absent (real MNIST lives there in the project's workplace)"
        );
        return;
    }
    let run = scratch("mnist");
    let config = TrainConfig {
        data: DataSource::Folder(folder.into()),
        noise_dim: 100,
        generator: MlpSpec::reference_generator(100, 784),
        discriminator: MlpSpec::reference_discriminator(784),
        log_every: 5,
        sample_every: 20,
        checkpoint_every: 20,
        ..toy_config(20)
    };
    let outcome = train(gpu(), &config, &run, None, &mut Silent).unwrap();
    let (first, last) = (&outcome.rows[0], outcome.rows.last().unwrap());
    assert!(last.d_loss.is_finite() && last.g_loss.is_finite());
    assert_ne!(first.d_loss, last.d_loss);
    let grid = image::open(run.join("samples/step_000020.png")).unwrap();
    assert!(
        grid.width() >= 8 * 28 && grid.height() >= 8 * 28,
        "a grid of 64 digits"
    );
    std::fs::remove_dir_all(&run).ok();
}

/// A small wgan-gp (or wgan) run: 2 critic steps per G step, the paper's Adam settings.
fn wasserstein_config(steps: u64, loss: GanLoss, penalty: Penalty) -> TrainConfig {
    let mut optimizer = OptimizerConfig::default_for(OptimizerKind::Adam);
    optimizer.lr = 1e-4;
    optimizer.beta2 = 0.9;
    if loss == GanLoss::Wgan {
        optimizer = OptimizerConfig::default_for(OptimizerKind::Rmsprop);
    }
    TrainConfig {
        loss,
        wasserstein: WassersteinConfig {
            penalty,
            ..Default::default()
        },
        generator_optimizer: optimizer,
        discriminator_optimizer: optimizer,
        k: 2,
        ..toy_config(steps)
    }
}

/// Column `name` of metrics.csv, one value per row.
fn csv_column(run: &Path, name: &str) -> Vec<f64> {
    let text = std::fs::read_to_string(run.join("metrics.csv")).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let i = header
        .iter()
        .position(|&c| c == name)
        .unwrap_or_else(|| panic!("no column {name} in {header:?}"));
    lines
        .map(|line| line.split(',').nth(i).unwrap().parse().unwrap())
        .collect()
}

#[test]
fn ring8_wgan_gp_training_logs_finite_wasserstein_metrics_and_writes_files() {
    for penalty in [Penalty::TwoSided, Penalty::LipschitzFd] {
        let run = scratch(&format!("wgan-gp-{penalty:?}"));
        let outcome = train(
            gpu(),
            &wasserstein_config(40, GanLoss::WganGp, penalty),
            &run,
            None,
            &mut Silent,
        )
        .unwrap();
        assert_eq!(
            outcome.extra_columns,
            [
                "wasserstein",
                "penalty",
                "grad_norm",
                "modes",
                "high_quality"
            ]
        );
        assert_eq!(outcome.rows.len(), 4);
        for (row, extras) in outcome.rows.iter().zip(&outcome.extras) {
            let [wasserstein, penalty_value, slope, ..] = extras[..] else {
                unreachable!()
            };
            assert!(row.d_loss.is_finite() && row.g_loss.is_finite(), "{row:?}");
            assert_eq!(wasserstein, row.d_real - row.d_fake);
            assert!(wasserstein.is_finite(), "{penalty:?}: {extras:?}");
            // The penalty is part of the critic loss, and a slope is a norm.
            assert!(
                penalty_value >= 0.0 && slope > 0.0,
                "{penalty:?}: {extras:?}"
            );
            assert!(
                (row.d_loss - (row.d_fake - row.d_real + penalty_value)).abs()
                    <= 1e-4 * (1.0 + row.d_loss.abs()),
                "{penalty:?}: D loss {} vs its parts {extras:?}",
                row.d_loss
            );
        }
        assert_ne!(
            outcome.extras[0][1], outcome.extras[3][1],
            "penalty never moved"
        );
        // Mode coverage at the sample steps (20, 40) only.
        let modes = csv_column(&run, "modes");
        let high_quality = csv_column(&run, "high_quality");
        assert!(modes[0].is_nan() && modes[2].is_nan(), "{modes:?}");
        assert!((0.0..=8.0).contains(&modes[1]) && (0.0..=8.0).contains(&modes[3]));
        assert!((0.0..=1.0).contains(&high_quality[3]), "{high_quality:?}");
        assert_eq!(csv_column(&run, "penalty").len(), 4);
        for file in [
            "config.json",
            "loss_curves.png",
            "generator.safetensors",
            "samples/step_000040.png",
            "checkpoints/step_000040.safetensors",
        ] {
            assert!(run.join(file).is_file(), "{penalty:?}: {file} missing");
        }
        let config = std::fs::read_to_string(run.join("config.json")).unwrap();
        assert!(
            config.contains("\"wgan-gp\"") && config.contains("\"lambda\": 10.0"),
            "{config}"
        );
        std::fs::remove_dir_all(&run).ok();
    }
}

#[test]
fn resuming_a_wgan_gp_run_reproduces_it_bit_for_bit() {
    check_resume_is_bit_exact("wgan-gp", &|steps| {
        wasserstein_config(steps, GanLoss::WganGp, Penalty::TwoSided)
    });
}

#[test]
fn wgan_clips_every_critic_parameter() {
    let run = scratch("wgan");
    let config = wasserstein_config(20, GanLoss::Wgan, Penalty::TwoSided);
    let outcome = train(gpu(), &config, &run, None, &mut Silent).unwrap();
    assert_eq!(
        outcome.extra_columns,
        ["wasserstein", "modes", "high_quality"]
    );
    assert!(outcome.extras.iter().all(|e| e[0].is_finite()));
    let checkpoint = Checkpoint::load(&Checkpoint::find_latest(&run).unwrap()).unwrap();
    let c = config.wasserstein.clip;
    let mut count = 0;
    for (name, _, values) in &checkpoint.tensors {
        if name.starts_with("discriminator.") {
            count += values.len();
            assert!(
                values.iter().all(|v| v.abs() <= c),
                "{name} has values outside [−{c}, {c}]"
            );
        }
    }
    assert_eq!(count, config.discriminator.parameter_count());
    // Clipping bites: the initial weights (up to 1/√2 for 2 inputs) are far larger than c.
    let first = checkpoint
        .tensors
        .iter()
        .find(|(name, ..)| name == "discriminator.0.weight")
        .unwrap();
    assert!(
        first.2.iter().any(|v| v.abs() == c),
        "no weight at the clip value"
    );
    std::fs::remove_dir_all(&run).ok();
}
