//! Bad input through the real binary: each case is a clear message naming what was wrong,
//! a non-zero exit, and no panic.

mod support;

use std::path::PathBuf;

use support::{fails, fake_mnist, succeeds};

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("gan-gpu-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A two-step ring8 run in `dir`/run.
fn tiny_run(dir: &std::path::Path) -> PathBuf {
    tiny_run_with(dir, &[])
}

/// `tiny_run` with `flags` added to its `train` command.
fn tiny_run_with(dir: &std::path::Path, flags: &[&str]) -> PathBuf {
    let run = dir.join("run");
    let mut args = vec![
        "train",
        "--steps",
        "2",
        "--log-every",
        "1",
        "--quiet",
        "--out",
        run.to_str().unwrap(),
    ];
    args.extend_from_slice(flags);
    succeeds(&args);
    run
}

fn idx_images(count: u32, rows: u32, cols: u32) -> Vec<u8> {
    let mut bytes = vec![0, 0, 8, 3];
    for d in [count, rows, cols] {
        bytes.extend_from_slice(&d.to_be_bytes());
    }
    bytes.extend(std::iter::repeat_n(7u8, (count * rows * cols) as usize));
    bytes
}

fn idx_labels(count: u32) -> Vec<u8> {
    let mut bytes = vec![0, 0, 8, 1];
    bytes.extend_from_slice(&count.to_be_bytes());
    bytes.extend(std::iter::repeat_n(3u8, count as usize));
    bytes
}

#[test]
fn missing_data_folder_names_the_expected_files() {
    let error = fails(&["train", "/nonexistent/mnist"]);
    assert!(
        error.contains("/nonexistent/mnist")
            && error.contains("train-images-idx3-ubyte")
            && error.contains("gan-gpu download mnist /nonexistent/mnist"),
        "{error}"
    );
}

#[test]
fn folder_without_mnist_files_says_where_to_get_them() {
    let dir = scratch("empty");
    let error = fails(&["train", dir.to_str().unwrap()]);
    assert!(
        error.contains("train-images-idx3-ubyte")
            && error.contains("yann.lecun.com")
            && error.contains("gan-gpu download mnist"),
        "{error}"
    );
}

#[test]
fn corrupt_idx_magic_is_named() {
    let dir = scratch("corrupt");
    let mut images = idx_images(4, 28, 28);
    images[3] = 9;
    std::fs::write(dir.join("train-images-idx3-ubyte"), images).unwrap();
    std::fs::write(dir.join("train-labels-idx1-ubyte"), idx_labels(4)).unwrap();
    let error = fails(&["train", dir.to_str().unwrap()]);
    assert!(
        error.contains("train-images-idx3-ubyte") && error.contains("magic"),
        "{error}"
    );
}

#[test]
fn truncated_idx_is_named() {
    let dir = scratch("truncated");
    let images = idx_images(4, 28, 28);
    std::fs::write(
        dir.join("train-images-idx3-ubyte"),
        &images[..images.len() - 100],
    )
    .unwrap();
    std::fs::write(dir.join("train-labels-idx1-ubyte"), idx_labels(4)).unwrap();
    let error = fails(&["train", dir.to_str().unwrap()]);
    assert!(
        error.contains("train-images-idx3-ubyte") && error.contains("truncated"),
        "{error}"
    );
}

#[test]
fn batch_size_zero_is_refused() {
    let error = fails(&["train", "--batch-size", "0"]);
    assert!(
        error.contains("--batch-size") && error.contains("at least 1"),
        "{error}"
    );
}

#[test]
fn nan_learning_rate_is_refused() {
    let error = fails(&["train", "--lr-g", "NaN"]);
    assert!(error.contains("--lr-g") && error.contains("NaN"), "{error}");
    let error = fails(&["train", "--lr-d=-1"]);
    assert!(error.contains("--lr-d"), "{error}");
}

#[test]
fn checkpoint_of_another_architecture_is_refused() {
    let dir = scratch("arch");
    let run = tiny_run(&dir);
    // A generator file whose tensors do not match the architecture its config describes.
    let file = run.join("generator.safetensors");
    let (mut tensors, metadata) = gan_gpu::checkpoint_io::load_tensors(&file).unwrap();
    let first = tensors.iter_mut().find(|t| t.0 == "0.weight").unwrap();
    first.1 = vec![first.1[0] / 2, first.1[1] * 2];
    gan_gpu::checkpoint_io::save_tensors(&file, &tensors, metadata).unwrap();
    let error = fails(&[
        "sample",
        file.to_str().unwrap(),
        "-o",
        dir.join("x.png").to_str().unwrap(),
    ]);
    assert!(
        error.contains("generator.safetensors")
            && error.contains("0.weight")
            && error.contains("another architecture"),
        "{error}"
    );
}

#[test]
fn sample_writes_a_grid_and_npy_from_a_run() {
    let dir = scratch("sample");
    let run = tiny_run(&dir);
    let (run_text, npy, grid) = (
        run.to_str().unwrap(),
        dir.join("x.npy"),
        dir.join("grid.png"),
    );
    succeeds(&["sample", run_text, "-o", grid.to_str().unwrap()]);
    assert!(image::open(&grid).is_ok(), "the scatter PNG decodes");
    succeeds(&[
        "sample",
        run_text,
        "-n",
        "10",
        "--format",
        "npy",
        "-o",
        npy.to_str().unwrap(),
    ]);
    let (values, rows, cols) = gan_gpu::report::npy::read_npy_2d(&npy).unwrap();
    assert_eq!((rows, cols), (10, 2));
    assert!(values.iter().all(|v| v.is_finite()));
    // Feeding the noise that -n drew (seed 0; toys draw U(−1, 1)) back through --noise gives
    // the same samples.
    let noise = dir.join("z.npy");
    let z = gan_gpu::gan::prior::Noise::Uniform.host(10, 2, 0);
    gan_gpu::report::npy::write_npy_f32(&noise, &z, 10, 2).unwrap();
    let again = dir.join("y.npy");
    succeeds(&[
        "sample",
        run_text,
        "--noise",
        noise.to_str().unwrap(),
        "--format",
        "npy",
        "-o",
        again.to_str().unwrap(),
    ]);
    assert_eq!(gan_gpu::report::npy::read_npy_2d(&again).unwrap().0, values);
}

/// `--noise-scale S` is the run's prior: written to config.json, and `sample` draws U(−S, S),
/// so feeding S times the unit draw back through `--noise` gives the same samples.
#[test]
fn noise_scale_is_the_runs_prior_everywhere() {
    let dir = scratch("noise-scale");
    let run = tiny_run_with(&dir, &["--noise-scale", "3"]);
    let run_text = run.to_str().unwrap();
    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("config.json")).unwrap()).unwrap();
    assert_eq!(config["noise_scale"], 3.0);
    let sample = |args: &[&str], name: &str| {
        let out = dir.join(name);
        let mut all = vec![
            "sample",
            run_text,
            "--format",
            "npy",
            "-o",
            out.to_str().unwrap(),
        ];
        all.extend_from_slice(args);
        succeeds(&all);
        gan_gpu::report::npy::read_npy_2d(&out).unwrap().0
    };
    let drawn = sample(&["-n", "10"], "drawn.npy");
    let feed = |scale: f32, name: &str| {
        let path = dir.join(name);
        let z: Vec<f32> = gan_gpu::gan::prior::Noise::Uniform
            .host(10, 2, 0)
            .into_iter()
            .map(|z| z * scale)
            .collect();
        gan_gpu::report::npy::write_npy_f32(&path, &z, 10, 2).unwrap();
        path
    };
    let scaled = feed(3.0, "z3.npy");
    assert_eq!(
        sample(&["--noise", scaled.to_str().unwrap()], "fed3.npy"),
        drawn
    );
    let unit = feed(1.0, "z1.npy");
    assert_ne!(
        sample(&["--noise", unit.to_str().unwrap()], "fed1.npy"),
        drawn
    );

    let error = fails(&["train", "--noise-scale", "0"]);
    assert!(
        error.contains("--noise-scale") && error.contains("positive") && error.contains("found 0"),
        "{error}"
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn unknown_adapter_lists_the_adapters() {
    let error = fails(&["info", "--adapter", "no-such-gpu-anywhere"]);
    assert!(
        error.contains("no-such-gpu-anywhere") && error.contains("adapters are"),
        "{error}"
    );
}

/// An MNIST-format folder of `count` constant 4×4 images.
fn tiny_idx_folder(name: &str, count: u32) -> PathBuf {
    let dir = scratch(name);
    std::fs::write(dir.join("train-images-idx3-ubyte"), idx_images(count, 4, 4)).unwrap();
    std::fs::write(dir.join("train-labels-idx1-ubyte"), idx_labels(count)).unwrap();
    dir
}

#[test]
fn unknown_or_misplaced_preset_is_refused() {
    let error = fails(&["train", "--preset", "dcgan128"]);
    assert!(
        error.contains("--preset dcgan128")
            && error.contains("dcgan64")
            && error.contains("wgan-gp-conv")
            && error.contains("goodfellow2014")
            && error.contains("pytorch-gan")
            && error.contains("wgan-gp"),
        "{error}"
    );
    let error = fails(&["train", "ring8", "--preset", "goodfellow2014"]);
    assert!(
        error.contains("--preset goodfellow2014") && error.contains("image data"),
        "{error}"
    );
}

#[test]
fn bad_eval_sizes_are_refused() {
    let dir = tiny_idx_folder("eval-sizes", 5);
    let data = dir.to_str().unwrap();
    let error = fails(&["train", data, "--eval-every", "5", "--eval-samples", "0"]);
    assert!(
        error.contains("--eval-samples: must be at least 1"),
        "{error}"
    );
    let error = fails(&[
        "train",
        data,
        "--eval-every",
        "5",
        "--eval-parzen-test",
        "0",
        "--eval-no-classifier",
    ]);
    assert!(error.contains("leaves nothing to evaluate"), "{error}");
}

#[test]
fn bad_holdout_is_refused() {
    let dir = tiny_idx_folder("holdout", 5);
    let error = fails(&["train", dir.to_str().unwrap(), "--holdout", "5"]);
    assert!(
        error.contains("--holdout 5") && error.contains("(5 in"),
        "{error}"
    );
    let error = fails(&["train", "ring8", "--holdout", "3"]);
    assert!(
        error.contains("--holdout 3") && error.contains("image data"),
        "{error}"
    );
}

#[test]
fn preset_values_yield_to_explicit_flags_and_help_explains_presets() {
    let help = succeeds(&["train", "--help"]);
    for text in [
        "--preset",
        "goodfellow2014",
        "pytorch-gan",
        "wgan-gp",
        "override",
    ] {
        assert!(help.contains(text), "train --help lacks {text}:\n{help}");
    }

    // goodfellow2014 (G 100-1200-1200-16 on 4×4 images) with its batch and hold-out overridden.
    let dir = tiny_idx_folder("preset", 12);
    let run = dir.join("run");
    succeeds(&[
        "train",
        dir.to_str().unwrap(),
        "--preset",
        "goodfellow2014",
        "--batch-size",
        "4",
        "--holdout",
        "2",
        "--steps",
        "2",
        "--quiet",
        "--out",
        run.to_str().unwrap(),
    ]);
    let json = |file: &str| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(run.join(file)).unwrap()).unwrap()
    };
    let config = json("config.json");
    assert_eq!(config["batch_size"], 4, "the flag wins");
    assert_eq!(config["holdout"], 2, "the flag wins");
    assert_eq!(config["k"], 1, "the preset's");
    assert_eq!(config["pixel_range"], "zero_to_one");
    assert_eq!(config["generator"]["layers"][1]["outputs"], 1200);
    assert_eq!(config["generator"]["layers"][2]["outputs"], 16);
    let d0 = &config["discriminator"]["layers"][0];
    assert_eq!(
        (d0["outputs"].clone(), d0["pieces"].clone()),
        (240.into(), 5.into())
    );
    assert_eq!(d0["input_keep"], 0.8);
    let d_optimizer = &config["discriminator_optimizer"];
    assert_eq!(d_optimizer["kind"], "sgd");
    assert_eq!(d_optimizer["schedule"]["lr_decay"], 1.000004);
    // 250 epochs of ⌈10 training images / batch 4⌉ = 3 updates.
    assert_eq!(d_optimizer["schedule"]["momentum_ramp_updates"], 750);
    let holdout = json("holdout.json");
    assert_eq!(
        (holdout["first_index"].clone(), holdout["count"].clone()),
        (10.into(), 2.into())
    );

    // Samples of a sigmoid generator are in [0, 1], the range its data was scaled to.
    let npy = dir.join("x.npy");
    succeeds(&[
        "sample",
        run.to_str().unwrap(),
        "-n",
        "3",
        "--format",
        "npy",
        "-o",
        npy.to_str().unwrap(),
    ]);
    let (values, rows, cols) = gan_gpu::report::npy::read_npy_2d(&npy).unwrap();
    assert_eq!((rows, cols), (3, 16));
    assert!(values.iter().all(|v| (0.0..=1.0).contains(v)));
}

#[test]
fn wasserstein_flags_with_the_wrong_loss_are_refused() {
    for (args, flag, loss) in [
        (&["--penalty", "one-sided"][..], "--penalty", "wgan-gp"),
        (&["--lambda", "5"][..], "--lambda", "wgan-gp"),
        (
            &["--loss", "wgan-gp", "--clip", "0.1"][..],
            "--clip",
            "wgan",
        ),
    ] {
        let mut all = vec!["train"];
        all.extend_from_slice(args);
        let error = fails(&all);
        assert!(
            error.contains(flag) && error.contains(&format!("--loss {loss}")),
            "{error}"
        );
    }
}

#[test]
fn bad_r1_flags_are_refused() {
    let error = fails(&["train", "--loss", "wgan-gp", "--r1-gamma", "1"]);
    assert!(
        error.contains("--r1-gamma") && error.contains("nsgan") && error.contains("--lambda"),
        "{error}"
    );
    let error = fails(&["train", "--r1-gamma=-1"]);
    assert!(
        error.contains("--r1-gamma") && error.contains("≥ 0") && error.contains("-1"),
        "{error}"
    );
    // Lazy R1 needs an R1 to space out, and a spacing of at least one step.
    let error = fails(&["train", "grid25", "--loss", "wgan-gp", "--r1-every", "4"]);
    assert!(
        error.contains("--r1-every 4") && error.contains("--r1-gamma") && error.contains("wgan-gp"),
        "{error}"
    );
    let error = fails(&["train", "grid25", "--r1-gamma", "0", "--r1-every", "4"]);
    assert!(
        error.contains("--r1-every 4") && error.contains("γ off"),
        "{error}"
    );
    let error = fails(&["train", "grid25", "--r1-every", "0"]);
    assert!(
        error.contains("--r1-every") && error.contains("at least 1") && error.contains("found 0"),
        "{error}"
    );
    // The goodfellow2014 D is maxout with dropout, which the penalty's double backprop does
    // not cover: refused by name before anything is written.
    let dir = scratch("r1-maxout");
    let images = dir.join("images");
    std::fs::create_dir_all(&images).unwrap();
    fake_mnist(&images, 4, 1);
    let out = dir.join("run");
    let error = fails(&[
        "train",
        images.to_str().unwrap(),
        "--preset",
        "goodfellow2014",
        "--holdout",
        "0",
        "--r1-gamma",
        "1",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(
        error.contains("--r1-gamma") && error.contains("discriminator layer 0"),
        "{error}"
    );
    assert!(!out.exists(), "nothing is written for a refused run");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn bad_lambda_and_clip_values_are_refused() {
    let error = fails(&["train", "--loss", "wgan-gp", "--lambda=-1"]);
    assert!(
        error.contains("--lambda") && error.contains("≥ 0"),
        "{error}"
    );
    let error = fails(&["train", "--loss", "wgan", "--clip", "0"]);
    assert!(
        error.contains("--clip") && error.contains("positive"),
        "{error}"
    );
    let error = fails(&["train", "--loss", "wgan", "--beta2", "0.9"]);
    assert!(
        error.contains("--beta2") && error.contains("Rmsprop"),
        "{error}"
    );
}

#[test]
fn wgan_gp_takes_the_papers_defaults_and_explicit_flags_win() {
    let dir = scratch("wgan-gp-defaults");
    // Image data (the paper's defaults apply there; toys have their own, tested below).
    let images = dir.join("images");
    std::fs::create_dir_all(&images).unwrap();
    fake_mnist(&images, 16, 1);
    let config = |extra: &[&str]| -> String {
        let run = dir.join(format!("run{}", extra.len()));
        let mut args = vec![
            "train",
            images.to_str().unwrap(),
            "--loss",
            "wgan-gp",
            "--steps",
            "1",
            "--batch-size",
            "8",
            "--quiet",
            "--out",
            run.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        succeeds(&args);
        std::fs::read_to_string(run.join("config.json")).unwrap()
    };
    let defaults: serde_json::Value = serde_json::from_str(&config(&[])).unwrap();
    assert_eq!(defaults["k"], 5);
    assert_eq!(defaults["wasserstein"]["penalty"], "two-sided");
    assert_eq!(defaults["wasserstein"]["lambda"], 10.0);
    let d = &defaults["discriminator_optimizer"];
    assert_eq!(d["kind"], "adam");
    assert!((d["lr"].as_f64().unwrap() - 1e-4).abs() < 1e-9, "{d}");
    assert!((d["momentum"].as_f64().unwrap() - 0.5).abs() < 1e-9, "{d}");
    assert!((d["beta2"].as_f64().unwrap() - 0.9).abs() < 1e-9, "{d}");
    let explicit: serde_json::Value = serde_json::from_str(&config(&[
        "--k",
        "2",
        "--lr-d",
        "0.001",
        "--beta2",
        "0.99",
        "--penalty",
        "lipschitz-fd-one-sided",
        "--lambda",
        "1",
    ]))
    .unwrap();
    assert_eq!(explicit["k"], 2);
    assert_eq!(explicit["wasserstein"]["penalty"], "lipschitz-fd-one-sided");
    assert_eq!(explicit["wasserstein"]["lambda"], 1.0);
    let d = &explicit["discriminator_optimizer"];
    assert!((d["lr"].as_f64().unwrap() - 1e-3).abs() < 1e-9, "{d}");
    assert!((d["beta2"].as_f64().unwrap() - 0.99).abs() < 1e-9, "{d}");
    std::fs::remove_dir_all(&dir).ok();
}

/// The toy sets' defaults (gan::toy_defaults) land in config.json, and flags still win.
#[test]
fn toy_sets_take_their_own_defaults_and_flags_win() {
    let dir = scratch("toy-defaults");
    let config = |name: &str, extra: &[&str]| -> serde_json::Value {
        let run = dir.join(name);
        let mut args = vec![
            "train",
            "--steps",
            "1",
            "--quiet",
            "--out",
            run.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        succeeds(&args);
        serde_json::from_str(&std::fs::read_to_string(run.join("config.json")).unwrap()).unwrap()
    };
    let hidden = |config: &serde_json::Value| -> Vec<u64> {
        let layers = config["generator"]["layers"].as_array().unwrap();
        layers[..layers.len() - 1]
            .iter()
            .map(|layer| layer["outputs"].as_u64().unwrap())
            .collect()
    };
    let close = |value: &serde_json::Value, expected: f64| {
        assert!(
            (value.as_f64().unwrap() - expected).abs() < 1e-9 * expected.abs().max(1.0),
            "{value} vs {expected}"
        )
    };

    let ring8 = config("ring8", &["ring8"]);
    assert_eq!(hidden(&ring8), [96, 96, 96, 96]);
    assert_eq!(ring8["noise"], "uniform");
    close(&ring8["ema"], 0.999);
    let g = &ring8["generator_optimizer"];
    close(&g["lr"], 1e-3);
    close(&g["schedule"]["lr_decay"], 1.00023);
    close(&g["schedule"]["min_lr"], 1e-4);
    close(&ring8["r1"], 1.0);

    let wgan_gp = config("grid25-wgan-gp", &["grid25", "--loss", "wgan-gp"]);
    close(&wgan_gp["wasserstein"]["lambda"], 1.0);
    assert!(wgan_gp["r1"].is_null(), "R1 is for the probability losses");
    assert_eq!(wgan_gp["k"], 1);
    assert_eq!(wgan_gp["steps"], 1, "--steps 1 wins over the default 7,500");
    // ReLU nets on every 2-D toy run but ring8's with nsgan (LeakyReLU 0.2, as before R1).
    let activation =
        |config: &serde_json::Value, net: &str| config[net]["layers"][0]["activation"].clone();
    for net in ["generator", "discriminator"] {
        assert_eq!(activation(&wgan_gp, net), "relu", "{net}");
        assert_eq!(
            activation(&ring8, net),
            serde_json::json!({"leaky_relu": 0.2}),
            "{net}"
        );
    }
    let grid25 = config("grid25", &["grid25"]);
    assert_eq!(activation(&grid25, "generator"), "relu");
    close(&grid25["r1"], 0.03);
    close(&grid25["discriminator_optimizer"]["lr"], 2e-3);
    close(&grid25["generator_optimizer"]["lr"], 1e-3);
    // grid25 with nsgan trains at batch 96, its rate decaying slowly (never to the floor).
    assert_eq!(grid25["batch_size"], 96);
    assert_eq!(ring8["batch_size"], 64);
    close(
        &grid25["generator_optimizer"]["schedule"]["lr_decay"],
        1.00008,
    );
    let batch_flag = config("grid25-batch", &["grid25", "--batch-size", "40"]);
    assert_eq!(
        batch_flag["batch_size"], 40,
        "--batch-size wins over the toy's 96"
    );
    let k3 = config(
        "ring8-wgan-gp-k3",
        &["ring8", "--loss", "wgan-gp", "--k", "3"],
    );
    assert_eq!(k3["k"], 3, "--k wins over the toy's k 1");
    let d = &wgan_gp["discriminator_optimizer"];
    close(&d["momentum"], 0.0);
    close(&d["beta2"], 0.9);
    close(&d["schedule"]["lr_decay"], 1.0002);
    assert_eq!(wgan_gp["batch_size"], 96);
    close(&d["lr"], 2e-3);
    close(&wgan_gp["generator_optimizer"]["lr"], 1e-3);

    // A lower rate by flag pulls the default floor down with it; --ema 0 turns the average off.
    let flags = config(
        "ring8-flags",
        &[
            "ring8",
            "--lr-g",
            "5e-5",
            "--ema",
            "0",
            "--noise",
            "normal",
            "--g-hidden",
            "32,32",
            "--r1-gamma",
            "0",
        ],
    );
    assert!(
        flags["r1"].is_null(),
        "--r1-gamma 0 turns R1 off: {}",
        flags["r1"]
    );
    close(&flags["generator_optimizer"]["lr"], 5e-5);
    close(&flags["generator_optimizer"]["schedule"]["min_lr"], 5e-5);
    close(
        &flags["discriminator_optimizer"]["schedule"]["min_lr"],
        1e-4,
    );
    assert!(flags["ema"].is_null(), "{}", flags["ema"]);
    assert_ne!(
        flags["noise"], "uniform",
        "normal noise (the default, not written)"
    );
    assert_eq!(hidden(&flags), [32, 32]);

    // The 1-D sets keep Figure 1's setup.
    let line = config("gauss1d", &["gauss1d"]);
    assert_eq!(hidden(&line), [128, 128, 128]);
    assert!(line["ema"].is_null());
    assert!(line["r1"].is_null());
    assert!(line["generator_optimizer"]["schedule"].is_null());
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn bench_conv_measures_the_four_dcgan_layers() {
    let out = succeeds(&["bench", "conv", "--batch-size", "2", "--repeats", "1"]);
    assert!(out.contains("GFLOP/s"), "{out}");
    for layer in [
        "G ConvT 128→64 7→14",
        "G ConvT 64→1 14→28",
        "D Conv 1→64 28→14",
        "D Conv 64→128 14→7",
    ] {
        assert_eq!(
            out.lines().filter(|l| l.starts_with(layer)).count(),
            3,
            "{layer}: forward, input grad and weight grad rows expected in\n{out}"
        );
    }
    let error = fails(&["bench", "conv", "--repeats", "0"]);
    assert!(error.contains("--repeats"), "{error}");
}

#[test]
fn bench_workgroup_flags_are_checked_against_the_adapter() {
    let error = fails(&["bench", "matmul", "--workgroup-x", "0"]);
    assert!(
        error.contains("--workgroup-x") && error.contains("at least 1"),
        "{error}"
    );
    let error = fails(&[
        "bench",
        "matmul",
        "--workgroup-x",
        "1024",
        "--workgroup-y",
        "1024",
    ]);
    assert!(
        error.contains("1048576 invocations") && error.contains("at most"),
        "{error}"
    );
}

#[test]
fn bench_train_prints_memory_and_first_iteration() {
    let out = succeeds(&[
        "bench",
        "train",
        "--model",
        "mlp",
        "--batch",
        "8",
        "--seconds",
        "0.1",
        "--no-pytorch",
    ]);
    let memory = out
        .lines()
        .find(|l| l.starts_with("batch 8: GPU memory: "))
        .unwrap_or_else(|| panic!("no memory line in\n{out}"));
    for part in [
        "parameters",
        "gradients",
        "optimizer state",
        "data set",
        "activations and scratch",
    ] {
        assert!(memory.contains(part), "{part} missing from {memory}");
    }
    assert!(
        out.lines()
            .any(|l| l.starts_with("batch 8: first iteration: ")
                && l.contains("pipelines compiled in parallel")
                && l.contains("gan-gpu's cache empty")),
        "no first-iteration line in\n{out}"
    );
}

#[test]
fn dry_run_reports_memory_and_first_iteration_and_writes_nothing() {
    let dir = scratch("dry-run");
    let run = dir.join("run");
    let out = succeeds(&[
        "train",
        "--dry-run",
        "--ema",
        "0.99",
        "--out",
        run.to_str().unwrap(),
    ]);
    let memory = out
        .lines()
        .find(|l| l.starts_with("GPU memory: "))
        .unwrap_or_else(|| panic!("no memory line in\n{out}"));
    assert!(memory.contains("EMA generator"), "{memory}");
    assert!(
        out.lines().any(|l| l.starts_with("first iteration: ")),
        "{out}"
    );
    assert!(!run.exists(), "--dry-run wrote {}", run.display());
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn dry_run_profile_times_every_launch_of_an_iteration() {
    // An awkward small run: wgan-gp on ring8 at batch 24 (the penalty's chain adds launches).
    let out = succeeds(&[
        "train",
        "ring8",
        "--loss",
        "wgan-gp",
        "--batch-size",
        "24",
        "--dry-run",
        "--profile",
    ]);
    let rows: Vec<Vec<&str>> = out
        .lines()
        .skip_while(|l| !l.starts_with("step  µs/launch"))
        .skip(1)
        .take_while(|l| !l.starts_with("sum of launches"))
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert!(rows.len() > 20, "too few launches in\n{out}");
    let share: f64 = rows.iter().map(|r| r[2].parse::<f64>().unwrap()).sum();
    // Each share is printed to 0.1, so rounding moves the sum by at most 0.05 a row.
    let rounding = 0.05 * rows.len() as f64 + 1e-9;
    assert!(
        (share - 100.0).abs() <= rounding,
        "shares sum to {share} in\n{out}"
    );
    for step in ["D", "G"] {
        assert!(
            rows.iter().any(|r| r[0] == step && r[4].contains("matmul")),
            "{out}"
        );
    }
    assert!(
        rows.iter().any(|r| r[4].contains("gradient_penalty")),
        "{out}"
    );
    assert!(
        out.lines().any(|l| l.starts_with("sum of launches: ")
            && l.contains("a whole iteration timed the same way")),
        "{out}"
    );
    let error = fails(&["train", "--profile"]);
    assert!(error.contains("--dry-run"), "{error}");
}

#[test]
fn train_reports_its_memory_and_first_iteration() {
    let dir = scratch("first-iteration");
    let (ok, _, stderr) = support::gan_gpu(&[
        "train",
        "--steps",
        "2",
        "--log-every",
        "1",
        "--quiet",
        "--out",
        dir.join("run").to_str().unwrap(),
    ]);
    assert!(ok, "{stderr}");
    for start in ["GPU memory: ", "first iteration: "] {
        assert_eq!(
            stderr.lines().filter(|l| l.starts_with(start)).count(),
            1,
            "one line starting {start:?} expected in\n{stderr}"
        );
    }
    std::fs::remove_dir_all(&dir).ok();
}
