//! Plain f64 CPU versions of every kernel, written for clarity: the oracle the GPU kernels are
//! tested against, and the base of the finite-difference gradient checks.

pub mod activation;
pub mod augment;
pub mod batch_norm;
pub mod condition;
pub mod conv;
pub mod data;
pub mod loss;
pub mod manifold;
pub mod matmul;
pub mod mlp;
pub mod nearest;
pub mod network;
pub mod optim;
pub mod parzen;
pub mod penalty;
pub mod random;
pub mod reduce;

/// Helpers the references' own unit tests share.
#[cfg(test)]
pub(crate) mod test_util {
    /// A deterministic pseudo-random vector in [−1, 1) (xorshift).
    pub fn values(len: usize, seed: u64) -> Vec<f64> {
        let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        (0..len)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                (state >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
            })
            .collect()
    }

    pub fn dot(a: &[f64], b: &[f64]) -> f64 {
        a.iter().zip(b).map(|(x, y)| x * y).sum()
    }

    /// Central differences of `loss` with step h against the analytic gradient, element by
    /// element, within tolerance·(1 + |numeric|).
    pub fn check_gradient(
        what: &str,
        v: &[f64],
        analytic: &[f64],
        (h, tolerance): (f64, f64),
        loss: impl Fn(&[f64]) -> f64,
    ) {
        assert_eq!(v.len(), analytic.len(), "{what}: length");
        for i in 0..v.len() {
            let mut plus = v.to_vec();
            let mut minus = v.to_vec();
            plus[i] += h;
            minus[i] -= h;
            let numeric = (loss(&plus) - loss(&minus)) / (2.0 * h);
            assert!(
                (numeric - analytic[i]).abs() <= tolerance * (1.0 + numeric.abs()),
                "{what}[{i}]: finite difference {numeric} vs analytic {}",
                analytic[i]
            );
        }
    }
}
