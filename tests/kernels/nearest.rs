//! Nearest-neighbour search on the GPU (matmul cross terms, then the nearest_accumulate tiles)
//! against a direct f64 search: several query and reference tiles, a reference set split into
//! buffers (more than `CHUNK_ROWS` rows), exact duplicates (distance 0, the first index wins).

use gan_gpu::eval::nearest::{CHUNK_ROWS, NearestSearch, mean_distance};
use gan_gpu::eval::tiles::Tiling;
use gan_gpu::reference::nearest as reference;
use rand::RngExt;

use crate::common::*;

#[test]
fn nearest_neighbours_match_a_direct_search() {
    let ctx = gpu();
    for (queries, references, dim, tiling) in [
        (1, 1, 1, Tiling::default()),
        (65, 300, 7, Tiling { rows: 16, cols: 64 }),
        (33, CHUNK_ROWS + 77, 5, Tiling::default()),
    ] {
        let what = format!("nearest {queries} queries × {references} references of {dim}");
        let mut rng = rng(&what);
        let refs = uniform(&mut rng, references * dim, 0.0, 1.0);
        let mut q = uniform(&mut rng, queries * dim, 0.0, 1.0);
        // Some queries are copies of reference points (the memorisation case).
        for row in (0..queries).step_by(4) {
            let r = rng.random_range(0..references);
            q[row * dim..(row + 1) * dim].copy_from_slice(&refs[r * dim..(r + 1) * dim]);
        }
        let search = NearestSearch::new(ctx, &refs, dim).unwrap();
        let q_tensor = ctx.upload("queries", &[queries, dim], &q).unwrap();
        let got = search.search(ctx, &q_tensor, tiling).unwrap();
        let expected = reference::nearest(&to_f64(&q), &to_f64(&refs), dim);
        let refs64 = to_f64(&refs);
        for (i, (g, &(d, index))) in got.iter().zip(&expected).enumerate() {
            // f32 cancellation in ‖q‖² + ‖x‖² − 2q·x: absolute error of order dim·1e-7.
            assert!(
                (g.squared_distance - d).abs() <= 1e-5 * dim as f64,
                "{what}: query {i}: distance² {} vs {d}",
                g.squared_distance
            );
            if g.index != index {
                // A near tie: the GPU's choice must be as near, by the f64 distance.
                let x = &refs64[g.index * dim..(g.index + 1) * dim];
                let own: f64 = to_f64(&q[i * dim..(i + 1) * dim])
                    .iter()
                    .zip(x)
                    .map(|(a, b)| (a - b).powi(2))
                    .sum();
                assert!(
                    (own - d).abs() <= 1e-5 * dim as f64,
                    "{what}: query {i}: index {} at {own} vs {index} at {d}",
                    g.index
                );
            }
        }
        let mean = mean_distance(&got);
        let expected_mean =
            expected.iter().map(|(d, _)| d.sqrt()).sum::<f64>() / expected.len() as f64;
        assert!((mean - expected_mean).abs() <= 1e-3 * expected_mean.max(1e-3));
    }
}

#[test]
fn bad_nearest_inputs_are_errors() {
    let ctx = gpu();
    assert!(NearestSearch::new(ctx, &[0.0; 5], 2).is_err());
    let search = NearestSearch::new(ctx, &[0.0; 6], 3).unwrap();
    let q = ctx.upload("q", &[2, 2], &[0.0f32; 4]).unwrap();
    let error = search
        .search(ctx, &q, Tiling::default())
        .unwrap_err()
        .to_string();
    assert!(error.contains("2 values") && error.contains("3"), "{error}");
}
