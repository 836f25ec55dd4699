//! Philox on the GPU against the CPU reference (raw bits bit for bit), the uniform and normal
//! fills, their statistics, and how seed, stream and step counter change the numbers.

use gan_gpu::gpu::{Recorder, Tensor};
use gan_gpu::kernels::random::{fill_bits, fill_normal, fill_uniform, increment_counter};
use gan_gpu::reference::random as reference;
use rand::RngExt;

use crate::common::*;

const SIZES: [usize; 5] = [1, 7, 63, 65, 1200];

fn counter_at(step: u32) -> Tensor {
    gpu().upload("counter", &[1], &[step]).unwrap()
}

fn run(dispatches: &[&gan_gpu::gpu::Dispatch]) {
    let mut recorder = Recorder::new(gpu());
    recorder.record_all(dispatches.iter().copied());
    recorder.submit().unwrap();
}

fn gpu_uniform(n: usize, (low, high): (f32, f32), seed: u64, stream: u32, step: u32) -> Vec<f32> {
    let (out, counter) = (poisoned(n), counter_at(step));
    let dispatch = fill_uniform(gpu(), &out, low, high, seed, stream, &counter).unwrap();
    run_and_read(&[&dispatch], &out)
}

fn gpu_normal(n: usize, (mean, std): (f32, f32), seed: u64, stream: u32, step: u32) -> Vec<f32> {
    let (out, counter) = (poisoned(n), counter_at(step));
    let dispatch = fill_normal(gpu(), &out, mean, std, seed, stream, &counter).unwrap();
    run_and_read(&[&dispatch], &out)
}

#[test]
fn philox_reference_matches_random123_known_answers() {
    // The same vectors as the unit test in src/reference/random.rs, here too so the kernel
    // tests stand on a checked reference even when only this binary runs.
    assert_eq!(
        reference::philox4x32_10([0; 4], [0; 2]),
        [0x6627_e8d5, 0xe169_c58d, 0xbc57_ac4c, 0x9b00_dbd8]
    );
    assert_eq!(
        reference::philox4x32_10([u32::MAX; 4], [u32::MAX; 2]),
        [0x408f_276d, 0x41c8_3b0e, 0xa20b_c7c6, 0x6d54_51fd]
    );
    assert_eq!(
        reference::philox4x32_10(
            [0x243f_6a88, 0x85a3_08d3, 0x1319_8a2e, 0x0370_7344],
            [0xa409_3822, 0x299f_31d0]
        ),
        [0xd16c_fe09, 0x94fd_cceb, 0x5001_e420, 0x2412_6ea1]
    );
}

#[test]
fn gpu_philox_bits_equal_reference_bit_for_bit() {
    let mut rng = rng("philox bits");
    for n in SIZES {
        let (seed, stream, step) = (
            rng.random::<u64>(),
            rng.random::<u32>(),
            rng.random::<u32>(),
        );
        let out = gpu()
            .upload("bits", &[n], &vec![0xDEAD_BEEFu32; n])
            .unwrap();
        let counter = counter_at(step);
        run(&[&fill_bits(gpu(), &out, seed, stream, &counter).unwrap()]);
        let result = gpu().read_u32(&out).unwrap();
        assert_eq!(
            result,
            reference::fill_bits(n, seed, stream, step),
            "n={n} seed={seed} stream={stream} step={step}"
        );
    }
}

#[test]
fn uniform_equals_the_formula_exactly() {
    let mut rng = rng("uniform exact");
    for n in SIZES {
        let (seed, stream, step) = (
            rng.random::<u64>(),
            rng.random::<u32>(),
            rng.random::<u32>(),
        );
        // On (0, 1] the output is bits_to_unit itself: exact whatever the compiler does.
        let unit = gpu_uniform(n, (0.0, 1.0), seed, stream, step);
        let bits = reference::fill_bits(n, seed, stream, step);
        for (i, (&u, &b)) in unit.iter().zip(&bits).enumerate() {
            assert_eq!(
                u.to_bits(),
                reference::bits_to_unit(b).to_bits(),
                "n={n} [{i}]"
            );
        }
        // low + span·u: the shader compiler may contract the multiply-add into one FMA (WGSL
        // allows it and SPIR-V drivers do it), so each element must equal one of the two
        // correctly rounded results exactly.
        let (low, high) = (
            rng.random_range(-5.0f32..0.0),
            rng.random_range(0.5f32..5.0),
        );
        let values = gpu_uniform(n, (low, high), seed, stream, step);
        for (i, (&v, &b)) in values.iter().zip(&bits).enumerate() {
            let u = reference::bits_to_unit(b);
            let separate = low + (high - low) * u;
            let fused = (high - low).mul_add(u, low);
            assert!(
                v.to_bits() == separate.to_bits() || v.to_bits() == fused.to_bits(),
                "n={n} [{i}]: gpu {v} vs {separate} (or fused {fused})"
            );
        }
        let expected = reference::fill_uniform(n, low as f64, high as f64, seed, stream, step);
        assert_close("uniform", &values, &expected, 1e-6, 1.0);
    }
}

#[test]
fn normal_matches_reference() {
    let mut rng = rng("normal");
    for n in SIZES {
        let (seed, stream, step) = (
            rng.random::<u64>(),
            rng.random::<u32>(),
            rng.random::<u32>(),
        );
        let (mean, std) = (
            rng.random_range(-2.0f32..2.0),
            rng.random_range(0.1f32..3.0),
        );
        let values = gpu_normal(n, (mean, std), seed, stream, step);
        let expected = reference::fill_normal(n, mean as f64, std as f64, seed, stream, step);
        // The bits are exact (test above); the GPU's log, cos and sin are f32 approximations whose
        // error is bounded absolutely, not relatively (cos near its zeros, log near 1 where the
        // radius is near 0), and the angle 2π·u is rounded to f32 (≈ 4e-7 absolute). So compare
        // relative to max(|z|·std, std), i.e. 1e-4 of a standard deviation at worst.
        let floor = std as f64;
        let centred: Vec<f32> = values.iter().map(|&v| v - mean).collect();
        let expected_centred: Vec<f64> = expected.iter().map(|&e| e - mean as f64).collect();
        assert_close("normal − mean", &centred, &expected_centred, 1e-4, floor);
    }
}

/// Sample mean and variance.
fn moments(values: &[f32]) -> (f64, f64) {
    let n = values.len() as f64;
    let mean = values.iter().map(|&v| v as f64).sum::<f64>() / n;
    let var = values
        .iter()
        .map(|&v| (v as f64 - mean).powi(2))
        .sum::<f64>()
        / (n - 1.0);
    (mean, var)
}

/// |found − expected| within 5 standard errors (a false alarm about once in 1.7 million).
fn within_5_se(what: &str, found: f64, expected: f64, standard_error: f64) {
    assert!(
        (found - expected).abs() <= 5.0 * standard_error,
        "{what}: {found} vs {expected} (standard error {standard_error:.3e})"
    );
}

#[test]
fn uniform_and_normal_statistics() {
    let mut rng = rng("statistics");
    let n = 100_000usize;
    let nf = n as f64;
    let (seed, stream, step) = (
        rng.random::<u64>(),
        rng.random::<u32>(),
        rng.random::<u32>(),
    );

    let (low, high) = (-1.5f32, 2.5f32);
    let (mean, var) = moments(&gpu_uniform(n, (low, high), seed, stream, step));
    let width = (high - low) as f64;
    let true_var = width * width / 12.0;
    within_5_se(
        "uniform mean",
        mean,
        (low + high) as f64 / 2.0,
        (true_var / nf).sqrt(),
    );
    // Var of the sample variance: (μ4 − σ⁴)/n, with μ4 = width⁴/80 for a uniform.
    let mu4 = width.powi(4) / 80.0;
    within_5_se(
        "uniform variance",
        var,
        true_var,
        ((mu4 - true_var * true_var) / nf).sqrt(),
    );

    let (mu, sigma) = (0.5f32, 2.0f32);
    let (mean, var) = moments(&gpu_normal(n, (mu, sigma), seed, stream, step));
    let s2 = (sigma * sigma) as f64;
    within_5_se("normal mean", mean, mu as f64, (s2 / nf).sqrt());
    // μ4 = 3σ⁴ for a normal, so the variance's standard error is σ²·√(2/n).
    within_5_se("normal variance", var, s2, s2 * (2.0 / nf).sqrt());
}

#[test]
fn seed_stream_and_counter_select_the_numbers() {
    let mut rng = rng("seed stream counter");
    let n = 1000;
    let (seed, stream, step) = (
        rng.random::<u64>(),
        rng.random::<u32>(),
        rng.random::<u32>(),
    );
    let base = gpu_uniform(n, (0.0, 1.0), seed, stream, step);
    let differs = |other: &[f32]| base.iter().zip(other).filter(|(a, b)| a != b).count();

    assert_eq!(
        differs(&gpu_uniform(n, (0.0, 1.0), seed, stream, step)),
        0,
        "one seed repeats"
    );
    // Seeds differing only in the high word must differ too (both words are key).
    for other_seed in [seed ^ 1, seed ^ (1 << 40)] {
        let other = gpu_uniform(n, (0.0, 1.0), other_seed, stream, step);
        assert!(
            differs(&other) > n * 99 / 100,
            "seeds {seed} and {other_seed}"
        );
    }
    let other = gpu_uniform(n, (0.0, 1.0), seed, stream.wrapping_add(1), step);
    assert!(differs(&other) > n * 99 / 100, "streams differ");

    // Incrementing the counter on the GPU changes the numbers, to those of step + 1.
    let (out, counter) = (poisoned(n), counter_at(step));
    let increment = increment_counter(gpu(), &counter).unwrap();
    let fill = fill_uniform(gpu(), &out, 0.0, 1.0, seed, stream, &counter).unwrap();
    let after = run_and_read(&[&increment, &fill], &out);
    assert_eq!(
        gpu().read_u32(&counter).unwrap(),
        vec![step.wrapping_add(1)]
    );
    assert!(
        differs(&after) > n * 99 / 100,
        "the counter changes the output"
    );
    let expected = gpu_uniform(n, (0.0, 1.0), seed, stream, step.wrapping_add(1));
    assert_eq!(
        after, expected,
        "after one increment the output is that of step + 1"
    );
}

#[test]
fn increment_counter_counts() {
    let counter = counter_at(0);
    let increment = increment_counter(gpu(), &counter).unwrap();
    run(&[&increment, &increment, &increment]);
    assert_eq!(gpu().read_u32(&counter).unwrap(), vec![3]);
}

#[test]
fn random_rejects_bad_shapes() {
    let out = poisoned(8);
    let counter = gpu().upload("counter", &[2], &[0u32, 0]).unwrap();
    let error = fill_uniform(gpu(), &out, 0.0, 1.0, 1, 0, &counter)
        .err()
        .expect("a counter of two elements");
    assert!(
        error
            .to_string()
            .contains("counter has 2 elements, expected 1"),
        "{error}"
    );
    assert!(
        increment_counter(gpu(), &out).is_err(),
        "a counter of eight elements"
    );
}
