//! Nearest training examples on the GPU (the paper's Figure 2 memorisation check): squared
//! Euclidean distances through the matmul kernel, tile by tile, each query keeping its
//! nearest reference point. A generator that copies training images has samples nearer to the
//! training set than the test images are.

use serde::Serialize;

use super::parzen::{Tiling, aligned_rows};
use crate::error::{Error, Result};
use crate::gpu::{GpuContext, Recorder, Tensor};
use crate::kernels::matmul::{Layout, MatmulOptions, matmul};
use crate::kernels::nearest::{Tile, nearest_accumulate};
use crate::kernels::reduce::sum_of_squares_rows;

/// A reference set (training examples) on the GPU with its squared norms, in chunks of at most
/// `CHUNK_ROWS` rows (each its own buffer: a whole MNIST training set in f32, 188 MB, is past
/// lavapipe's 128 MiB binding).
pub struct NearestSearch {
    /// (first row, rows [n, d], their squared norms [n]).
    chunks: Vec<(usize, Tensor, Tensor)>,
    count: usize,
    dim: usize,
}

/// Reference rows per chunk (and per tile): 2048 MNIST images are 6.4 MB.
pub const CHUNK_ROWS: usize = 2048;

/// A query's nearest reference point.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Neighbour {
    pub squared_distance: f64,
    pub index: usize,
}

fn matrix_shape(what: &str, tensor: &Tensor) -> Result<(usize, usize)> {
    match tensor.shape() {
        [rows, cols] if *rows > 0 && *cols > 0 => Ok((*rows, *cols)),
        shape => Err(Error::Input(format!(
            "nearest neighbours: {what} must be a non-empty [count, dim] matrix, found shape \
             {shape:?}"
        ))),
    }
}

impl NearestSearch {
    /// `references`: N rows of `dim` values, uploaded chunk by chunk.
    pub fn new(ctx: &GpuContext, references: &[f32], dim: usize) -> Result<NearestSearch> {
        if dim == 0 || references.is_empty() || !references.len().is_multiple_of(dim) {
            return Err(Error::Input(format!(
                "nearest neighbours: the reference set must be non-empty rows of {dim} values, \
                 found {} values",
                references.len()
            )));
        }
        let count = references.len() / dim;
        let mut chunks = Vec::new();
        let mut recorder = Recorder::new(ctx);
        for (i, rows) in references.chunks(CHUNK_ROWS * dim).enumerate() {
            let n = rows.len() / dim;
            let tensor = ctx.upload("nearest references", &[n, dim], rows)?;
            let norms = ctx.zeros("nearest reference norms", &[n])?;
            recorder.record(&sum_of_squares_rows(ctx, &tensor, &norms)?);
            chunks.push((i * CHUNK_ROWS, tensor, norms));
        }
        recorder.submit()?;
        Ok(NearestSearch { chunks, count, dim })
    }

    /// Reference points.
    pub fn count(&self) -> usize {
        self.count
    }

    /// The nearest reference point of every row of `queries` ([Q, d]).
    pub fn search(
        &self,
        ctx: &GpuContext,
        queries: &Tensor,
        tiling: Tiling,
    ) -> Result<Vec<Neighbour>> {
        let (count, dim) = matrix_shape("the queries", queries)?;
        if dim != self.dim {
            return Err(Error::Input(format!(
                "nearest neighbours: queries have {dim} values each, the reference set {}",
                self.dim
            )));
        }
        let row_tile = aligned_rows(ctx, tiling.rows, dim).min(count);
        let col_tile = aligned_rows(ctx, tiling.cols, dim).min(CHUNK_ROWS);
        let query_norms = ctx.zeros("nearest query norms", &[count])?;
        let best_distance = ctx.zeros("nearest distances", &[count])?;
        let best_index = ctx.zeros("nearest indices", &[count])?;
        let cross = ctx.zeros("nearest cross terms", &[row_tile * col_tile])?;
        let mut recorder = Recorder::new(ctx);
        recorder.record(&sum_of_squares_rows(ctx, queries, &query_norms)?);
        recorder.submit()?;
        for row_offset in (0..count).step_by(row_tile) {
            let rows = row_tile.min(count - row_offset);
            let q = queries.view(row_offset * dim, &[rows, dim]);
            let mut recorder = Recorder::new(ctx);
            let tiles = self.chunks.iter().flat_map(|(first, tensor, norms)| {
                let n = tensor.shape()[0];
                (0..n)
                    .step_by(col_tile)
                    .map(move |start| (*first, start, col_tile.min(n - start), tensor, norms))
            });
            for (chunk_first, start, cols, tensor, norms) in tiles {
                let x = tensor.view(start * dim, &[cols, dim]);
                let c = cross.view(0, &[rows, cols]);
                recorder.record(&matmul(
                    ctx,
                    Layout::DyWt,
                    &q,
                    &x,
                    &c,
                    (rows, cols, dim),
                    MatmulOptions::default(),
                )?);
                // The chunk's norms from `start`; indices counted from the chunk's first row.
                let tile = Tile {
                    rows,
                    cols,
                    row_offset,
                    col_offset: start,
                };
                recorder.record(&nearest_accumulate(
                    ctx,
                    &c,
                    &query_norms,
                    norms,
                    (&best_distance, &best_index),
                    (tile, chunk_first),
                    chunk_first + start == 0,
                )?);
            }
            recorder.submit()?;
        }
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
