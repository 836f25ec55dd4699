//! The tile walk every pairwise-distance evaluation shares (the Parzen window, nearest
//! training images, the k-NN manifolds of precision and recall): squared Euclidean distances
//! ‖q‖² + ‖x‖² − 2q·x with the cross terms q·x from the matmul kernel, one tile of queries × one
//! tile of reference points at a time (a 10,000 × 10,000 distance matrix would be 400 MB, past
//! lavapipe's 128 MiB binding), each tile handed to the caller's accumulate kernel. Tiles run
//! in a fixed order, one submission per tile of queries: deterministic, bounded work per
//! submission.

use crate::error::{Error, Result};
use crate::gpu::{Dispatch, GpuContext, Recorder, Tensor};
use crate::kernels::matmul::{Layout, MatmulOptions, matmul};
use crate::kernels::parzen::Tile;
use crate::kernels::reduce::sum_of_squares_rows;

/// Queries and reference points per tile. The cross-term tile is rows × cols floats (8 MiB by
/// default), and the matmul per tile is large enough to keep any adapter busy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tiling {
    pub rows: usize,
    pub cols: usize,
}

impl Default for Tiling {
    fn default() -> Self {
        Tiling {
            rows: 1024,
            cols: 2048,
        }
    }
}

/// Rows per tile rounded up so that every tile's first row starts on the device's storage
/// offset alignment (tiles are bound as views of the whole set).
pub(crate) fn aligned_rows(ctx: &GpuContext, rows: usize, dim: usize) -> usize {
    let align = (ctx.limits.min_storage_buffer_offset_alignment as usize).max(4);
    let row_bytes = dim * 4;
    let granule = align / gcd(align, row_bytes);
    rows.max(1).div_ceil(granule) * granule
}

fn gcd(a: usize, b: usize) -> usize {
    if b == 0 { a } else { gcd(b, a % b) }
}

/// (rows, cols) of a non-empty [count, dim] tensor; `what` names the evaluation and the set.
pub(crate) fn matrix_shape(what: &str, tensor: &Tensor) -> Result<(usize, usize)> {
    match tensor.shape() {
        [rows, cols] if *rows > 0 && *cols > 0 => Ok((*rows, *cols)),
        shape => Err(Error::Input(format!(
            "{what} must be a non-empty [count, dim] matrix, found shape {shape:?}"
        ))),
    }
}

/// One buffer of a reference set: its rows [n, dim] and their squared norms [n].
pub struct Chunk {
    /// Index of the chunk's first row in the whole set.
    pub first: usize,
    pub rows: Tensor,
    pub norms: Tensor,
}

/// A reference set on the GPU with its squared norms, in one or more buffers.
pub struct RowSet {
    chunks: Vec<Chunk>,
    count: usize,
    dim: usize,
}

impl RowSet {
    /// `values`: rows of `dim` values, uploaded in buffers of at most `chunk_rows` rows (a
    /// whole MNIST training set in f32, 188 MB, is past lavapipe's 128 MiB binding).
    pub fn upload(
        ctx: &GpuContext,
        label: &str,
        values: &[f32],
        dim: usize,
        chunk_rows: usize,
    ) -> Result<RowSet> {
        if dim == 0 || values.is_empty() || !values.len().is_multiple_of(dim) {
            return Err(Error::Input(format!(
                "{label} must be non-empty rows of {dim} values, found {} values",
                values.len()
            )));
        }
        let mut chunks = Vec::new();
        let mut recorder = Recorder::new(ctx);
        for (i, rows) in values.chunks(chunk_rows.max(1) * dim).enumerate() {
            let n = rows.len() / dim;
            let tensor = ctx.upload(label, &[n, dim], rows)?;
            let norms = ctx.zeros(&format!("{label} norms"), &[n])?;
            recorder.record(&sum_of_squares_rows(ctx, &tensor, &norms)?);
            chunks.push(Chunk {
                first: i * chunk_rows.max(1),
                rows: tensor,
                norms,
            });
        }
        recorder.submit()?;
        Ok(RowSet {
            chunks,
            count: values.len() / dim,
            dim,
        })
    }

    /// A set already on the GPU ([n, dim], one buffer) and its norms.
    pub fn from_tensor(ctx: &GpuContext, label: &str, rows: &Tensor) -> Result<RowSet> {
        let (count, dim) = matrix_shape(label, rows)?;
        let norms = ctx.zeros(&format!("{label} norms"), &[count])?;
        let mut recorder = Recorder::new(ctx);
        recorder.record(&sum_of_squares_rows(ctx, rows, &norms)?);
        recorder.submit()?;
        Ok(RowSet {
            chunks: vec![Chunk {
                first: 0,
                rows: rows.clone(),
                norms,
            }],
            count,
            dim,
        })
    }

    pub fn count(&self) -> usize {
        self.count
    }

    pub fn dim(&self) -> usize {
        self.dim
    }

    pub fn chunks(&self) -> &[Chunk] {
        &self.chunks
    }
}

/// One tile of the walk, as the accumulate kernels take it.
pub struct PairTile<'a> {
    /// [rows, cols]: cross[r, c] = q_r·x_c.
    pub cross: &'a Tensor,
    /// ‖q‖² of every query (indexed from `tile.row_offset`).
    pub query_norms: &'a Tensor,
    /// ‖x‖² of the chunk holding the tile's reference points (indexed from `tile.col_offset`).
    pub reference_norms: &'a Tensor,
    /// `rows` queries from `row_offset`; `cols` reference points from `col_offset` in the chunk.
    pub tile: Tile,
    /// Index in the whole reference set of the chunk's first row.
    pub chunk_first: usize,
    /// The first reference tile of these queries: accumulators start afresh.
    pub first: bool,
}

impl PairTile<'_> {
    /// Index in the whole reference set of the tile's first reference point.
    pub fn reference_offset(&self) -> usize {
        self.chunk_first + self.tile.col_offset
    }
}

/// Walk every tile of `queries` ([Q, dim]) × `references`, recording for each the matmul of its
/// cross terms and then the dispatch `accumulate` makes of it. `what` names the evaluation in
/// errors.
pub fn walk_tiles(
    ctx: &GpuContext,
    what: &str,
    queries: &Tensor,
    references: &RowSet,
    tiling: Tiling,
    mut accumulate: impl FnMut(&PairTile<'_>) -> Result<Dispatch>,
) -> Result<()> {
    let (count, dim) = matrix_shape(&format!("{what}: the queries"), queries)?;
    if dim != references.dim {
        return Err(Error::Input(format!(
            "{what}: queries have {dim} values each, the reference set {}",
            references.dim
        )));
    }
    let largest_chunk = references
        .chunks
        .iter()
        .map(|c| c.rows.shape()[0])
        .max()
        .unwrap_or(1);
    let row_tile = aligned_rows(ctx, tiling.rows, dim).min(count);
    let col_tile = aligned_rows(ctx, tiling.cols, dim).min(largest_chunk);
    let query_norms = ctx.zeros(&format!("{what} query norms"), &[count])?;
    let cross = ctx.zeros(&format!("{what} cross terms"), &[row_tile * col_tile])?;
    let mut recorder = Recorder::new(ctx);
    recorder.record(&sum_of_squares_rows(ctx, queries, &query_norms)?);
    recorder.submit()?;
    for row_offset in (0..count).step_by(row_tile) {
        let rows = row_tile.min(count - row_offset);
        let q = queries.view(row_offset * dim, &[rows, dim]);
        let mut recorder = Recorder::new(ctx);
        for chunk in &references.chunks {
            let n = chunk.rows.shape()[0];
            for col_offset in (0..n).step_by(col_tile) {
                let cols = col_tile.min(n - col_offset);
                let x = chunk.rows.view(col_offset * dim, &[cols, dim]);
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
                recorder.record(&accumulate(&PairTile {
                    cross: &c,
                    query_norms: &query_norms,
                    reference_norms: &chunk.norms,
                    tile: Tile {
                        rows,
                        cols,
                        row_offset,
                        col_offset,
                    },
                    chunk_first: chunk.first,
                    first: chunk.first + col_offset == 0,
                })?);
            }
        }
        recorder.submit()?;
    }
    Ok(())
}
