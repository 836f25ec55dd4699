//! Reductions: column sums (bias gradients), means and per-row squared norms.

/// Σ over rows of a row-major [rows, cols] matrix, one sum per column.
pub fn column_sums(x: &[f64], cols: usize) -> Vec<f64> {
    let mut sums = vec![0.0; cols];
    for row in x.chunks(cols) {
        for (sum, v) in sums.iter_mut().zip(row) {
            *sum += v;
        }
    }
    sums
}

pub fn mean(x: &[f64]) -> f64 {
    x.iter().sum::<f64>() / x.len() as f64
}

/// ‖row‖² for each row of a row-major [rows, cols] matrix.
pub fn sum_of_squares_rows(x: &[f64], cols: usize) -> Vec<f64> {
    x.chunks(cols)
        .map(|row| row.iter().map(|v| v * v).sum())
        .collect()
}
