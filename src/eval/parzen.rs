//! Parzen-window log-likelihood as Goodfellow et al. (2014) reported it (after Breuleux et al.
//! 2011, the authors' `parzen_ll.py`): a Gaussian kernel of width σ on every generator sample,
//! σ chosen from logspace(−1, 0, 10) by the mean log-likelihood of held-out training images,
//! then the mean ± standard error of log p(x) over the test set.
//!
//! On the GPU: ‖x − μ‖² tile by tile (`tiles::walk_tiles`: test points × samples), folded into a
//! running log-sum-exp per test point for every σ at once (shaders/parzen.wgsl).

use serde::Serialize;

use super::tiles::{RowSet, Tiling, matrix_shape, walk_tiles};
use crate::error::{Error, Result};
use crate::gpu::{GpuContext, Tensor};
use crate::kernels::parzen::parzen_accumulate;

/// The paper's σ grid: 10 values log-spaced from 0.1 to 1.
pub fn paper_sigmas() -> Vec<f64> {
    (0..10).map(|i| 10f64.powf(-1.0 + i as f64 / 9.0)).collect()
}

/// Generator samples on the GPU with their squared norms, ready to score test points.
pub struct ParzenWindow {
    samples: RowSet,
}

impl ParzenWindow {
    /// `samples`: [N, d] generator samples (pixels in [0, 1] for the paper's numbers).
    pub fn new(ctx: &GpuContext, samples: &Tensor) -> Result<ParzenWindow> {
        matrix_shape("Parzen window: the samples", samples)?;
        Ok(ParzenWindow {
            samples: RowSet::from_tensor(ctx, "parzen samples", samples)?,
        })
    }

    pub fn count(&self) -> usize {
        self.samples.count()
    }

    /// log p(x) of every row of `points` ([P, d]) for every σ: result[k][p] for sigmas[k].
    pub fn log_likelihoods(
        &self,
        ctx: &GpuContext,
        points: &Tensor,
        sigmas: &[f64],
        tiling: Tiling,
    ) -> Result<Vec<Vec<f64>>> {
        let (count, dim) = matrix_shape("Parzen window: the test points", points)?;
        if dim != self.samples.dim() {
            return Err(Error::Input(format!(
                "Parzen window: test points have {dim} values each, the samples {}",
                self.samples.dim()
            )));
        }
        if sigmas.is_empty() || sigmas.iter().any(|s| !(s.is_finite() && *s > 0.0)) {
            return Err(Error::Input(format!(
                "Parzen window: σ values must be positive and finite, found {sigmas:?}"
            )));
        }
        let inverse: Vec<f32> = sigmas
            .iter()
            .map(|s| (1.0 / (2.0 * s * s)) as f32)
            .collect();
        let inverse = ctx.upload("parzen 1/(2σ²)", &[sigmas.len()], &inverse)?;
        let state = ctx.zeros("parzen state", &[count, 1 + sigmas.len()])?;
        walk_tiles(ctx, "Parzen window", points, &self.samples, tiling, |t| {
            parzen_accumulate(
                ctx,
                t.cross,
                t.query_norms,
                t.reference_norms,
                &inverse,
                &state,
                t.tile,
                t.first,
            )
        })?;
        let state = ctx.read_f32(&state)?;
        let log_n = (self.count() as f64).ln();
        Ok(sigmas
            .iter()
            .enumerate()
            .map(|(k, &sigma)| {
                let c = 1.0 / (2.0 * sigma * sigma);
                let normaliser =
                    log_n + 0.5 * dim as f64 * (2.0 * std::f64::consts::PI * sigma * sigma).ln();
                state
                    .chunks_exact(1 + sigmas.len())
                    .map(|s| -(s[0] as f64) * c + (s[1 + k] as f64).ln() - normaliser)
                    .collect()
            })
            .collect())
    }
}

/// Mean and standard error (population std / √n, as parzen_ll.py computes it).
pub fn mean_and_standard_error(values: &[f64]) -> (f64, f64) {
    let n = values.len().max(1) as f64;
    let mean = values.iter().sum::<f64>() / n;
    let variance = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
    (mean, variance.sqrt() / n.sqrt())
}

/// One σ of the search with its mean log-likelihood on the held-out images.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SigmaScore {
    pub sigma: f64,
    pub mean_log_likelihood: f64,
}

/// The reported Parzen estimate.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ParzenReport {
    /// The σ with the best held-out mean log-likelihood.
    pub sigma: f64,
    /// Mean log p(x) over the test points (nats), and its standard error.
    pub mean: f64,
    pub standard_error: f64,
    pub samples: usize,
    pub validation_points: usize,
    pub test_points: usize,
    pub sigma_search: Vec<SigmaScore>,
}

/// σ by the held-out (validation) points, then the estimate on the test points.
pub fn parzen_estimate(
    ctx: &GpuContext,
    window: &ParzenWindow,
    validation: &Tensor,
    test: &Tensor,
    sigmas: &[f64],
    tiling: Tiling,
) -> Result<ParzenReport> {
    let search = window.log_likelihoods(ctx, validation, sigmas, tiling)?;
    let sigma_search: Vec<SigmaScore> = sigmas
        .iter()
        .zip(&search)
        .map(|(&sigma, values)| SigmaScore {
            sigma,
            mean_log_likelihood: mean_and_standard_error(values).0,
        })
        .collect();
    let best = sigma_search
        .iter()
        .filter(|s| s.mean_log_likelihood.is_finite())
        .max_by(|a, b| a.mean_log_likelihood.total_cmp(&b.mean_log_likelihood))
        .ok_or_else(|| {
            Error::Input("Parzen window: no σ gave a finite validation log-likelihood".into())
        })?
        .sigma;
    let test_values = window.log_likelihoods(ctx, test, &[best], tiling)?;
    let (mean, standard_error) = mean_and_standard_error(&test_values[0]);
    Ok(ParzenReport {
        sigma: best,
        mean,
        standard_error,
        samples: window.count(),
        validation_points: validation.shape()[0],
        test_points: test.shape()[0],
        sigma_search,
    })
}
