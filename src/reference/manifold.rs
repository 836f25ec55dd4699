//! k-NN manifolds in f64 by direct computation: each point's k-th nearest neighbour distance
//! within its set, the ball counts of `knn_accumulate` / `ball_accumulate`, and precision,
//! recall, density and coverage written straight from their definitions (Kynkäänniemi et al.
//! 2019; Naeem et al. 2020), with "inside a ball" meaning strictly inside, as the GPU counts.

fn squared_distance(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y).powi(2)).sum()
}

/// Squared distance from each row of `points` to its k-th nearest other row (the row itself
/// skipped by index; an exact duplicate counts, at distance 0). Needs more than k rows.
pub fn kth_neighbour(points: &[f64], dim: usize, k: usize) -> Vec<f64> {
    let rows: Vec<&[f64]> = points.chunks(dim).collect();
    rows.iter()
        .enumerate()
        .map(|(i, p)| {
            let mut distances: Vec<f64> = rows
                .iter()
                .enumerate()
                .filter(|&(j, _)| j != i)
                .map(|(_, q)| squared_distance(p, q))
                .collect();
            distances.sort_by(f64::total_cmp);
            distances[k - 1]
        })
        .collect()
}

/// For each query: (reference balls strictly containing it, reference points strictly inside
/// its own ball); radii are squared.
pub fn ball_counts(
    queries: &[f64],
    query_radii: &[f64],
    references: &[f64],
    reference_radii: &[f64],
    dim: usize,
) -> Vec<(usize, usize)> {
    queries
        .chunks(dim)
        .zip(query_radii)
        .map(|(q, &own)| {
            let distances: Vec<f64> = references
                .chunks(dim)
                .map(|x| squared_distance(q, x))
                .collect();
            (
                distances
                    .iter()
                    .zip(reference_radii)
                    .filter(|(d, r)| d < r)
                    .count(),
                distances.iter().filter(|&&d| d < own).count(),
            )
        })
        .collect()
}

/// (precision, recall, density, coverage) of `generated` against `real` (rows of `dim`), k-NN
/// balls of size k, from the definitions with real X_1..N and generated Y_1..M:
///   precision = (1/M) Σ_j 1[∃ i: ‖Y_j − X_i‖ < NND_k(X_i)]
///   recall    = (1/N) Σ_i 1[∃ j: ‖X_i − Y_j‖ < NND_k(Y_j)]
///   density   = (1/(kM)) Σ_j Σ_i 1[‖Y_j − X_i‖ < NND_k(X_i)]
///   coverage  = (1/N) Σ_i 1[min_j ‖X_i − Y_j‖ < NND_k(X_i)]
pub fn precision_recall_density_coverage(
    real: &[f64],
    generated: &[f64],
    dim: usize,
    k: usize,
) -> (f64, f64, f64, f64) {
    let x: Vec<&[f64]> = real.chunks(dim).collect();
    let y: Vec<&[f64]> = generated.chunks(dim).collect();
    let (n, m) = (x.len() as f64, y.len() as f64);
    let rx: Vec<f64> = kth_neighbour(real, dim, k)
        .iter()
        .map(|d| d.sqrt())
        .collect();
    let ry: Vec<f64> = kth_neighbour(generated, dim, k)
        .iter()
        .map(|d| d.sqrt())
        .collect();
    let distance = |a: &[f64], b: &[f64]| squared_distance(a, b).sqrt();
    let precision = y
        .iter()
        .filter(|yj| x.iter().zip(&rx).any(|(xi, r)| distance(yj, xi) < *r))
        .count() as f64
        / m;
    let recall = x
        .iter()
        .filter(|xi| y.iter().zip(&ry).any(|(yj, r)| distance(xi, yj) < *r))
        .count() as f64
        / n;
    let density = y
        .iter()
        .map(|yj| {
            x.iter()
                .zip(&rx)
                .filter(|(xi, r)| distance(yj, xi) < **r)
                .count()
        })
        .sum::<usize>() as f64
        / (k as f64 * m);
    let coverage = x
        .iter()
        .zip(&rx)
        .filter(|(xi, r)| {
            let nearest = y
                .iter()
                .map(|yj| distance(xi, yj))
                .fold(f64::INFINITY, f64::min);
            nearest < **r
        })
        .count() as f64
        / n;
    (precision, recall, density, coverage)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Points on a line at 0, 1, 3, 7: the 2nd nearest of 0 is 3 (distance² 9), of 1 is 3
    /// (4: neighbours 0 and 3 at 1 and 2), of 3 is 0 (9: 1 at 2, then 0 at 3), of 7 is 1 (36).
    #[test]
    fn kth_neighbour_on_a_line() {
        assert_eq!(
            kth_neighbour(&[0.0, 1.0, 3.0, 7.0], 1, 2),
            vec![9.0, 4.0, 9.0, 36.0]
        );
        // A duplicate is a neighbour at distance 0 (itself is not).
        assert_eq!(kth_neighbour(&[2.0, 2.0, 5.0], 1, 1), vec![0.0, 0.0, 9.0]);
    }

    /// Identical sets, no ties among any point's distances: every point is strictly inside its
    /// own ball and k − 1 others' (its k-th neighbour lies on the boundary), so density = 1.
    #[test]
    fn identical_sets_score_one() {
        let points = [0.0, 1.0, 3.0, 7.0, 15.0];
        let (p, r, d, c) = precision_recall_density_coverage(&points, &points, 1, 2);
        assert_eq!((p, r, d, c), (1.0, 1.0, 1.0, 1.0));
        // Balls of radius 3, 2, 3, 6, 12 around 0, 1, 3, 7, 15: each holds itself and one other.
        let radii = kth_neighbour(&points, 1, 2);
        assert_eq!(radii, vec![9.0, 4.0, 9.0, 36.0, 144.0]);
        let counts = ball_counts(&points, &radii, &points, &radii, 1);
        assert!(counts.iter().all(|c| c.1 == 2), "{counts:?}");
        // Counted the other way round (balls containing each point) the total is the same.
        assert_eq!(counts.iter().map(|c| c.0).sum::<usize>(), 10, "{counts:?}");
    }

    /// Sets far apart: no ball of one reaches the other.
    #[test]
    fn distant_sets_score_zero() {
        let real = [0.0, 0.0, 1.0, 0.0, 0.0, 1.0, 1.0, 1.0];
        let generated: Vec<f64> = real.iter().map(|v| v + 100.0).collect();
        let scores = precision_recall_density_coverage(&real, &generated, 2, 2);
        assert_eq!(scores, (0.0, 0.0, 0.0, 0.0));
    }
}
