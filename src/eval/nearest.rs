//! Nearest training examples on the GPU (the paper's Figure 2 memorisation check): squared
//! Euclidean distances through the matmul kernel, tile by tile, each query keeping its
//! nearest reference point. A generator that copies training images has samples nearer to the
//! training set than the test images are.

use serde::Serialize;

use super::tiles::{RowSet, Tiling, matrix_shape, walk_tiles};
use crate::error::{Error, Result};
use crate::gpu::{GpuContext, Tensor};
use crate::kernels::nearest::nearest_accumulate;

/// A reference set (training examples) on the GPU with its squared norms, in buffers of at most
/// `CHUNK_ROWS` rows (a whole MNIST training set in f32, 188 MB, is past lavapipe's 128 MiB
/// binding).
pub struct NearestSearch {
    references: RowSet,
}

/// Reference rows per chunk (and per tile): 2048 MNIST images are 6.4 MB.
pub const CHUNK_ROWS: usize = 2048;

/// A query's nearest reference point.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Neighbour {
    pub squared_distance: f64,
    pub index: usize,
}

impl NearestSearch {
    /// `references`: N rows of `dim` values, uploaded chunk by chunk.
    pub fn new(ctx: &GpuContext, references: &[f32], dim: usize) -> Result<NearestSearch> {
        Ok(NearestSearch {
            references: RowSet::upload(
                ctx,
                "nearest neighbours: the reference set",
                references,
                dim,
                CHUNK_ROWS,
            )?,
        })
    }

    /// Reference points.
    pub fn count(&self) -> usize {
        self.references.count()
    }

    /// The nearest reference point of every row of `queries` ([Q, d]).
    pub fn search(
        &self,
        ctx: &GpuContext,
        queries: &Tensor,
        tiling: Tiling,
    ) -> Result<Vec<Neighbour>> {
        let (count, dim) = matrix_shape("nearest neighbours: the queries", queries)?;
        if dim != self.references.dim() {
            return Err(Error::Input(format!(
                "nearest neighbours: queries have {dim} values each, the reference set {}",
                self.references.dim()
            )));
        }
        let best_distance = ctx.zeros("nearest distances", &[count])?;
        let best_index = ctx.zeros("nearest indices", &[count])?;
        walk_tiles(
            ctx,
            "nearest neighbours",
            queries,
            &self.references,
            tiling,
            |t| {
                // The chunk's norms from `col_offset`; indices counted from the chunk's first row.
                nearest_accumulate(
                    ctx,
                    t.cross,
                    t.query_norms,
                    t.reference_norms,
                    (&best_distance, &best_index),
                    (t.tile, t.chunk_first),
                    t.first,
                )
            },
        )?;
        let distances = ctx.read_f32(&best_distance)?;
        let indices = ctx.read_u32(&best_index)?;
        Ok(distances
            .iter()
            .zip(&indices)
            .map(|(&d, &i)| Neighbour {
                squared_distance: d as f64,
                index: i as usize,
            })
            .collect())
    }
}

/// `eval`'s memorisation check: the mean Euclidean distance to the nearest training image, of
/// generated samples and of test images (pixels in [0, 1]).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NearestReport {
    pub training_images: usize,
    pub samples: usize,
    pub generated_mean_distance: f64,
    pub test_images: usize,
    pub test_mean_distance: f64,
}

/// The mean of √d² over `neighbours`.
pub fn mean_distance(neighbours: &[Neighbour]) -> f64 {
    neighbours
        .iter()
        .map(|n| n.squared_distance.sqrt())
        .sum::<f64>()
        / neighbours.len().max(1) as f64
}
