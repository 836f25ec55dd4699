//! Batch index drawing (the epoch shuffle is a permutation per epoch; with replacement is in
//! range and uniform), u8 gathers for examples straddling u32 words, label gathers, and
//! Gaussian-mixture sampling, all against the reference.

use gan_gpu::gpu::{Dispatch, Recorder, Tensor};
use gan_gpu::kernels::data::{
    IndexOrder, PixelRange, draw_indices, gather_labels, gather_u8, sample_mixture,
};
use gan_gpu::kernels::random::increment_counter;
use gan_gpu::reference::data as reference;
use rand::RngExt;

use crate::common::*;

fn run(dispatches: &[&Dispatch]) {
    let mut recorder = Recorder::new(gpu());
    recorder.record_all(dispatches.iter().copied());
    recorder.submit().unwrap();
}

fn u32_tensor(values: &[u32]) -> Tensor {
    gpu()
        .upload("u32 test input", &[values.len()], values)
        .unwrap()
}

/// The indices of `steps` consecutive steps from step `first`, the counter incremented on the
/// GPU between draws, as training does.
fn draw_steps(
    batch: usize,
    n: u32,
    order: IndexOrder,
    seed: u64,
    stream: u32,
    (first, steps): (u32, usize),
) -> Vec<Vec<u32>> {
    let counter = u32_tensor(&[first]);
    let increment = increment_counter(gpu(), &counter).unwrap();
    let outputs: Vec<Tensor> = (0..steps)
        .map(|_| u32_tensor(&vec![u32::MAX; batch]))
        .collect();
    let draws: Vec<Dispatch> = outputs
        .iter()
        .map(|out| draw_indices(gpu(), out, n, order, seed, stream, &counter).unwrap())
        .collect();
    let mut recorder = Recorder::new(gpu());
    for draw in &draws {
        recorder.record(draw);
        recorder.record(&increment);
    }
    recorder.submit().unwrap();
    outputs
        .iter()
        .map(|out| gpu().read_u32(out).unwrap())
        .collect()
}

#[test]
fn gather_u8_exact_for_examples_straddling_words() {
    for (example_bytes, range) in [
        (7usize, PixelRange::MinusOneToOne),
        (785, PixelRange::MinusOneToOne),
        (784, PixelRange::MinusOneToOne),
        (1, PixelRange::MinusOneToOne),
        (7, PixelRange::ZeroToOne),
        (785, PixelRange::ZeroToOne),
        (1, PixelRange::ZeroToOne),
    ] {
        let mut rng = rng(&format!("gather {example_bytes} {range:?}"));
        let examples = 13;
        let bytes: Vec<u8> = (0..examples * example_bytes)
            .map(|_| rng.random())
            .collect();
        let dataset = gpu().upload_bytes("dataset", &bytes).unwrap();
        // Random in-range indices, the first and last example, and two past the end (clamped).
        let mut indices: Vec<u32> = (0..6)
            .map(|_| rng.random_range(0..examples as u32))
            .collect();
        indices.extend([0, examples as u32 - 1, examples as u32, u32::MAX]);
        let batch = indices.len();
        let (indices_gpu, out) = (u32_tensor(&indices), poisoned(batch * example_bytes));
        let gather = gather_u8(gpu(), &dataset, &indices_gpu, &out, example_bytes, range).unwrap();
        let result = run_and_read(&[&gather], &out);
        let expected = reference::gather_u8(&bytes, &indices, example_bytes, range);
        // The right bytes, exactly: every value maps back to its byte.
        let (low, high) = range.bounds();
        let to_byte = |v: f64| ((v - low as f64) / (high - low) as f64 * 255.0).round() as u8;
        let recovered: Vec<u8> = result.iter().map(|&v| to_byte(v as f64)).collect();
        let expected_bytes: Vec<u8> = expected.iter().map(|&v| to_byte(v)).collect();
        assert_eq!(recovered, expected_bytes, "{example_bytes} {range:?}");
        // And the value: the integer part (2·byte − 255, or byte) is exact, times 1/255 rounded
        // to f32, one more rounding: within two f32 ulps (2.4e-7 relative); the smallest nonzero
        // |value| is 1/255 and zero is exact, so no floor is needed.
        let what = format!("gather example_bytes={example_bytes} {range:?}");
        assert_close(&what, &result, &expected, 2.5e-7, 0.0);
        // The clamped rows equal the last example (for example_bytes < 4 the padding of the
        // last word may form up to three more, phantom examples; the reference above models them).
        let row = |b: usize| &result[b * example_bytes..(b + 1) * example_bytes];
        if example_bytes >= 4 {
            assert_eq!(
                row(batch - 1),
                row(batch - 3),
                "u32::MAX clamps to the last example"
            );
        }
        assert!(result.iter().all(|v| (low..=high).contains(v)));
    }
}

#[test]
fn gather_labels_exact() {
    let mut rng = rng("labels");
    for count in [1usize, 7, 65, 1200] {
        let labels: Vec<u8> = (0..count).map(|_| rng.random_range(0..10)).collect();
        let labels_gpu = gpu().upload_bytes("labels", &labels).unwrap();
        let mut indices: Vec<u32> = (0..63).map(|_| rng.random_range(0..count as u32)).collect();
        indices.push(count as u32 - 1);
        let indices_gpu = u32_tensor(&indices);
        let out = u32_tensor(&vec![u32::MAX; indices.len()]);
        run(&[&gather_labels(gpu(), &labels_gpu, &indices_gpu, &out).unwrap()]);
        let result = gpu().read_u32(&out).unwrap();
        assert_eq!(
            result,
            reference::gather_labels(&labels, &indices),
            "{count} labels"
        );
    }
}

#[test]
fn shuffled_order_is_a_permutation_every_epoch() {
    // (n, B): n a multiple of B and not a power of two; a power of two; n = B; n not a
    // multiple of B (batches then straddle epochs); n = 1; n just above a power of four.
    for (n, batch) in [
        (96u32, 8usize),
        (64, 16),
        (60, 60),
        (100, 7),
        (1, 3),
        (1025, 41),
    ] {
        let mut rng = rng(&format!("shuffle n={n} B={batch}"));
        let (seed, stream) = (rng.random::<u64>(), rng.random::<u32>());
        let epochs = 3;
        let steps = (epochs * n as usize).div_ceil(batch);
        let draws = draw_steps(batch, n, IndexOrder::Shuffled, seed, stream, (0, steps));
        for (step, draw) in draws.iter().enumerate() {
            let expected =
                reference::draw_indices(batch, n, IndexOrder::Shuffled, seed, stream, step as u32);
            assert_eq!(
                draw, &expected,
                "n={n} B={batch} step {step}: gpu vs reference"
            );
        }
        let stream_of_indices: Vec<u32> = draws.concat();
        let orders: Vec<&[u32]> = stream_of_indices.chunks(n as usize).take(epochs).collect();
        for (epoch, order) in orders.iter().enumerate() {
            let mut sorted = order.to_vec();
            sorted.sort_unstable();
            let all: Vec<u32> = (0..n).collect();
            assert_eq!(
                sorted, all,
                "n={n} B={batch}: epoch {epoch} is not a permutation"
            );
        }
        if n > 4 {
            assert_ne!(
                orders[0], orders[1],
                "n={n}: epochs 0 and 1 in the same order"
            );
            assert_ne!(
                orders[1], orders[2],
                "n={n}: epochs 1 and 2 in the same order"
            );
            let identity: Vec<u32> = (0..n).collect();
            assert_ne!(orders[0], identity.as_slice(), "n={n}: not shuffled");
        }
    }
}

#[test]
fn shuffle_at_a_late_step_matches_reference() {
    // Late steps (large positions, many epochs in) are drawn from the counter alone.
    let (n, batch) = (60_000u32, 64usize);
    let mut rng = rng("late shuffle");
    let (seed, stream, step) = (rng.random(), rng.random(), rng.random_range(0..1_000_000));
    let draws = draw_steps(batch, n, IndexOrder::Shuffled, seed, stream, (step, 2));
    for (k, draw) in draws.iter().enumerate() {
        let expected = reference::draw_indices(
            batch,
            n,
            IndexOrder::Shuffled,
            seed,
            stream,
            step + k as u32,
        );
        assert_eq!(draw, &expected, "step {}", step + k as u32);
    }
}

#[test]
fn with_replacement_in_range_and_uniform() {
    let mut rng = rng("with replacement");
    let (seed, stream) = (rng.random::<u64>(), rng.random::<u32>());
    let (n, batch, steps) = (10u32, 1000usize, 10usize);
    let draws = draw_steps(
        batch,
        n,
        IndexOrder::WithReplacement,
        seed,
        stream,
        (5, steps),
    );
    for (k, draw) in draws.iter().enumerate() {
        let expected = reference::draw_indices(
            batch,
            n,
            IndexOrder::WithReplacement,
            seed,
            stream,
            5 + k as u32,
        );
        assert_eq!(draw, &expected, "step {}", 5 + k);
    }
    assert_ne!(draws[0], draws[1], "steps draw different indices");
    let mut counts = vec![0usize; n as usize];
    for &index in draws.iter().flatten() {
        assert!(index < n, "index {index} out of [0, {n})");
        counts[index as usize] += 1;
    }
    // Each count is binomial(N, 1/n): within 5 standard errors of N/n.
    let total = (batch * steps) as f64;
    let p = 1.0 / n as f64;
    let se = (total * p * (1.0 - p)).sqrt();
    for (index, &count) in counts.iter().enumerate() {
        assert!(
            (count as f64 - total * p).abs() <= 5.0 * se,
            "index {index} drawn {count} times of {total} (expected {} ± {se:.1})",
            total * p
        );
    }
    // A large dataset: still in range (the multiply-high never reaches n).
    let big = draw_steps(
        4096,
        60_000,
        IndexOrder::WithReplacement,
        seed,
        stream,
        (0, 1),
    );
    assert!(big[0].iter().all(|&i| i < 60_000));
}

#[test]
fn mixture_matches_reference_and_statistics() {
    // ring8's eight centers on a circle of radius 2, and a 1-D mixture of three.
    let ring: Vec<Vec<f64>> = (0..8)
        .map(|k| {
            let angle = k as f64 * std::f64::consts::TAU / 8.0;
            vec![
                (2.0 * angle.cos()) as f32 as f64,
                (2.0 * angle.sin()) as f32 as f64,
            ]
        })
        .collect();
    let line = vec![vec![-1.5], vec![0.25], vec![2.0]];
    for centers in [ring, line] {
        check_mixture(&centers);
    }
}

fn check_mixture(centers: &[Vec<f64>]) {
    let dims = centers[0].len();
    let what = format!("mixture of {} in {dims}-D", centers.len());
    let mut rng = rng(&what);
    let (seed, stream, step) = (
        rng.random::<u64>(),
        rng.random::<u32>(),
        rng.random::<u32>(),
    );
    let flat: Vec<f32> = centers.iter().flatten().map(|&v| v as f32).collect();
    let std = 0.05f32;
    let batch = 8000;
    let (centers_gpu, out) = (upload(&flat), poisoned(dims * batch));
    let counter = u32_tensor(&[step]);
    let sample =
        sample_mixture(gpu(), &centers_gpu, &out, dims, std, seed, stream, &counter).unwrap();
    let result = run_and_read(&[&sample], &out);
    let (expected, components) =
        reference::sample_mixture(centers, batch, std as f64, seed, stream, step);
    // The component choice is exact integer arithmetic; the offsets carry Box–Muller's f32
    // log/cos error (absolute, ~1e-6·std), so judge them against the scale of the centers.
    assert_close(&what, &result, &expected, 1e-4, 1.0);

    let c = centers.len();
    let mut sums = vec![vec![0.0f64; dims]; c];
    let mut squares = vec![0.0f64; c];
    let mut counts = vec![0usize; c];
    for (b, &k) in components.iter().enumerate() {
        counts[k] += 1;
        for (d, sum) in sums[k].iter_mut().enumerate() {
            let offset = result[dims * b + d] as f64 - centers[k][d];
            *sum += offset;
            squares[k] += offset * offset;
        }
    }
    let p = 1.0 / c as f64;
    let count_se = (batch as f64 * p * (1.0 - p)).sqrt();
    let s2 = (std as f64).powi(2);
    for k in 0..c {
        let count = counts[k] as f64;
        assert!(
            (count - batch as f64 * p).abs() <= 5.0 * count_se,
            "{what}: component {k} drawn {count} times of {batch}"
        );
        for (d, sum) in sums[k].iter().enumerate() {
            let mean_offset = sum / count;
            assert!(
                mean_offset.abs() <= 5.0 * std as f64 / count.sqrt(),
                "{what}: component {k} axis {d}: mean off its center by {mean_offset}"
            );
        }
        // The mean square offset over dims·count normal coordinates: mean s², SE
        // s²·√(2/(dims·count)).
        let n = dims as f64 * count;
        let variance = squares[k] / n;
        assert!(
            (variance - s2).abs() <= 5.0 * s2 * (2.0 / n).sqrt(),
            "{what}: component {k}: spread {} vs std {std}",
            variance.sqrt()
        );
    }
}

#[test]
fn data_rejects_bad_shapes() {
    let dataset = gpu().upload_bytes("dataset", &[0u8; 7 * 4]).unwrap();
    let indices = u32_tensor(&[0, 1, 2]);
    let out = poisoned(3 * 7 - 1);
    let error = gather_u8(gpu(), &dataset, &indices, &out, 7, PixelRange::ZeroToOne)
        .err()
        .expect("out of 20 for 3 examples of 7 bytes");
    assert!(
        error
            .to_string()
            .contains("out has 20 elements, expected 21"),
        "{error}"
    );
    let counter = u32_tensor(&[0]);
    let empty = draw_indices(gpu(), &indices, 0, IndexOrder::Shuffled, 1, 0, &counter);
    assert!(empty.is_err(), "a dataset of zero examples");
    let odd_centers = upload(&[0.0, 1.0, 2.0]);
    let points = poisoned(8);
    assert!(sample_mixture(gpu(), &odd_centers, &points, 2, 0.1, 1, 0, &counter).is_err());
    assert!(sample_mixture(gpu(), &odd_centers, &points, 3, 0.1, 1, 0, &counter).is_err());
}
