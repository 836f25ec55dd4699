//! Parzen-window log-likelihood on the GPU (shaders/parzen.wgsl driven by eval::parzen) against
//! the direct f64 computation in reference::parzen, on random pixels with awkward shapes, tiles
//! that do not divide the sets, near-identical points, and σ from 0.03 to 5.
//!
//! Tolerance. The GPU forms ‖x − μ‖² as ‖x‖² + ‖μ‖² − 2x·μ in f32. Each of the three sums of d
//! products has a rounding error of at most d·ε·Σ|terms| (ε = 2⁻²⁴, sequential accumulation),
//! and Σ|x_k μ_k| ≤ (‖x‖² + ‖μ‖²)/2, so |Δd²| ≤ 2·d·ε·(‖x‖² + ‖μ‖²) — also for near-identical
//! points, where the f32 result may even come out below zero before the clamp. A log-sum-exp
//! moves by at most the largest change of its arguments, so log p moves by at most
//! |Δd²|/(2σ²). The f32 sum of at most N terms in (0, 1] adds a relative error of at most N·ε
//! (and exp a few ulps per term), i.e. about (N + 8)·ε in the logarithm. The test allows twice
//! the sum of these bounds: a worst case, so it cannot flake, and still four orders of magnitude
//! below the errors a wrong tile, offset or factor produces.

use gan_gpu::eval::parzen::{ParzenWindow, paper_sigmas};
use gan_gpu::eval::tiles::Tiling;
use gan_gpu::kernels::parzen::{Tile, affine, parzen_accumulate};
use gan_gpu::reference::parzen::parzen_log_likelihood;

use super::common::{gpu, poisoned, rng, run_and_read, to_f64, uniform, upload};

const EPS: f64 = 1.0 / 16_777_216.0;

fn squared_norm(v: &[f32]) -> f64 {
    v.iter().map(|&x| x as f64 * x as f64).sum()
}

/// The error bound explained above for one σ.
fn tolerance(points: &[f32], samples: &[f32], dim: usize, sigma: f64) -> f64 {
    let largest = |set: &[f32]| {
        set.chunks_exact(dim)
            .map(squared_norm)
            .fold(0.0f64, f64::max)
    };
    let n = (samples.len() / dim) as f64;
    let distance_error = 2.0 * dim as f64 * EPS * (largest(points) + largest(samples));
    2.0 * (distance_error / (2.0 * sigma * sigma) + (n + 8.0) * EPS)
}

fn check(label: &str, count: usize, n: usize, dim: usize, tiling: Tiling, sigmas: &[f64]) {
    let ctx = gpu();
    let mut rng = rng(label);
    let samples = uniform(&mut rng, n * dim, 0.0, 1.0);
    let mut points = uniform(&mut rng, count * dim, 0.0, 1.0);
    // Some test points coincide with a sample, some nearly: distances near zero cancel in f32.
    for p in 0..count.min(n) {
        let row = &mut points[p * dim..(p + 1) * dim];
        row.copy_from_slice(&samples[p * dim..(p + 1) * dim]);
        if p % 2 == 1 {
            row.iter_mut().for_each(|v| *v += 1e-3);
        }
        if p >= 3 {
            break;
        }
    }
    let samples_gpu = ctx.upload("samples", &[n, dim], &samples).unwrap();
    let points_gpu = ctx.upload("points", &[count, dim], &points).unwrap();
    let window = ParzenWindow::new(ctx, &samples_gpu).unwrap();
    let result = window
        .log_likelihoods(ctx, &points_gpu, sigmas, tiling)
        .unwrap();
    let expected = parzen_log_likelihood(&to_f64(&points), &to_f64(&samples), dim, sigmas);
    for (k, &sigma) in sigmas.iter().enumerate() {
        let tol = tolerance(&points, &samples, dim, sigma);
        for (p, (&got, &want)) in result[k].iter().zip(&expected[k]).enumerate() {
            assert!(
                got.is_finite() && (got - want).abs() <= tol,
                "{label}: σ = {sigma}, point {p}: gpu {got} vs f64 {want} (tolerance {tol:.3e})"
            );
        }
    }
    // Fixed tile order: the same inputs give the same bits.
    let again = window
        .log_likelihoods(ctx, &points_gpu, sigmas, tiling)
        .unwrap();
    assert_eq!(result, again, "{label}: not deterministic");
}

#[test]
fn parzen_matches_f64_on_awkward_shapes_and_uneven_tiles() {
    let sigmas = paper_sigmas();
    // (points, samples, dim, tile rows, tile cols): one point and one sample; a single tile;
    // tiles that leave remainders in both directions (dim 16: rows in steps of 4; dim 5: 64).
    check("1x1", 1, 1, 1, Tiling::default(), &sigmas);
    check("7x63x5", 7, 63, 5, Tiling::default(), &sigmas);
    check(
        "150x333x16",
        150,
        333,
        16,
        Tiling {
            rows: 64,
            cols: 128,
        },
        &sigmas,
    );
    check(
        "65x200x784",
        65,
        200,
        784,
        Tiling { rows: 8, cols: 36 },
        &sigmas,
    );
    check(
        "130x129x5",
        130,
        129,
        5,
        Tiling { rows: 1, cols: 1 },
        &sigmas,
    );
}

#[test]
fn parzen_extreme_sigmas_stay_finite_and_exact() {
    // σ = 0.03 puts all but the nearest sample 10³ nats or more below it (their exps underflow);
    // σ = 5 makes every sample count almost equally.
    check(
        "narrow-wide",
        40,
        100,
        30,
        Tiling { rows: 16, cols: 32 },
        &[0.03, 5.0],
    );
}

/// The kernel alone: a poisoned state is fully overwritten by the first tile, and a second tile
/// merges into it (a new nearest sample rescales the earlier sums).
#[test]
fn parzen_accumulate_starts_fresh_then_merges() {
    let ctx = gpu();
    let mut rng = rng("parzen_accumulate");
    let (rows, cols, sigmas) = (37usize, 2 * 29usize, [0.2f64, 0.7, 3.0]);
    let point_norms = uniform(&mut rng, rows, 0.0, 4.0);
    let sample_norms = uniform(&mut rng, cols, 0.0, 4.0);
    // Cross terms that give distances in [0, 2] (and a few exact zeros after the clamp).
    let mut cross = vec![0f32; rows * cols];
    let distances = uniform(&mut rng, rows * cols, -0.05, 2.0);
    for r in 0..rows {
        for c in 0..cols {
            let d = distances[r * cols + c];
            cross[r * cols + c] = (point_norms[r] + sample_norms[c] - d) / 2.0;
        }
    }
    let inverse: Vec<f32> = sigmas
        .iter()
        .map(|s| (1.0 / (2.0 * s * s)) as f32)
        .collect();
    let state = poisoned(rows * (1 + sigmas.len()));
    let (pn, sn, inv) = (
        upload(&point_norms),
        upload(&sample_norms),
        upload(&inverse),
    );
    let half = cols / 2;
    let mut dispatches = Vec::new();
    for (first, col_offset) in [(true, 0), (false, half)] {
        let block: Vec<f32> = (0..rows)
            .flat_map(|r| cross[r * cols + col_offset..r * cols + col_offset + half].to_vec())
            .collect();
        let tile = Tile {
            rows,
            cols: half,
            row_offset: 0,
            col_offset,
        };
        dispatches.push(
            parzen_accumulate(ctx, &upload(&block), &pn, &sn, &inv, &state, tile, first).unwrap(),
        );
    }
    let got = run_and_read(&dispatches.iter().collect::<Vec<_>>(), &state);
    for r in 0..rows {
        // The f32 distances the kernel forms, then the state in f64.
        let d2: Vec<f64> = (0..cols)
            .map(|c| {
                let v = point_norms[r] + sample_norms[c] - 2.0 * cross[r * cols + c];
                v.max(0.0) as f64
            })
            .collect();
        let m = d2.iter().cloned().fold(f64::INFINITY, f64::min);
        let row = &got[r * 4..(r + 1) * 4];
        assert!(
            (row[0] as f64 - m).abs() <= 4e-6,
            "row {r}: min {} vs {m}",
            row[0]
        );
        for (k, &c) in inverse.iter().enumerate() {
            let sum: f64 = d2.iter().map(|d| (-(d - m) * c as f64).exp()).sum();
            let g = row[1 + k] as f64;
            assert!(
                (g - sum).abs() <= 1e-4 * sum,
                "row {r}, σ {}: sum {g} vs {sum}",
                sigmas[k]
            );
        }
    }
}

#[test]
fn affine_maps_generator_range_to_pixels() {
    let ctx = gpu();
    let mut rng = rng("affine");
    let x = uniform(&mut rng, 1001, -1.0, 1.0);
    let out = poisoned(x.len());
    let got = run_and_read(&[&affine(ctx, &upload(&x), &out, 0.5, 0.5).unwrap()], &out);
    for (g, v) in got.iter().zip(&x) {
        let want = 0.5 * *v as f64 + 0.5;
        assert!((*g as f64 - want).abs() <= 2.0 * EPS, "{g} vs {want}");
    }
}
