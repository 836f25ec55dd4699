//! k-NN manifolds on the GPU (shaders/manifold.wgsl driven by eval::manifold) against the direct
//! f64 computation in reference::manifold: each point's k-th neighbour distance, the per-point
//! ball counts, and precision, recall, density and coverage from their definitions, on random
//! sets of awkward sizes with tiles that do not divide them, exact duplicates (the self index is
//! skipped, a duplicate counts), and the closed-form cases: a set against itself scores 1 on all
//! four, sets far apart 0.
//!
//! Tolerance. The GPU forms d² = ‖q‖² + ‖x‖² − 2q·x in f32, off by at most 2·d·ε·(‖q‖² + ‖x‖²)
//! (see tests/kernels/parzen.rs), and so is every radius². "d < r" can therefore differ from
//! f64 only for pairs with |d² − r²| within twice that bound: each count is checked to lie
//! between the f64 count of pairs surely inside and of pairs possibly inside, and each score
//! between the scores those give. Random sets rarely have such a pair, so the checks are
//! nearly always exact; a wrong index, offset, tile or comparison moves counts by whole units.

use gan_gpu::eval::manifold::{DEFAULT_K, Manifold, ball_counts, check_flags, compare};
use gan_gpu::eval::tiles::Tiling;
use gan_gpu::kernels::manifold::{Tile, ball_accumulate, knn_accumulate};
use gan_gpu::reference::manifold as reference;
use rand::RngExt;

use super::common::{gpu, poisoned, rng, to_f64, uniform, upload};

const EPS: f64 = 1.0 / 16_777_216.0;

fn squared_distance(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y).powi(2)).sum()
}

/// The margin within which f32 and f64 may disagree on d² < r² (see above).
fn margin(sets: &[&[f64]], dim: usize) -> f64 {
    let largest = sets
        .iter()
        .flat_map(|s| s.chunks(dim))
        .map(|p| p.iter().map(|v| v * v).sum::<f64>())
        .fold(0.0f64, f64::max);
    2.0 * 2.0 * (2.0 * dim as f64 * EPS * 2.0 * largest)
}

/// For each query, the f64 bounds (surely, possibly) of both counts: balls of `references`
/// containing it, and references inside its own ball.
fn count_bounds(
    queries: &[f64],
    query_radii: &[f64],
    references: &[f64],
    reference_radii: &[f64],
    dim: usize,
    tol: f64,
) -> Vec<[(u32, u32); 2]> {
    queries
        .chunks(dim)
        .zip(query_radii)
        .map(|(q, &own)| {
            let mut bounds = [(0, 0); 2];
            for (x, &r) in references.chunks(dim).zip(reference_radii) {
                let d = squared_distance(q, x);
                for (b, radius) in bounds.iter_mut().zip([r, own]) {
                    b.0 += (d < radius - tol) as u32;
                    b.1 += (d < radius + tol) as u32;
                }
            }
            bounds
        })
        .collect()
}

/// (low, high) of a share of points whose count is positive, and of a count's sum.
fn share_bounds(bounds: &[[(u32, u32); 2]], which: usize) -> (f64, f64) {
    let n = bounds.len() as f64;
    let low = bounds.iter().filter(|b| b[which].0 > 0).count() as f64 / n;
    let high = bounds.iter().filter(|b| b[which].1 > 0).count() as f64 / n;
    (low, high)
}

fn within(what: &str, value: f64, (low, high): (f64, f64)) {
    assert!(
        low - 1e-12 <= value && value <= high + 1e-12,
        "{what}: {value} outside [{low}, {high}]"
    );
}

/// `n` real points in [0, 1)^dim against `m` generated ones in [shift, 1 + shift)^dim.
#[allow(clippy::too_many_arguments)]
fn check(label: &str, (n, m, dim): (usize, usize, usize), shift: f32, k: usize, tiling: Tiling) {
    let ctx = gpu();
    let mut rng = rng(label);
    let mut real = uniform(&mut rng, n * dim, 0.0, 1.0);
    // Generated points overlap the real ones in part: scores strictly between 0 and 1.
    let mut generated = uniform(&mut rng, m * dim, shift, 1.0 + shift);
    // An exact duplicate within the real set, and a generated copy of a real point.
    real.copy_within(0..dim, dim);
    let copied = rng.random_range(0..n);
    generated[2 * dim..3 * dim].copy_from_slice(&real[copied * dim..(copied + 1) * dim]);
    let (x, y) = (to_f64(&real), to_f64(&generated));
    let tol = margin(&[&x, &y], dim);

    let real_gpu = Manifold::new(ctx, &real, dim, k, tiling).unwrap();
    let generated_gpu = Manifold::new(ctx, &generated, dim, k, tiling).unwrap();
    let (rx, ry) = (
        reference::kth_neighbour(&x, dim, k),
        reference::kth_neighbour(&y, dim, k),
    );
    for (what, set, want) in [("real", &real_gpu, &rx), ("generated", &generated_gpu, &ry)] {
        let got = set.squared_radii(ctx).unwrap();
        assert_eq!(got.len(), want.len(), "{label}: {what} radii");
        for (i, (g, w)) in got.iter().zip(want.iter()).enumerate() {
            assert!(
                (g - w).abs() <= tol,
                "{label}: {what} point {i}: k-th neighbour distance² {g} vs {w} (tolerance {tol:.2e})"
            );
        }
    }

    let counts = ball_counts(ctx, &real_gpu, &generated_gpu, tiling).unwrap();
    let generated_bounds = count_bounds(&y, &ry, &x, &rx, dim, tol);
    let real_bounds = count_bounds(&x, &rx, &y, &ry, dim, tol);
    for (what, got, bounds) in [
        ("generated", &counts.generated, &generated_bounds),
        ("real", &counts.real, &real_bounds),
    ] {
        for (i, (g, b)) in got.iter().zip(bounds.iter()).enumerate() {
            for (value, (low, high), count) in [
                (g.0, b[0], "balls containing it"),
                (g.1, b[1], "points in its ball"),
            ] {
                assert!(
                    low <= value && value <= high,
                    "{label}: {what} point {i}: {count} {value}, f64 [{low}, {high}]"
                );
            }
        }
    }

    // The scores: the GPU's and those written from the definitions, both within the bounds.
    let scores = counts.scores();
    assert_eq!((scores.real, scores.generated, scores.k), (n, m, k));
    let density = {
        let sum = |pick: fn(&(u32, u32)) -> u32| {
            generated_bounds.iter().map(|b| pick(&b[0])).sum::<u32>() as f64 / (k * m) as f64
        };
        (sum(|b| b.0), sum(|b| b.1))
    };
    let expected = [
        ("precision", share_bounds(&generated_bounds, 0)),
        ("recall", share_bounds(&real_bounds, 0)),
        ("density", density),
        ("coverage", share_bounds(&real_bounds, 1)),
    ];
    let (p, r, d, c) = reference::precision_recall_density_coverage(&x, &y, dim, k);
    let gpu_scores = [
        scores.precision,
        scores.recall,
        scores.density,
        scores.coverage,
    ];
    for ((name, bounds), (gpu_value, f64_value)) in
        expected.iter().zip(gpu_scores.iter().zip([p, r, d, c]))
    {
        within(&format!("{label}: {name} (gpu)"), *gpu_value, *bounds);
        within(&format!("{label}: {name} (f64)"), f64_value, *bounds);
    }
    // Not a comparison of zeros and ones. (Recall may reach 1: the generated set's edge
    // points have wide balls, the outlier effect Naeem et al. describe.)
    let strictly_between = |v: f64| v > 0.0 && v < 1.0;
    assert!(
        strictly_between(scores.precision)
            && strictly_between(scores.coverage)
            && scores.recall > 0.0,
        "{label}: the sets should overlap in part: {scores:?}"
    );
    // Fixed tile order: the same inputs give the same counts.
    assert_eq!(
        ball_counts(ctx, &real_gpu, &generated_gpu, tiling).unwrap(),
        counts,
        "{label}: not deterministic"
    );
}

#[test]
fn manifold_scores_match_f64_on_awkward_sizes_and_uneven_tiles() {
    check("37x53x11", (37, 53, 11), 0.25, DEFAULT_K, Tiling::default());
    // Several tiles each way, remainders in both directions; k = 1 and the largest k.
    let tiling = Tiling { rows: 16, cols: 24 };
    check("70x45x6", (70, 45, 6), 0.25, 1, tiling);
    let tiling = Tiling { rows: 32, cols: 40 };
    check("130x97x3", (130, 97, 3), 0.5, 8, tiling);
}

#[test]
fn a_set_against_itself_scores_one_and_distant_sets_zero() {
    let ctx = gpu();
    let mut rng = rng("identical");
    let (n, dim, tiling) = (50, 7, Tiling { rows: 16, cols: 24 });
    let points = uniform(&mut rng, n * dim, -1.0, 1.0);
    let set = Manifold::new(ctx, &points, dim, DEFAULT_K, tiling).unwrap();
    let copy = Manifold::new(ctx, &points, dim, DEFAULT_K, tiling).unwrap();
    let scores = compare(ctx, &set, &copy, tiling).unwrap();
    // Each point is strictly inside its own ball and k − 1 others'; its k-th neighbour is on
    // the boundary, computed by the same f32 operations in both passes (the cross terms of X
    // with its copy are those of X with itself, and q·x = x·q term by term), so not inside:
    // density is exactly 1.
    assert_eq!(
        (
            scores.precision,
            scores.recall,
            scores.density,
            scores.coverage
        ),
        (1.0, 1.0, 1.0, 1.0),
        "{scores:?}"
    );

    let far: Vec<f32> = points.iter().map(|v| v + 10.0).collect();
    let far = Manifold::new(ctx, &far, dim, DEFAULT_K, tiling).unwrap();
    let scores = compare(ctx, &set, &far, tiling).unwrap();
    assert_eq!(
        (
            scores.precision,
            scores.recall,
            scores.density,
            scores.coverage
        ),
        (0.0, 0.0, 0.0, 0.0),
        "{scores:?}"
    );
}

/// The kernels alone on made-up cross terms: poisoned state fully overwritten by the first
/// tile, a second tile merged in, the query's own index skipped.
#[test]
fn knn_and_ball_accumulate_start_fresh_then_merge() {
    let ctx = gpu();
    let mut rng = rng("manifold kernels");
    let (rows, half, k) = (37usize, 29usize, 3usize);
    let cols = 2 * half;
    let query_norms = uniform(&mut rng, rows, 0.0, 4.0);
    let reference_norms = uniform(&mut rng, cols, 0.0, 4.0);
    let distances = uniform(&mut rng, rows * cols, 0.0, 2.0);
    let cross: Vec<f32> = (0..rows * cols)
        .map(|i| (query_norms[i / cols] + reference_norms[i % cols] - distances[i]) / 2.0)
        .collect();
    // The f32 distances the kernel forms.
    let d2 = |r: usize, c: usize| {
        (query_norms[r] + reference_norms[c] - 2.0 * cross[r * cols + c]).max(0.0) as f64
    };
    let block = |col_offset: usize| {
        let values: Vec<f32> = (0..rows)
            .flat_map(|r| cross[r * cols + col_offset..r * cols + col_offset + half].to_vec())
            .collect();
        upload(&values)
    };
    let (qn, rn) = (upload(&query_norms), upload(&reference_norms));
    let tile = |col_offset| Tile {
        rows,
        cols: half,
        row_offset: 0,
        col_offset,
    };

    // Queries and references are one set here: reference c is point c, so query r skips c = r.
    let neighbours = poisoned(rows * k);
    let mut recorder = gan_gpu::gpu::Recorder::new(ctx);
    for (first, col_offset) in [(true, 0), (false, half)] {
        let dispatch = knn_accumulate(
            ctx,
            &block(col_offset),
            &qn,
            &rn,
            &neighbours,
            (tile(col_offset), 0),
            k,
            first,
        )
        .unwrap();
        recorder.record(&dispatch);
    }
    recorder.submit().unwrap();
    let got = ctx.read_f32(&neighbours).unwrap();
    for r in 0..rows {
        let mut want: Vec<f64> = (0..cols).filter(|&c| c != r).map(|c| d2(r, c)).collect();
        want.sort_by(f64::total_cmp);
        for (i, (&g, w)) in got[r * k..(r + 1) * k].iter().zip(&want).enumerate() {
            assert!(
                (g as f64 - w).abs() <= 1e-6,
                "row {r}: neighbour {i}: {g} vs {w}"
            );
        }
    }

    // Ball counts against radii drawn away from every distance (no pair within 1e-4 of one).
    let radius = |rng: &mut rand::rngs::StdRng, len: usize| -> Vec<f32> {
        (0..len)
            .map(|_| {
                loop {
                    let r: f32 = rng.random_range(0.0..2.0);
                    if distances.iter().all(|d| (d - r).abs() > 1e-4) {
                        break r;
                    }
                }
            })
            .collect()
    };
    let (query_radii, reference_radii) = (radius(&mut rng, rows), radius(&mut rng, cols));
    // As [count, k] lists whose last entry is the radius (the rest unread).
    let lists = |radii: &[f32]| {
        let values: Vec<f32> = radii
            .iter()
            .flat_map(|&r| [f32::NAN, f32::NAN, r])
            .collect();
        upload(&values)
    };
    let (ql, rl) = (lists(&query_radii), lists(&reference_radii));
    let counts = poisoned(rows * 2);
    let mut recorder = gan_gpu::gpu::Recorder::new(ctx);
    for (first, col_offset) in [(true, 0), (false, half)] {
        let dispatch = ball_accumulate(
            ctx,
            &block(col_offset),
            (&qn, &rn),
            (&ql, &rl),
            &counts,
            (tile(col_offset), 0),
            k,
            first,
        )
        .unwrap();
        recorder.record(&dispatch);
    }
    recorder.submit().unwrap();
    let got = ctx.read_u32(&counts).unwrap();
    for r in 0..rows {
        let in_balls = (0..cols)
            .filter(|&c| d2(r, c) < reference_radii[c] as f64)
            .count() as u32;
        let in_own = (0..cols)
            .filter(|&c| d2(r, c) < query_radii[r] as f64)
            .count() as u32;
        assert_eq!((got[2 * r], got[2 * r + 1]), (in_balls, in_own), "row {r}");
    }
}

#[test]
fn bad_manifold_inputs_are_errors_that_say_why() {
    let ctx = gpu();
    let four = [0.0f32, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0];
    let tiling = Tiling::default();
    for (k, needle) in [(0, "k must be 1 to 8"), (9, "k must be 1 to 8")] {
        let error = Manifold::new(ctx, &four, 2, k, tiling)
            .err()
            .unwrap()
            .to_string();
        assert!(error.contains(needle), "k = {k}: {error}");
    }
    // k = 3 needs four points besides none: four points of 2 values are enough, three are not.
    Manifold::new(ctx, &four, 2, 3, tiling).unwrap();
    for (values, dim) in [(&four[..6], 2), (&four[..0], 2), (&four[..7], 2)] {
        let error = Manifold::new(ctx, values, dim, 3, tiling)
            .err()
            .unwrap()
            .to_string();
        assert!(
            error.contains("more than 3 feature vectors"),
            "{} values: {error}",
            values.len()
        );
    }
    // Sets of different feature sizes.
    let a = Manifold::new(ctx, &four, 2, 1, tiling).unwrap();
    let b = Manifold::new(ctx, &four, 4, 1, tiling).unwrap();
    let error = compare(ctx, &a, &b, tiling).unwrap_err().to_string();
    assert!(error.contains("2") && error.contains("4"), "{error}");

    // The flags' checks name the flag, for eval ("--") and train ("--eval-").
    check_flags("--", 2000, 3, 10_000).unwrap();
    check_flags("--", 0, 3, 1).unwrap();
    for (prefix, pr_samples, k, samples, needle) in [
        ("--", 2000, 0, 10_000, "--pr-k 0"),
        ("--", 2000, 9, 10_000, "--pr-k 9"),
        ("--", 3, 3, 10_000, "--pr-samples 3"),
        ("--", 2000, 3, 3, "--samples 3"),
        ("--eval-", 2, 3, 100, "--eval-pr-samples 2"),
    ] {
        let error = check_flags(prefix, pr_samples, k, samples)
            .unwrap_err()
            .to_string();
        assert!(error.contains(needle), "{needle}: {error}");
    }
}
