//! The Fréchet distance between two Gaussians fitted to feature sets (FID when the features are
//! a classifier's penultimate activations):
//!   d² = ‖μ₁ − μ₂‖² + tr(Σ₁ + Σ₂ − 2(Σ₁^{1/2} Σ₂ Σ₁^{1/2})^{1/2}).
//! Everything is f64. The matrix square roots come from symmetric eigendecompositions: Σ₁^{1/2}
//! from Σ₁'s, and the trace of (Σ₁^{1/2} Σ₂ Σ₁^{1/2})^{1/2} as the sum of the square roots of that
//! symmetric positive semi-definite matrix's eigenvalues (the product Σ₁Σ₂ itself is not
//! symmetric, which is why pytorch-fid needs a general sqrtm; this form does not).

use nalgebra::{DMatrix, DVector};
use serde::Serialize;

use crate::error::{Error, Result};

/// Mean and covariance of a feature set.
#[derive(Clone, Debug, PartialEq)]
pub struct GaussianStats {
    pub count: usize,
    pub mean: DVector<f64>,
    pub covariance: DMatrix<f64>,
}

impl GaussianStats {
    /// From `features` ([count, dim] row-major); the covariance divides by count − 1 (as
    /// numpy.cov, which pytorch-fid uses).
    pub fn from_features(features: &[f32], dim: usize) -> Result<GaussianStats> {
        let count = features.len() / dim.max(1);
        if dim == 0 || count < 2 || count * dim != features.len() {
            return Err(Error::Input(format!(
                "FID: needs at least two feature vectors of {dim} values, found {} values",
                features.len()
            )));
        }
        let mut mean = DVector::<f64>::zeros(dim);
        for row in features.chunks_exact(dim) {
            for (m, &v) in mean.iter_mut().zip(row) {
                *m += v as f64;
            }
        }
        mean /= count as f64;
        // Centred data as a [dim, count] matrix, then one product: C = X Xᵀ / (n − 1).
        let centred =
            DMatrix::<f64>::from_fn(dim, count, |i, j| features[j * dim + i] as f64 - mean[i]);
        let mut covariance = &centred * centred.transpose();
        covariance /= (count - 1) as f64;
        Ok(GaussianStats {
            count,
            mean,
            covariance,
        })
    }

    pub fn dim(&self) -> usize {
        self.mean.len()
    }
}

/// Eigenvalues and eigenvectors of a symmetric matrix (symmetrised first against rounding).
fn symmetric_eigen(matrix: &DMatrix<f64>) -> nalgebra::SymmetricEigen<f64, nalgebra::Dyn> {
    let symmetric = (matrix + matrix.transpose()) * 0.5;
    symmetric.symmetric_eigen()
}

/// The principal square root of a symmetric positive semi-definite matrix; eigenvalues that
/// rounding pushed slightly below zero count as zero.
pub fn symmetric_sqrt(matrix: &DMatrix<f64>) -> DMatrix<f64> {
    let eigen = symmetric_eigen(matrix);
    let roots = eigen.eigenvalues.map(|l| l.max(0.0).sqrt());
    &eigen.eigenvectors * DMatrix::from_diagonal(&roots) * eigen.eigenvectors.transpose()
}

/// tr((Σ₁^{1/2} Σ₂ Σ₁^{1/2})^{1/2}).
pub fn trace_sqrt_product(a: &DMatrix<f64>, b: &DMatrix<f64>) -> f64 {
    let root = symmetric_sqrt(a);
    let inner = &root * b * &root;
    symmetric_eigen(&inner)
        .eigenvalues
        .iter()
        .map(|l| l.max(0.0).sqrt())
        .sum()
}

/// The squared Fréchet distance between N(μ₁, Σ₁) and N(μ₂, Σ₂). Tiny negative results of
/// rounding (identical sets) are reported as 0.
pub fn frechet_distance(a: &GaussianStats, b: &GaussianStats) -> Result<f64> {
    if a.dim() != b.dim() {
        return Err(Error::Input(format!(
            "FID: feature sets of {} and {} dimensions",
            a.dim(),
            b.dim()
        )));
    }
    let mean_term = (&a.mean - &b.mean).norm_squared();
    let trace = a.covariance.trace() + b.covariance.trace()
        - 2.0 * trace_sqrt_product(&a.covariance, &b.covariance);
    Ok((mean_term + trace).max(0.0))
}

/// FID with the sizes of the two sets it came from (its bias grows like 1/n).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FidScore {
    pub fid: f64,
    pub count_a: usize,
    pub count_b: usize,
}
