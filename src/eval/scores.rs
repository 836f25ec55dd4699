//! Scores from a classifier's outputs: the Inception Score exp(E_x[KL(p(y|x) ‖ p(y))]) with the
//! evaluation classifier in place of Inception, and mode coverage as the histogram of predicted
//! classes compared with the real one by a KL divergence. All in f64.

/// Softmax of each row of logits [n, classes], computed with the max subtracted.
pub fn softmax_rows(logits: &[f32], classes: usize) -> Vec<Vec<f64>> {
    logits
        .chunks_exact(classes)
        .map(|row| {
            let max = row.iter().fold(f32::NEG_INFINITY, |a, &b| a.max(b)) as f64;
            let exps: Vec<f64> = row.iter().map(|&z| (z as f64 - max).exp()).collect();
            let sum: f64 = exps.iter().sum();
            exps.iter().map(|e| e / sum).collect()
        })
        .collect()
}

/// KL(p ‖ q) = Σ p log(p / q) in nats; terms with p = 0 contribute 0. Infinite where q = 0 < p.
pub fn kl_divergence(p: &[f64], q: &[f64]) -> f64 {
    p.iter()
        .zip(q)
        .filter(|(p, _)| **p > 0.0)
        .map(|(p, q)| p * (p / q).ln())
        .sum()
}

/// exp(mean_x KL(p(y|x) ‖ p(y))), p(y) the mean of the rows (Salimans et al. 2016). Between 1
/// (every row the same) and the number of classes (confident rows spread evenly).
pub fn inception_score(probabilities: &[Vec<f64>]) -> f64 {
    let n = probabilities.len();
    if n == 0 {
        return f64::NAN;
    }
    let classes = probabilities[0].len();
    let mut marginal = vec![0.0; classes];
    for row in probabilities {
        for (m, p) in marginal.iter_mut().zip(row) {
            *m += p / n as f64;
        }
    }
    let mean_kl = probabilities
        .iter()
        .map(|row| kl_divergence(row, &marginal))
        .sum::<f64>()
        / n as f64;
    mean_kl.exp()
}

/// How many predictions fall in each class.
pub fn class_histogram(predictions: &[usize], classes: usize) -> Vec<usize> {
    let mut counts = vec![0; classes];
    for &p in predictions {
        if p < classes {
            counts[p] += 1;
        }
    }
    counts
}

/// Class frequencies with one pseudo-count per class (Laplace smoothing), so a class that never
/// occurs has a small positive probability and the KL divergence stays finite.
pub fn smoothed_frequencies(counts: &[usize]) -> Vec<f64> {
    let total = counts.iter().sum::<usize>() as f64 + counts.len() as f64;
    counts.iter().map(|&c| (c as f64 + 1.0) / total).collect()
}

/// KL(real ‖ generated) between predicted-class histograms, both Laplace-smoothed: large when
/// the generator misses classes the real data has (mode dropping), 0 when the histograms agree.
pub fn histogram_kl(real: &[usize], generated: &[usize]) -> f64 {
    kl_divergence(
        &smoothed_frequencies(real),
        &smoothed_frequencies(generated),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn softmax_is_stable_and_normalised() {
        let rows = softmax_rows(&[1000.0, 1000.0, -1000.0, 0.0, 0.0, 0.0], 3);
        assert_eq!(rows[0], vec![0.5, 0.5, 0.0]);
        assert!(rows[1].iter().all(|p| (p - 1.0 / 3.0).abs() < 1e-15));
    }

    #[test]
    fn histogram_counts_and_smoothing() {
        assert_eq!(
            class_histogram(&[0, 2, 2, 1, 2, 7], 3),
            vec![1, 1, 3],
            "out-of-range predictions are dropped"
        );
        assert_eq!(
            smoothed_frequencies(&[1, 1, 3]),
            vec![2.0 / 8.0, 2.0 / 8.0, 4.0 / 8.0]
        );
    }
}
