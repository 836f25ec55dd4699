//! Matrix multiply in the three training layouts (see `kernels::matmul::Layout`).

use crate::kernels::matmul::Layout;

/// op(A)·op(B) as a row-major [m, n] matrix, in f64.
pub fn matmul(layout: Layout, a: &[f64], b: &[f64], (m, n, k): (usize, usize, usize)) -> Vec<f64> {
    let a_at = |row: usize, kk: usize| match layout {
        Layout::XtDy => a[kk * m + row],
        _ => a[row * k + kk],
    };
    let b_at = |kk: usize, col: usize| match layout {
        Layout::DyWt => b[col * k + kk],
        _ => b[kk * n + col],
    };
    let mut c = vec![0.0; m * n];
    for row in 0..m {
        for col in 0..n {
            c[row * n + col] = (0..k).map(|kk| a_at(row, kk) * b_at(kk, col)).sum();
        }
    }
    c
}

/// Add a bias row to every row of an [m, n] matrix.
pub fn add_bias(c: &mut [f64], bias: &[f64]) {
    for row in c.chunks_mut(bias.len()) {
        for (value, b) in row.iter_mut().zip(bias) {
            *value += b;
        }
    }
}
