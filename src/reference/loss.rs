//! Losses and their gradients: binary cross-entropy on logits and softmax cross-entropy.

/// log(1 + exp(x)) without overflow.
fn softplus(x: f64) -> f64 {
    x.max(0.0) + (-x.abs()).exp().ln_1p()
}

fn sigmoid(x: f64) -> f64 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

/// mean_b −[t·log σ(z) + (1 − t)·log(1 − σ(z))] = mean_b [softplus(z) − t·z].
pub fn bce_with_logits(logits: &[f64], target: f64) -> f64 {
    logits
        .iter()
        .map(|&z| softplus(z) - target * z)
        .sum::<f64>()
        / logits.len() as f64
}

/// mean_b σ(z_b): the discriminator's average output probability.
pub fn mean_probability(logits: &[f64]) -> f64 {
    logits.iter().map(|&z| sigmoid(z)).sum::<f64>() / logits.len() as f64
}

/// d(scale · bce_with_logits)/dz_b = scale · (σ(z_b) − t) / B.
pub fn bce_with_logits_backward(logits: &[f64], target: f64, scale: f64) -> Vec<f64> {
    let batch = logits.len() as f64;
    logits
        .iter()
        // σ(z) − t written as (1 − t)σ(z) − tσ(−z) so it keeps precision when σ(z) ≈ t.
        .map(|&z| scale * ((1.0 - target) * sigmoid(z) - target * sigmoid(-z)) / batch)
        .collect()
}

/// log Σ_j exp(z_j) of one row, with the maximum subtracted first.
fn log_sum_exp(row: &[f64]) -> f64 {
    let m = row.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    m + row.iter().map(|&z| (z - m).exp()).sum::<f64>().ln()
}

/// mean over rows of −log softmax(z)[label], logits row-major [B, classes]; labels ≥ classes
/// count as classes − 1 (as the kernel clamps them).
pub fn softmax_cross_entropy(logits: &[f64], labels: &[u32], classes: usize) -> f64 {
    let rows = logits.chunks(classes);
    let total: f64 = rows
        .zip(labels)
        .map(|(row, &label)| log_sum_exp(row) - row[(label as usize).min(classes - 1)])
        .sum();
    total / labels.len() as f64
}

/// (softmax(z) − onehot(label)) / B, row-major [B, classes].
pub fn softmax_cross_entropy_backward(logits: &[f64], labels: &[u32], classes: usize) -> Vec<f64> {
    let batch = labels.len() as f64;
    let mut gradient = Vec::with_capacity(logits.len());
    for (row, &label) in logits.chunks(classes).zip(labels) {
        let label = (label as usize).min(classes - 1);
        let lse = log_sum_exp(row);
        for (j, &z) in row.iter().enumerate() {
            let onehot = if j == label { 1.0 } else { 0.0 };
            gradient.push(((z - lse).exp() - onehot) / batch);
        }
    }
    gradient
}
