//! The tools against mode collapse through the real binary: PacGAN's `--pack`, the EMA
//! generator (`--ema`, `--raw`), and their bad values, each refused with the flag named.

mod support;

use std::path::{Path, PathBuf};

use support::{fails, fake_mnist, succeeds};

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("gan-gpu-quality-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn npy(path: &Path) -> Vec<f32> {
    gan_gpu::report::npy::read_npy_2d(path).unwrap().0
}

#[test]
fn bad_pack_and_ema_values_are_refused() {
    let error = fails(&["train", "--pack", "0"]);
    assert!(
        error.contains("--pack") && error.contains("at least 1"),
        "{error}"
    );
    let error = fails(&["train", "--pack", "3", "--batch-size", "64"]);
    assert!(
        error.contains("--pack 3") && error.contains("multiple of 3") && error.contains("64"),
        "{error}"
    );
    for beta in ["1", "-0.5", "NaN"] {
        let error = fails(&["train", &format!("--ema={beta}")]);
        assert!(
            error.contains("--ema") && error.contains("[0, 1)"),
            "{error}"
        );
    }
    // A packed conditional D under a gradient penalty (wgan-gp's, or R1, naming the way out):
    // refused by name, and nothing written.
    let dir = scratch("pack-conditional");
    fake_mnist(&dir, 40, 10);
    let run = dir.join("run");
    for (penalty, expected) in [
        (["--loss", "wgan-gp"], &["--pack 2", "conditional"][..]),
        (["--r1-gamma", "1"], &["--pack 2", "R1", "--r1-gamma 0"][..]),
    ] {
        let mut args = vec![
            "train",
            dir.to_str().unwrap(),
            "--conditional",
            "--pack",
            "2",
        ];
        args.extend(penalty);
        args.extend(["--out", run.to_str().unwrap()]);
        let error = fails(&args);
        assert!(expected.iter().all(|e| error.contains(e)), "{error}");
        assert!(!run.exists(), "a refused run writes nothing");
    }
}

/// A packed run with an EMA generator: its config records both, the checkpoint holds the EMA
/// beside G, `sample` draws the EMA by default and the trained G with --raw, and
/// generator.safetensors is the EMA (so --raw on it is refused).
#[test]
fn ema_runs_sample_the_average_and_raw_samples_the_trained_generator() {
    let dir = scratch("ema");
    let run = dir.join("run");
    let run_text = run.to_str().unwrap();
    succeeds(&[
        "train", "ring8", "--steps", "30", "--pack", "2", "--ema", "0.9", "--quiet", "--out",
        run_text,
    ]);
    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("config.json")).unwrap()).unwrap();
    assert_eq!(config["pack"], 2);
    assert!((config["ema"].as_f64().unwrap() - 0.9).abs() < 1e-6);
    let checkpoint = run.join("checkpoints/step_000000030.safetensors");
    let (tensors, _) = gan_gpu::checkpoint_io::load_tensors(&checkpoint).unwrap();
    let names: Vec<&str> = tensors.iter().map(|t| t.0.as_str()).collect();
    assert!(
        names.iter().any(|n| n.starts_with("generator_ema.")),
        "{names:?}"
    );
    assert!(
        names.iter().any(|n| n.starts_with("generator.")),
        "{names:?}"
    );

    let sample = |source: &Path, raw: bool, name: &str| {
        let out = dir.join(name);
        let mut args = vec![
            "sample",
            source.to_str().unwrap(),
            "-n",
            "16",
            "--format",
            "npy",
        ];
        if raw {
            args.push("--raw");
        }
        args.extend(["-o", out.to_str().unwrap()]);
        succeeds(&args);
        npy(&out)
    };
    let ema = sample(&run, false, "ema.npy");
    let raw = sample(&run, true, "raw.npy");
    assert_ne!(
        ema, raw,
        "the EMA generator and the trained G draw the same samples"
    );
    let file = run.join("generator.safetensors");
    assert_eq!(
        sample(&file, false, "file.npy"),
        ema,
        "generator.safetensors is the EMA"
    );
    let error = fails(&["sample", file.to_str().unwrap(), "--raw"]);
    assert!(
        error.contains("--raw") && error.contains("generator.safetensors"),
        "{error}"
    );
}
