//! End-to-end training: losses move and files appear (ring8 always, MNIST where ../shared has
//! it), a stopped-and-resumed run reproduces the uninterrupted one bit for bit (also with
//! maxout, dropout and the SGD schedule of a shrunk goodfellow2014 setup, whose lr and momentum
//! are read back from the GPU), held-out examples are never drawn, and a training iteration
//! makes no host write or read.

mod support;

use std::path::{Path, PathBuf};

use gan_gpu::data::{IdxImages, write_idx_images, write_idx_labels};
use gan_gpu::gan::checkpoint::{Checkpoint, checkpoint_name};
use gan_gpu::gan::graph::TrainGraph;
use gan_gpu::gan::presets;
use gan_gpu::gan::real_data::{HostData, RealData, SampleShape};
use gan_gpu::gan::{
    DataSource, GanLoss, OptimizerConfig, OptimizerKind, Penalty, Silent, TrainConfig,
    WassersteinConfig, train,
};
use gan_gpu::gpu::{AdapterChoice, GpuContext, Recorder};
use gan_gpu::kernels::Activation;
use gan_gpu::kernels::data::PixelRange;
use gan_gpu::nn::MlpSpec;
use gan_gpu::report::metric_column;
use support::gpu;

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
        noise: Default::default(),
        noise_scale: 1.0,
        classes: None,
        generator: MlpSpec::from_sizes(&[2, 32, 32, 2], hidden, Activation::Identity).into(),
        discriminator: MlpSpec::from_sizes(&[2, 32, 32, 1], hidden, Activation::Identity).into(),
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
        holdout: 0,
        pixel_range: PixelRange::MinusOneToOne,
        pack: 1,
        ema: None,
        r1: None,
        r1_every: 1,
        eval: Default::default(),
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
        "samples/step_000000000.png",
        "samples/step_000000060.png",
        "checkpoints/step_000000020.safetensors",
        "checkpoints/step_000000060.safetensors",
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

/// PacGAN's packed critic (under wgan-gp's penalty, whose x̂ rows are packs) and the EMA
/// generator resume bit for bit too: the EMA is checkpointed beside G, and
/// generator.safetensors is the EMA's.
#[test]
fn a_packed_run_with_an_ema_generator_resumes_bit_for_bit() {
    let packed = |steps| {
        let hidden = Activation::LeakyRelu(0.2);
        TrainConfig {
            pack: 2,
            ema: Some(0.99),
            discriminator: MlpSpec::from_sizes(&[4, 32, 32, 1], hidden, Activation::Identity)
                .into(),
            ..wasserstein_config(steps, GanLoss::WganGp, Penalty::TwoSided)
        }
    };
    check_resume_is_bit_exact("pack-ema", &packed);
}

/// Lazy R1 picks its D steps by the run's step count: with every third D step penalised, a
/// resume at step 20 (mid-cycle) continues on the uninterrupted run's steps.
#[test]
fn a_lazy_r1_run_resumes_bit_for_bit() {
    let lazy = |steps| TrainConfig {
        r1: Some(2.0),
        r1_every: 3,
        ..toy_config(steps)
    };
    check_resume_is_bit_exact("lazy-r1", &lazy);
}

/// Run `config(40)` whole, and as 20 + 20 with a resume between: same losses, same generator,
/// same final checkpoint (every network, optimizer state and EMA).
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
    let last = |run: &Path| {
        gan_gpu::checkpoint_io::load_tensors(run.join("checkpoints/step_000000040.safetensors"))
            .unwrap()
            .0
    };
    assert!(
        last(&whole) == last(&split),
        "{name}: final checkpoints differ"
    );
    std::fs::remove_dir_all(&whole).ok();
    std::fs::remove_dir_all(&split).ok();
}

#[test]
fn a_training_iteration_makes_no_host_write_or_read() {
    // A context of its own: the other tests' transfers would show in a shared one's counters.
    let ctx = &GpuContext::new(&AdapterChoice::from_flag_or_env(None)).unwrap();
    // The toy MLPs with Adam, and the shrunk goodfellow2014 (maxout, dropout masks, SGD with its
    // lr/momentum schedule) on 40 synthetic images.
    let images = HostData {
        shape: SampleShape::Image {
            height: SIDE,
            width: SIDE,
            channels: 1,
        },
        pixels: synthetic_pixels(40, true),
        count: 40,
        description: "synthetic".into(),
        labels: Vec::new(),
        classes: 0,
    };
    let goodfellow = tiny_goodfellow(DataSource::Folder("synthetic".into()), 40, 0, 10);
    let ring8 = || HostData::load(&DataSource::Toy("ring8".into())).unwrap();
    for (config, host) in [
        (toy_config(10), ring8()),
        (
            wasserstein_config(10, GanLoss::WganGp, Penalty::TwoSided),
            ring8(),
        ),
        (
            wasserstein_config(10, GanLoss::WganGp, Penalty::LipschitzFd),
            ring8(),
        ),
        (
            wasserstein_config(10, GanLoss::Wgan, Penalty::TwoSided),
            ring8(),
        ),
        (goodfellow, images),
    ] {
        let what = format!("{:?} {:?}", config.loss, config.wasserstein.penalty);
        let real = RealData::upload(ctx, host, config.batch_size).unwrap();
        let graph = TrainGraph::new(ctx, &config, real).unwrap();
        ctx.wait_idle().unwrap();
        let (writes, reads) = (ctx.transfers.writes(), ctx.transfers.reads());
        let mut recorder = Recorder::new(ctx);
        for iteration in 0..5 {
            graph.record_iteration(&mut recorder, iteration);
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
        // And the iterations did train: the optimizers counted their updates on the GPU.
        let d_steps = ctx.read_u32(&graph.d_optimizer.step).unwrap()[0] as usize;
        let g_steps = ctx.read_u32(&graph.g_optimizer.step).unwrap()[0] as usize;
        assert_eq!((d_steps, g_steps), (5 * config.k, 5), "{what}");
    }
}

#[test]
fn restoring_a_checkpoint_of_another_architecture_is_refused() {
    let run = scratch("arch");
    train(gpu(), &toy_config(20), &run, None, &mut Silent).unwrap();
    let checkpoint = Checkpoint::load(&Checkpoint::find_latest(&run).unwrap()).unwrap();
    let mut other = toy_config(20);
    other.generator =
        MlpSpec::from_sizes(&[2, 64, 2], Activation::Relu, Activation::Identity).into();
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
        noise: Default::default(),
        noise_scale: 1.0,
        classes: None,
        generator: MlpSpec::reference_generator(100, 784).into(),
        discriminator: MlpSpec::reference_discriminator(784).into(),
        log_every: 5,
        sample_every: 20,
        checkpoint_every: 20,
        ..toy_config(20)
    };
    let outcome = train(gpu(), &config, &run, None, &mut Silent).unwrap();
    let (first, last) = (&outcome.rows[0], outcome.rows.last().unwrap());
    assert!(last.d_loss.is_finite() && last.g_loss.is_finite());
    assert_ne!(first.d_loss, last.d_loss);
    let grid = image::open(run.join("samples/step_000000020.png")).unwrap();
    assert!(
        grid.width() >= 8 * 28 && grid.height() >= 8 * 28,
        "a grid of 64 digits"
    );
    std::fs::remove_dir_all(&run).ok();
}

/// 6×6 images of the shrunk goodfellow2014 runs.
const SIDE: usize = 6;

/// Image i of a synthetic set: every pixel 5·i (so a batch row names its example), or random.
fn synthetic_pixels(count: usize, random: bool) -> Vec<u8> {
    let mut rng = gan_gpu::data::SplitMix64::new(9);
    (0..count * SIDE * SIDE)
        .map(|j| {
            if random {
                (rng.next_u64() >> 56) as u8
            } else {
                (5 * (j / (SIDE * SIDE))) as u8
            }
        })
        .collect()
}

/// The goodfellow2014 preset shrunk: G 8 → 16 → 16 → 36, D maxout 8×3 → 8×3 → 1 with the
/// preset's dropout, init, SGD schedule (ramp: 2 epochs) and loss; batch 10.
fn tiny_goodfellow(data: DataSource, examples: usize, holdout: usize, steps: u64) -> TrainConfig {
    let preset = presets::goodfellow2014();
    let batch = 10;
    let (d_ramp, g_ramp) = presets::ramp_updates(2.0, examples - holdout, batch, preset.k);
    let ramp = |mut optimizer: OptimizerConfig, updates| {
        optimizer.schedule.as_mut().unwrap().momentum_ramp_updates = updates;
        optimizer
    };
    TrainConfig {
        data,
        noise_dim: 8,
        noise: Default::default(),
        noise_scale: 1.0,
        classes: None,
        generator: presets::goodfellow2014_generator(8, 16, SIDE * SIDE).into(),
        discriminator: presets::goodfellow2014_discriminator(SIDE * SIDE, 8, 3).into(),
        loss: preset.loss,
        wasserstein: Default::default(),
        generator_optimizer: ramp(preset.generator_optimizer, g_ramp),
        discriminator_optimizer: ramp(preset.discriminator_optimizer, d_ramp),
        batch_size: batch,
        k: preset.k,
        steps,
        seed: 3,
        log_every: 5,
        sample_every: 10,
        checkpoint_every: 10,
        holdout,
        pixel_range: PixelRange::ZeroToOne,
        pack: 1,
        ema: None,
        r1: None,
        r1_every: 1,
        eval: Default::default(),
    }
}

fn idx_folder(name: &str, count: usize) -> PathBuf {
    let dir = scratch(name);
    std::fs::create_dir_all(&dir).unwrap();
    let images = IdxImages {
        count,
        rows: SIDE,
        cols: SIDE,
        pixels: synthetic_pixels(count, true),
    };
    write_idx_images(dir.join("train-images-idx3-ubyte"), &images, false).unwrap();
    write_idx_labels(dir.join("train-labels-idx1-ubyte"), &vec![0; count], false).unwrap();
    dir
}

#[test]
fn goodfellow2014_shaped_run_schedules_on_the_gpu_and_resumes_bit_for_bit() {
    let (examples, holdout) = (150, 20);
    let data_dir = idx_folder("gf-data", examples);
    let data = DataSource::Folder(data_dir.to_string_lossy().into_owned());
    let config = |steps| tiny_goodfellow(data.clone(), examples, holdout, steps);
    let whole = scratch("gf-whole");
    let outcome = train(gpu(), &config(30), &whole, None, &mut Silent).unwrap();
    let (first, last) = (&outcome.rows[0], outcome.rows.last().unwrap());
    assert!(
        outcome
            .rows
            .iter()
            .all(|r| r.d_loss.is_finite() && r.g_loss.is_finite())
    );
    assert_ne!(first.d_loss, last.d_loss, "D loss never moved");
    assert_ne!(first.g_loss, last.g_loss, "G loss never moved");

    let split = scratch("gf-split");
    train(gpu(), &config(10), &split, None, &mut Silent).unwrap();
    let checkpoint = Checkpoint::load(&Checkpoint::find_latest(&split).unwrap()).unwrap();
    let mut resumed = checkpoint.config.clone();
    resumed.steps = 30;
    train(gpu(), &resumed, &split, Some(&checkpoint), &mut Silent).unwrap();
    assert_eq!(loss_columns(&whole).len(), 6);
    assert_eq!(
        loss_columns(&whole),
        loss_columns(&split),
        "resumed losses differ"
    );
    let tensors = |run: &Path, file: &str| {
        gan_gpu::checkpoint_io::load_tensors(run.join(file))
            .unwrap()
            .0
    };
    for file in [
        "generator.safetensors",
        "checkpoints/step_000000030.safetensors",
    ] {
        assert!(
            tensors(&whole, file) == tensors(&split, file),
            "{file} differs"
        );
    }

    // lr and momentum as the GPU left them (checkpoints read the settings tensors back): after
    // t updates, lr0 / 1.000004^t and 0.5 + 0.2·min(t / ramp, 1), ramp = 2 epochs = 26 updates.
    let full = config(30);
    for step in [10u64, 20, 30] {
        let file = format!("checkpoints/{}", checkpoint_name(step));
        let tensors = tensors(&whole, &file);
        for (name, optimizer) in [
            ("generator", full.generator_optimizer),
            ("discriminator", full.discriminator_optimizer),
        ] {
            let settings = &gan_gpu::checkpoint_io::find_tensor(
                &tensors,
                &format!("optimizer.{name}.settings"),
            )
            .unwrap()
            .2;
            let ramp = optimizer.schedule.unwrap().momentum_ramp_updates;
            assert_eq!(ramp, 26);
            let t = step as f64; // k = 1: one update of each network per iteration
            let lr = optimizer.lr as f64 * 1.000004f64.powf(-t);
            let momentum = 0.5 + 0.2 * (t / ramp as f64).min(1.0);
            let what = format!("{name} at step {step}: settings {settings:?}");
            assert!(
                ((settings[0] as f64) - lr).abs() <= 2e-6 * lr,
                "{what}, lr {lr}"
            );
            assert!(settings[0] < optimizer.lr, "{what}: lr did not decay");
            assert!(
                ((settings[1] as f64) - momentum).abs() <= 1e-6,
                "{what}, momentum {momentum}"
            );
        }
    }

    // The run records its held-out examples and its data range.
    let config_json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(whole.join("config.json")).unwrap()).unwrap();
    assert_eq!(config_json["holdout"], 20);
    assert_eq!(config_json["pixel_range"], "zero_to_one");
    let holdout_json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(whole.join("holdout.json")).unwrap())
            .unwrap();
    assert_eq!(
        holdout_json,
        serde_json::json!({
            "data": data_dir.to_string_lossy(),
            "first_index": 130,
            "count": 20,
        })
    );
    for dir in [&whole, &split, &data_dir] {
        std::fs::remove_dir_all(dir).ok();
    }
}

#[test]
fn held_out_examples_are_never_drawn() {
    // 50 examples whose pixels all equal 5·index; the last 13 are held out.
    let (count, holdout) = (50, 13);
    let host = HostData {
        shape: SampleShape::Image {
            height: SIDE,
            width: SIDE,
            channels: 1,
        },
        pixels: synthetic_pixels(count, false),
        count,
        description: "synthetic".into(),
        labels: Vec::new(),
        classes: 0,
    };
    let config = tiny_goodfellow(DataSource::Folder("synthetic".into()), count, holdout, 1);
    let real = RealData::upload(gpu(), host.hold_out(holdout).unwrap(), 10).unwrap();
    let graph = TrainGraph::new(gpu(), &config, real).unwrap();
    let training = count - holdout;
    let mut seen = vec![false; training];
    // 20 iterations draw 200 rows: over five epochs of the 37 training examples.
    for iteration in 0..20 {
        let mut recorder = Recorder::new(gpu());
        graph.record_iteration(&mut recorder, iteration);
        recorder.submit().unwrap();
        let indices = gpu().read_u32(graph.real.indices().unwrap()).unwrap();
        let batch = gpu().read_f32(&graph.real.batch).unwrap();
        for (row, &index) in indices.iter().enumerate() {
            assert!(
                (index as usize) < training,
                "drew example {index}, held out"
            );
            seen[index as usize] = true;
            // The gathered row is that example, scaled to [0, 1].
            let pixels = &batch[row * SIDE * SIDE..(row + 1) * SIDE * SIDE];
            let expected = 5.0 * index as f32 / 255.0;
            assert!(pixels.iter().all(|&v| (v - expected).abs() <= 1e-6));
        }
    }
    assert!(seen.iter().all(|&s| s), "every training example is drawn");
    // G's sigmoid output starts at the training examples' mean pixel (not the held-out ones').
    let mean = 5.0 * (training - 1) as f64 / 2.0 / 255.0;
    let bias = gpu().read_f32(&graph.generator.layer_params(2)[1]).unwrap();
    let logit = (mean / (1.0 - mean)).ln();
    assert!(
        bias.iter().all(|&b| (b as f64 - logit).abs() < 1e-6),
        "{bias:?} vs {logit}"
    );

    let all = HostData {
        shape: SampleShape::Image {
            height: SIDE,
            width: SIDE,
            channels: 1,
        },
        pixels: synthetic_pixels(count, false),
        count,
        description: "synthetic".into(),
        labels: Vec::new(),
        classes: 0,
    };
    let error = all.hold_out(count).err().unwrap().to_string();
    assert!(
        error.contains("--holdout 50") && error.contains("(50 in synthetic)"),
        "{error}"
    );
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
            metric_column::names(&outcome.extra_columns),
            [
                "wasserstein",
                "penalty",
                "grad_norm",
                "modes",
                "high_quality",
                "diversity",
                "collapse_warning"
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
            "samples/step_000000040.png",
            "checkpoints/step_000000040.safetensors",
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
        metric_column::names(&outcome.extra_columns),
        [
            "wasserstein",
            "modes",
            "high_quality",
            "diversity",
            "collapse_warning"
        ]
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
