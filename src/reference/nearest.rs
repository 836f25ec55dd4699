//! Nearest neighbours in f64 by direct search: for each query, the smallest squared Euclidean
//! distance to a reference point and the first index that attains it.

/// (squared distance, index) of each query's nearest reference point; rows of `dim` values.
pub fn nearest(queries: &[f64], references: &[f64], dim: usize) -> Vec<(f64, usize)> {
    queries
        .chunks(dim)
        .map(|q| {
            references
                .chunks(dim)
                .enumerate()
                .map(|(i, x)| (q.iter().zip(x).map(|(a, b)| (a - b).powi(2)).sum(), i))
                .fold(
                    (f64::INFINITY, 0),
                    |best, (d, i)| if d < best.0 { (d, i) } else { best },
                )
        })
        .collect()
}
