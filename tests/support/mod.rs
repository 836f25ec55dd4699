//! Helpers every integration-test binary shares: one GPU context per binary, the gan-gpu
//! binary run as a user runs it, and the comparison of GPU gradients with the f64 reference.

#![allow(dead_code)] // each test binary uses its own subset

use std::path::Path;
use std::process::Command;
use std::sync::OnceLock;

use gan_gpu::gpu::{AdapterChoice, GpuContext};

/// One context for all tests in the binary (opening a device is slow on llvmpipe).
pub fn gpu() -> &'static GpuContext {
    static CONTEXT: OnceLock<GpuContext> = OnceLock::new();
    CONTEXT.get_or_init(|| {
        GpuContext::new(&AdapterChoice::from_flag_or_env(None))
            .unwrap_or_else(|e| panic!("these tests need a GPU adapter (lavapipe will do): {e}"))
    })
}

/// A fresh SplitMix64 per run, its seed printed; GAN_GPU_TEST_SEED replays one.
pub fn fresh_rng(test: &str) -> gan_gpu::data::SplitMix64 {
    let seed = std::env::var("GAN_GPU_TEST_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64)
        });
    eprintln!("{test}: GAN_GPU_TEST_SEED={seed}");
    gan_gpu::data::SplitMix64::new(seed)
}

pub fn to_f64(values: &[f32]) -> Vec<f64> {
    values.iter().map(|&v| v as f64).collect()
}

/// Each element within `tolerance` times the tensor's largest reference value: f32 sums over a
/// batch and a layer cancel, so tiny entries carry the absolute error of the large ones.
pub fn assert_close_to_scale(what: &str, gpu: &[f32], reference: &[f64], tolerance: f64) {
    assert_close_within(
        what,
        gpu,
        reference,
        tolerance,
        largest_magnitude(reference),
    );
}

/// max |v| (0 for none).
pub fn largest_magnitude(values: &[f64]) -> f64 {
    values.iter().fold(0.0f64, |m, v| m.max(v.abs()))
}

/// Every GPU value within tolerance · scale of the reference, for values whose rounding is
/// relative to something larger than themselves (a sum that cancelled).
pub fn assert_close_within(what: &str, gpu: &[f32], reference: &[f64], tolerance: f64, scale: f64) {
    assert_eq!(gpu.len(), reference.len(), "{what}: length");
    let scale = scale.max(1e-6);
    for (i, (&g, &r)) in gpu.iter().zip(reference).enumerate() {
        assert!(
            ((g as f64) - r).abs() <= tolerance * scale,
            "{what}[{i}]: gpu {g} vs reference {r} (scale {scale})"
        );
    }
}

/// Run the gan-gpu binary: (success, stdout, stderr). It must never panic. The matmul tuning
/// cache is pointed at an empty folder, so a `bench --tune` on the developer's machine cannot
/// change what the tests run.
pub fn gan_gpu(args: &[&str]) -> (bool, String, String) {
    let no_cache = std::env::temp_dir().join("gan-gpu-tests-no-tuning-cache");
    gan_gpu_with_cache(args, &no_cache)
}

/// `gan_gpu` with the matmul tuning cache in `cache_dir`.
pub fn gan_gpu_with_cache(args: &[&str], cache_dir: &Path) -> (bool, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_gan-gpu"))
        .args(args)
        .env("GAN_GPU_QUIET", "1")
        .env("GAN_GPU_CACHE_DIR", cache_dir)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(
        !stderr.contains("panicked"),
        "gan-gpu {args:?} panicked:\n{stderr}"
    );
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr,
    )
}

/// Run gan-gpu, expect success, and return stdout.
pub fn succeeds(args: &[&str]) -> String {
    let (ok, stdout, stderr) = gan_gpu(args);
    assert!(ok, "gan-gpu {args:?} failed:\n{stderr}");
    stdout
}

/// Run gan-gpu, expect failure, and return stderr.
pub fn fails(args: &[&str]) -> String {
    let (ok, _, stderr) = gan_gpu(args);
    assert!(!ok, "gan-gpu {args:?} should fail; stderr:\n{stderr}");
    stderr
}

/// A small MNIST-format folder: digit-like random images (a class-dependent bright block on
/// noise) with labels 0..9, `train` training and `test` test images.
pub fn fake_mnist(dir: &Path, train: u32, test: u32) {
    let mut rng = gan_gpu::data::SplitMix64::new(5);
    let mut write = |prefix: &str, count: u32| {
        let mut images = vec![0, 0, 8, 3];
        for d in [count, 28, 28] {
            images.extend_from_slice(&d.to_be_bytes());
        }
        let mut labels = vec![0, 0, 8, 1];
        labels.extend_from_slice(&count.to_be_bytes());
        for i in 0..count {
            let class = (i % 10) as usize;
            for p in 0..784 {
                let (row, col) = (p / 28, p % 28);
                let block = row / 7 == class % 4 && col / 7 == class / 4;
                let noise = rng.below(60) as u8;
                images.push(if block { 200 + noise / 2 } else { noise });
            }
            labels.push(class as u8);
        }
        std::fs::write(dir.join(format!("{prefix}-images-idx3-ubyte")), images).unwrap();
        std::fs::write(dir.join(format!("{prefix}-labels-idx1-ubyte")), labels).unwrap();
    };
    write("train", train);
    write("t10k", test);
}
