//! Precision and recall (Kynkäänniemi et al. 2019, "Improved precision and recall metric for
//! assessing generative models") and density and coverage (Naeem et al. 2020, "Reliable
//! fidelity and diversity metrics for generative models") of a generated feature set against a
//! real one, through k-NN manifolds: each point's ball reaches its k-th nearest neighbour in its
//! own set (itself excluded). With real X_1..N and generated Y_1..M:
//!   precision = share of Y inside at least one real ball (fidelity),
//!   recall    = share of X inside at least one generated ball (diversity),
//!   density   = real balls containing each Y, summed, over kM (≈ 1 when the sets match),
//!   coverage  = share of real balls with at least one Y inside.
//! "Inside" is strictly inside (distance < radius), as the published code of Naeem et al.
//! (clovaai/generative-evaluation-prdc) computes all four: for continuous features ties have
//! probability zero, and for a set compared with itself it gives density exactly 1.
//!
//! On the GPU (shaders/manifold.wgsl): the distances come tile by tile from the matmul kernel
//! (`tiles::walk_tiles`); `knn_accumulate` keeps each point's k nearest distances in its own
//! set, `ball_accumulate` counts balls per point. The host only adds up the per-point counts.

use serde::Serialize;

use super::tiles::{RowSet, Tiling, walk_tiles};
use crate::error::{Error, Result};
use crate::gpu::{GpuContext, Tensor};
use crate::kernels::manifold::{MAX_K, ball_accumulate, knn_accumulate};

/// k of the k-NN balls: 3, as both papers recommend.
pub const DEFAULT_K: usize = 3;

/// Real and generated features per set by default: 2,000 each (2,000 × 2,000 distances of
/// 128 features are a fraction of a second even on lavapipe; both papers used more, and the
/// scores depend on the set size, so compare runs at one size).
pub const DEFAULT_SAMPLES: usize = 2_000;

/// The flags' checks, shared by `eval` (`prefix` "--") and `train --eval-every` ("--eval-"):
/// k from 1 to 8, and each set (`pr_samples`, at most `samples` generated ones) larger than k.
/// `pr_samples` 0 turns the scores off.
pub fn check_flags(prefix: &str, pr_samples: usize, k: usize, samples: usize) -> Result<()> {
    if !(1..=MAX_K).contains(&k) {
        return Err(Error::Input(format!(
            "{prefix}pr-k {k}: the k-NN balls' k must be 1 to {MAX_K}"
        )));
    }
    if pr_samples == 0 {
        return Ok(());
    }
    for (flag, value) in [("pr-samples", pr_samples), ("samples", samples)] {
        if value <= k {
            return Err(Error::Input(format!(
                "{prefix}{flag} {value}: precision/recall with {prefix}pr-k {k} need more than \
                 {k} points in each set (or {prefix}pr-samples 0 to skip them)"
            )));
        }
    }
    Ok(())
}

/// A feature set on the GPU with every point's k nearest distances within the set.
pub struct Manifold {
    points: Tensor,
    set: RowSet,
    /// [count, k] squared distances, ascending; the last of each row is the ball's radius².
    neighbours: Tensor,
    k: usize,
}

impl Manifold {
    /// `features`: rows of `dim` values, more than k of them.
    pub fn new(
        ctx: &GpuContext,
        features: &[f32],
        dim: usize,
        k: usize,
        tiling: Tiling,
    ) -> Result<Manifold> {
        if !(1..=MAX_K).contains(&k) {
            return Err(Error::Input(format!(
                "k-NN manifold: k must be 1 to {MAX_K}, found {k}"
            )));
        }
        let count = features.len() / dim.max(1);
        if dim == 0 || count * dim != features.len() || count <= k {
            return Err(Error::Input(format!(
                "k-NN manifold: k = {k} needs more than {k} feature vectors of {dim} values \
                 in each set, found {} values",
                features.len()
            )));
        }
        let points = ctx.upload("manifold points", &[count, dim], features)?;
        let set = RowSet::from_tensor(ctx, "manifold points", &points)?;
        let neighbours = ctx.zeros("manifold neighbours", &[count, k])?;
        walk_tiles(ctx, "k-NN manifold", &points, &set, tiling, |t| {
            knn_accumulate(
                ctx,
                t.cross,
                t.query_norms,
                t.reference_norms,
                &neighbours,
                (t.tile, t.chunk_first),
                k,
                t.first,
            )
        })?;
        Ok(Manifold {
            points,
            set,
            neighbours,
            k,
        })
    }

    pub fn count(&self) -> usize {
        self.set.count()
    }

    pub fn k(&self) -> usize {
        self.k
    }

    /// Each point's squared distance to its k-th nearest neighbour (the ball's radius²).
    pub fn squared_radii(&self, ctx: &GpuContext) -> Result<Vec<f64>> {
        Ok(ctx
            .read_f32(&self.neighbours)?
            .chunks_exact(self.k)
            .map(|row| row[self.k - 1] as f64)
            .collect())
    }
}

/// Per-point counts of one comparison: for each point, (balls of the other set that strictly
/// contain it, points of the other set strictly inside its own ball).
#[derive(Clone, Debug, PartialEq)]
pub struct BallCounts {
    pub generated: Vec<(u32, u32)>,
    pub real: Vec<(u32, u32)>,
    pub k: usize,
}

/// For each point of `queries`, its counts against `references`' balls.
fn counts_against(
    ctx: &GpuContext,
    queries: &Manifold,
    references: &Manifold,
    tiling: Tiling,
) -> Result<Vec<(u32, u32)>> {
    let counts = ctx.zeros("manifold ball counts", &[queries.count(), 2])?;
    walk_tiles(
        ctx,
        "k-NN manifold",
        &queries.points,
        &references.set,
        tiling,
        |t| {
            ball_accumulate(
                ctx,
                t.cross,
                (t.query_norms, t.reference_norms),
                (&queries.neighbours, &references.neighbours),
                &counts,
                (t.tile, t.chunk_first),
                queries.k,
                t.first,
            )
        },
    )?;
    Ok(ctx
        .read_u32(&counts)?
        .chunks_exact(2)
        .map(|c| (c[0], c[1]))
        .collect())
}

/// The ball counts of `generated` against `real` and of `real` against `generated`.
pub fn ball_counts(
    ctx: &GpuContext,
    real: &Manifold,
    generated: &Manifold,
    tiling: Tiling,
) -> Result<BallCounts> {
    if real.k != generated.k || real.set.dim() != generated.set.dim() {
        return Err(Error::Input(format!(
            "k-NN manifold: the real set has k = {} and {} features, the generated set k = {} \
             and {}",
            real.k,
            real.set.dim(),
            generated.k,
            generated.set.dim()
        )));
    }
    Ok(BallCounts {
        generated: counts_against(ctx, generated, real, tiling)?,
        real: counts_against(ctx, real, generated, tiling)?,
        k: real.k,
    })
}

/// The four scores of one generated set against one real set.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ManifoldScores {
    /// Real and generated feature vectors compared, and the balls' k.
    pub real: usize,
    pub generated: usize,
    pub k: usize,
    pub precision: f64,
    pub recall: f64,
    pub density: f64,
    pub coverage: f64,
}

impl BallCounts {
    pub fn scores(&self) -> ManifoldScores {
        let share = |points: &[(u32, u32)], hit: fn(&(u32, u32)) -> bool| {
            points.iter().filter(|c| hit(c)).count() as f64 / points.len().max(1) as f64
        };
        let (n, m) = (self.real.len(), self.generated.len());
        let in_real_balls: u64 = self.generated.iter().map(|c| c.0 as u64).sum();
        ManifoldScores {
            real: n,
            generated: m,
            k: self.k,
            precision: share(&self.generated, |c| c.0 > 0),
            recall: share(&self.real, |c| c.0 > 0),
            density: in_real_balls as f64 / (self.k * m.max(1)) as f64,
            coverage: share(&self.real, |c| c.1 > 0),
        }
    }
}

/// Precision, recall, density and coverage of `generated` against `real`.
pub fn compare(
    ctx: &GpuContext,
    real: &Manifold,
    generated: &Manifold,
    tiling: Tiling,
) -> Result<ManifoldScores> {
    Ok(ball_counts(ctx, real, generated, tiling)?.scores())
}
