//! `gan-gpu export --onnx` through the real binary: the ONNX model of the reference MLP
//! generator and of dcgan, run by tract (a Rust ONNX runtime), reproduces
//! `gan-gpu sample --noise z.npy --format npy` on the same noise to 1e-4, at two batch sizes
//! (the batch is dynamic); a file that is not a generator is refused by name.

mod support;

use std::path::{Path, PathBuf};

use gan_gpu::report::npy::{read_npy_2d, write_npy_f32};
use support::{fails, succeeds};
use tract_onnx::prelude::*;

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("gan-gpu-export-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Pseudo-random values from a fixed LCG.
fn lcg(n: usize, seed: u32) -> impl Iterator<Item = u32> {
    let mut state = seed;
    (0..n).map(move |_| {
        state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        state
    })
}

/// An MNIST-format folder of `count` random 28×28 images.
fn idx_folder(dir: &Path, count: u32) -> PathBuf {
    let data = dir.join("data");
    std::fs::create_dir_all(&data).unwrap();
    let mut images = vec![0, 0, 8, 3];
    for d in [count, 28, 28] {
        images.extend_from_slice(&d.to_be_bytes());
    }
    images.extend(lcg((count * 784) as usize, count).map(|v| (v >> 24) as u8));
    let mut labels = vec![0, 0, 8, 1];
    labels.extend_from_slice(&count.to_be_bytes());
    labels.extend(std::iter::repeat_n(3u8, count as usize));
    std::fs::write(data.join("train-images-idx3-ubyte"), images).unwrap();
    std::fs::write(data.join("train-labels-idx1-ubyte"), labels).unwrap();
    data
}

/// Standard-normal-ish noise [n, 100] (a sum of uniforms: any values will do).
fn noise(n: usize) -> Vec<f32> {
    let u: Vec<f32> = lcg(n * 100 * 4, 7)
        .map(|v| (v >> 8) as f32 / (1 << 24) as f32)
        .collect();
    u.chunks(4)
        .map(|c| (c.iter().sum::<f32>() - 2.0) * 1.7)
        .collect()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Train `args` for 2 steps, export the generator, and compare tract's outputs with
/// `sample --noise`; returns the ONNX output's shape.
fn export_matches_sample(name: &str, args: &[&str]) -> Vec<usize> {
    let dir = scratch(name);
    let data = idx_folder(&dir, 8);
    let run = dir.join("run");
    let mut train = vec![
        "train",
        s(&data),
        "--steps",
        "2",
        "--batch-size",
        "4",
        "--quiet",
    ];
    train.extend_from_slice(args);
    train.extend(["--out", s(&run)]);
    succeeds(&train);

    let n = 5;
    let z = noise(n);
    let z_path = dir.join("z.npy");
    write_npy_f32(&z_path, &z, n, 100).unwrap();
    let x_path = dir.join("x.npy");
    succeeds(&[
        "sample",
        s(&run),
        "--noise",
        s(&z_path),
        "--format",
        "npy",
        "-o",
        s(&x_path),
    ]);
    let (expected, rows, features) = read_npy_2d(&x_path).unwrap();
    assert_eq!(rows, n);

    let onnx = dir.join("generator.onnx");
    let out = succeeds(&["export", s(&run), "--onnx", s(&onnx)]);
    assert!(
        out.contains("generator.onnx") && out.contains("input z [batch, 100]"),
        "{out}"
    );

    let model = tract_onnx::onnx()
        .model_for_path(&onnx)
        .unwrap()
        .into_optimized()
        .unwrap()
        .into_runnable()
        .unwrap();
    let mut shape = Vec::new();
    for batch in [n, 3] {
        let input: Tensor =
            tract_ndarray::Array2::from_shape_vec((batch, 100), z[..batch * 100].to_vec())
                .unwrap()
                .into();
        let result = model.run(tvec!(input.into())).unwrap();
        let output = result[0].to_plain_array_view::<f32>().unwrap();
        shape = output.shape().to_vec();
        assert_eq!(shape[0], batch);
        assert_eq!(shape[1..].iter().product::<usize>(), features);
        let values: Vec<f32> = output.iter().copied().collect();
        let worst = values
            .iter()
            .zip(&expected)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        eprintln!("{name}: batch {batch}: largest |ONNX − sample| {worst:.2e}");
        assert!(worst <= 1e-4, "{name}: ONNX and sample differ by {worst}");
        // Not a constant output: the comparison means something.
        assert!(values.iter().any(|v| (v - values[0]).abs() > 1e-3));
    }
    std::fs::remove_dir_all(dir).ok();
    shape
}

#[test]
fn reference_mlp_generator_exports_to_onnx() {
    // pytorch-gan: 100 → 256 → 512 → 1024 → 784, LeakyReLU 0.2, tanh; 784 as [1, 28, 28].
    let shape = export_matches_sample("mlp", &[]);
    assert_eq!(shape[1..], [1, 28, 28]);
}

#[test]
fn dcgan_generator_exports_to_onnx() {
    // Linear, BatchNorm1d, ReLU, Unflatten, ConvTranspose2d, BatchNorm2d, ReLU,
    // ConvTranspose2d, Tanh: batch norm with the running statistics of two training steps.
    let shape = export_matches_sample("dcgan", &["--preset", "dcgan", "--width", "4"]);
    assert_eq!(shape[1..], [1, 28, 28]);
}

#[test]
fn export_refuses_what_is_not_a_generator() {
    let dir = scratch("refuse");
    let bogus = dir.join("bogus.safetensors");
    std::fs::write(&bogus, b"not a safetensors file").unwrap();
    let error = fails(&["export", s(&bogus), "--onnx", s(&dir.join("g.onnx"))]);
    assert!(error.contains("bogus.safetensors"), "{error}");
    assert!(!dir.join("g.onnx").exists());
    let error = fails(&["export", s(&bogus)]);
    assert!(error.contains("--onnx"), "{error}");
    std::fs::remove_dir_all(dir).ok();
}
