//! Parzen-window log-likelihood computed directly in f64: ‖x − μ‖² summed elementwise (no
//! cancellation), then a max-subtracted log-sum-exp. The oracle for shaders/parzen.wgsl and the
//! tiled GPU driver in `eval::parzen`.

/// log p(x) = logsumexp_j(−‖x − μ_j‖²/(2σ²)) − log N − (d/2)·log(2πσ²) for every test point
/// (rows of `points`, [P, d]) given the samples (rows of `samples`, [N, d]); one vector per σ.
pub fn parzen_log_likelihood(
    points: &[f64],
    samples: &[f64],
    dim: usize,
    sigmas: &[f64],
) -> Vec<Vec<f64>> {
    let n = samples.len() / dim;
    let distances: Vec<Vec<f64>> = points
        .chunks_exact(dim)
        .map(|x| {
            samples
                .chunks_exact(dim)
                .map(|mu| x.iter().zip(mu).map(|(a, b)| (a - b) * (a - b)).sum())
                .collect()
        })
        .collect();
    sigmas
        .iter()
        .map(|&sigma| {
            let c = 1.0 / (2.0 * sigma * sigma);
            let norm = (n as f64).ln()
                + 0.5 * dim as f64 * (2.0 * std::f64::consts::PI * sigma * sigma).ln();
            distances
                .iter()
                .map(|d2| log_sum_exp(d2.iter().map(|d| -d * c)) - norm)
                .collect()
        })
        .collect()
}

/// log Σ exp(v), stable: the largest term is factored out.
pub fn log_sum_exp(values: impl Iterator<Item = f64> + Clone) -> f64 {
    let max = values.clone().fold(f64::NEG_INFINITY, f64::max);
    if max == f64::NEG_INFINITY {
        return max;
    }
    max + values.map(|v| (v - max).exp()).sum::<f64>().ln()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One sample: log p is the log density of N(μ, σ²I) at x, in closed form.
    #[test]
    fn single_sample_is_a_gaussian_density() {
        let (x, mu, sigma) = ([0.3, -1.0], [0.5, 0.0], 0.7f64);
        let ll = parzen_log_likelihood(&x, &mu, 2, &[sigma]);
        let d2: f64 = 0.2f64.powi(2) + 1.0;
        let expected =
            -d2 / (2.0 * sigma * sigma) - (2.0 * std::f64::consts::PI * sigma * sigma).ln();
        assert!(
            (ll[0][0] - expected).abs() < 1e-12,
            "{} vs {expected}",
            ll[0][0]
        );
    }

    /// Two samples at the same place count like one: the −log N cancels the doubled sum.
    #[test]
    fn duplicated_samples_change_nothing() {
        let x = [0.1, 0.2, 0.3];
        let one = parzen_log_likelihood(&x, &[1.0, 0.0, -1.0], 3, &[0.2, 2.0]);
        let two = parzen_log_likelihood(&x, &[1.0, 0.0, -1.0, 1.0, 0.0, -1.0], 3, &[0.2, 2.0]);
        for (a, b) in one.iter().zip(&two) {
            assert!((a[0] - b[0]).abs() < 1e-12);
        }
        // Far terms: exp(−1e4) underflows, the max-subtraction keeps the result finite.
        assert!((log_sum_exp([-1e4, -1e4].into_iter()) - (-1e4 + 2f64.ln())).abs() < 1e-9);
    }
}
