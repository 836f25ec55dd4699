//! Shared test helpers: one GPU context per test binary, random inputs, poisoned outputs, and
//! relative-error comparison against the reference.

#![allow(dead_code)]

use gan_gpu::gpu::{Recorder, Tensor};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

pub use crate::support::{gpu, to_f64};

/// A fresh generator: a new seed every run (printed so a failure can be replayed with
/// GAN_GPU_TEST_SEED), so the kernels meet new inputs each time.
pub fn rng(test: &str) -> StdRng {
    let seed = std::env::var("GAN_GPU_TEST_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| rand::rng().random::<u64>());
    eprintln!("{test}: GAN_GPU_TEST_SEED={seed}");
    StdRng::seed_from_u64(seed)
}

pub fn uniform(rng: &mut StdRng, len: usize, low: f32, high: f32) -> Vec<f32> {
    (0..len).map(|_| rng.random_range(low..high)).collect()
}

pub fn upload(values: &[f32]) -> Tensor {
    gpu().upload("test input", &[values.len()], values).unwrap()
}

/// An output tensor filled with NaN, so any element the kernel fails to write shows up.
pub fn poisoned(len: usize) -> Tensor {
    upload(&vec![f32::NAN; len])
}

/// Record and run the dispatches, wait, and read `output` back.
pub fn run_and_read(dispatches: &[&gan_gpu::gpu::Dispatch], output: &Tensor) -> Vec<f32> {
    let ctx = gpu();
    let mut recorder = Recorder::new(ctx);
    recorder.record_all(dispatches.iter().copied());
    recorder.submit().unwrap();
    ctx.read_f32(output).unwrap()
}

/// |gpu − reference| ≤ rel·max(|reference|, floor) for every element, with a report of the worst.
/// `floor` is the scale below which errors are judged absolutely (sums that cancel to ~0).
pub fn assert_close(what: &str, gpu: &[f32], reference: &[f64], rel: f64, floor: f64) {
    assert_eq!(gpu.len(), reference.len(), "{what}: length");
    let mut worst = (0usize, 0.0f64);
    for (i, (&g, &r)) in gpu.iter().zip(reference).enumerate() {
        assert!(
            g.is_finite(),
            "{what}[{i}] = {g} (reference {r}): not finite or never written"
        );
        let error = (g as f64 - r).abs() / r.abs().max(floor);
        if error > worst.1 {
            worst = (i, error);
        }
    }
    let (i, error) = worst;
    assert!(
        error <= rel,
        "{what}: relative error {error:.3e} > {rel:.0e} at [{i}]: gpu {} vs reference {}",
        gpu[i],
        reference[i]
    );
}

/// For sums of products: |gpu − reference| ≤ rel·scale elementwise, where scale is the same sum
/// over absolute values (Σ|a||b|), the quantity f32 rounding error is proportional to.
pub fn assert_close_scaled(what: &str, gpu: &[f32], reference: &[f64], scale: &[f64], rel: f64) {
    assert_eq!(gpu.len(), reference.len(), "{what}: length");
    for (i, ((&g, &r), &s)) in gpu.iter().zip(reference).zip(scale).enumerate() {
        assert!(
            g.is_finite(),
            "{what}[{i}] = {g} (reference {r}): not finite or never written"
        );
        let error = (g as f64 - r).abs() / s.max(f64::MIN_POSITIVE);
        assert!(
            error <= rel,
            "{what}: error {error:.3e} of scale > {rel:.0e} at [{i}]: gpu {g} vs reference {r} (scale {s})"
        );
    }
}

/// |v| in f64: the reference computed on absolute values bounds the rounding error of a sum.
pub fn abs(values: &[f32]) -> Vec<f64> {
    values.iter().map(|x| x.abs() as f64).collect()
}
