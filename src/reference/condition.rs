//! Conditioning in f64: rows with a one-hot label appended, and the image part of a row.

/// Each row of x [rows, cols] followed by the one-hot of its label, each of the `classes`
/// values repeated `repeat` times.
pub fn append_one_hot(
    x: &[f64],
    labels: &[u32],
    cols: usize,
    (classes, repeat): (usize, usize),
) -> Vec<f64> {
    let mut out = Vec::with_capacity(labels.len() * (cols + classes * repeat));
    for (row, &label) in x.chunks(cols).zip(labels) {
        out.extend_from_slice(row);
        for class in 0..classes {
            let value = if label as usize == class { 1.0 } else { 0.0 };
            out.extend(std::iter::repeat_n(value, repeat));
        }
    }
    out
}

/// The first `cols` values of each row of x [rows, width].
pub fn take_columns(x: &[f64], width: usize, cols: usize) -> Vec<f64> {
    x.chunks(width)
        .flat_map(|row| row[..cols].iter().copied())
        .collect()
}
