//! k-NN manifold tiles (shaders/manifold.wgsl): from a tile of matmul cross terms, each query's
//! k nearest distances within its own set (`knn_accumulate`), and how many k-NN balls of another
//! set contain it and how many of that set's points its own ball holds (`ball_accumulate`).
//! `eval::manifold` drives the tiles; `reference::manifold` is the f64 oracle.

use super::expect_len;
use crate::error::{Error, Result};
use crate::gpu::{Access, Dispatch, GpuContext, KernelSpec, Tensor, workgroups_1d};

pub use super::parzen::Tile;

/// The most neighbours a point keeps (the shader's register array).
pub const MAX_K: usize = 8;

/// Mirrors `Params` in shaders/manifold.wgsl.
#[repr(C)]
#[derive(Clone, Copy, Default, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    rows: u32,
    cols: u32,
    row_offset: u32,
    col_offset: u32,
    index_base: u32,
    k: u32,
    _pad: [u32; 2],
}

/// Where a tile's reference points sit: `tile.col_offset` in the chunk whose norms are bound,
/// `index_base` the chunk's first row in the whole reference set.
fn params(kernel: &str, tile: Tile, index_base: usize, k: usize) -> Result<Params> {
    if !(1..=MAX_K).contains(&k) {
        return Err(Error::Input(format!(
            "{kernel}: k must be 1 to {MAX_K}, found {k}"
        )));
    }
    Ok(Params {
        rows: tile.rows as u32,
        cols: tile.cols as u32,
        row_offset: tile.row_offset as u32,
        col_offset: tile.col_offset as u32,
        index_base: (index_base + tile.col_offset) as u32,
        k: k as u32,
        _pad: [0; 2],
    })
}

/// Fold one tile of a set against itself into `neighbours` [queries, k] (each row the k
/// smallest squared distances so far, ascending). `cross` is [rows, cols] with cross[r, c] =
/// q_r·x_c; `query_norms` [queries] holds ‖q‖² of the whole set, `reference_norms` ‖x‖² of the
/// buffer holding the tile's reference points, whose first row is point `index_base` of the set
/// (the query with the same index is itself and is skipped). `first` starts afresh.
#[allow(clippy::too_many_arguments)]
pub fn knn_accumulate(
    ctx: &GpuContext,
    cross: &Tensor,
    query_norms: &Tensor,
    reference_norms: &Tensor,
    neighbours: &Tensor,
    (tile, index_base): (Tile, usize),
    k: usize,
    first: bool,
) -> Result<Dispatch> {
    let kernel = "knn_accumulate";
    let queries = query_norms.len();
    tile.check(kernel, cross, queries, reference_norms.len())?;
    let params = params(kernel, tile, index_base, k)?;
    expect_len(kernel, "neighbours", neighbours.len(), queries * k)?;
    ctx.dispatch(KernelSpec {
        shader: "manifold",
        entry: "knn_accumulate",
        constants: vec![("FIRST", if first { 1.0 } else { 0.0 })],
        params: bytemuck::bytes_of(&params),
        tensors: vec![
            (cross, Access::Read),
            (query_norms, Access::Read),
            (reference_norms, Access::Read),
            (neighbours, Access::ReadWrite),
        ],
        workgroups: workgroups_1d(tile.rows, 64),
    })
}

/// Fold one tile of queries × reference points of another set into `counts` [queries, 2] (u32):
/// the reference balls that strictly contain the query (d² < the reference point's k-th
/// neighbour distance²), and the reference points strictly inside the query's own ball.
/// `query_neighbours` [queries, k] and `reference_neighbours` [references, k] are the two sets'
/// `knn_accumulate` results (indexed by the whole set's indices); the rest as `knn_accumulate`.
#[allow(clippy::too_many_arguments)]
pub fn ball_accumulate(
    ctx: &GpuContext,
    cross: &Tensor,
    (query_norms, reference_norms): (&Tensor, &Tensor),
    (query_neighbours, reference_neighbours): (&Tensor, &Tensor),
    counts: &Tensor,
    (tile, index_base): (Tile, usize),
    k: usize,
    first: bool,
) -> Result<Dispatch> {
    let kernel = "ball_accumulate";
    let queries = query_norms.len();
    tile.check(kernel, cross, queries, reference_norms.len())?;
    let params = params(kernel, tile, index_base, k)?;
    expect_len(
        kernel,
        "query_neighbours",
        query_neighbours.len(),
        queries * k,
    )?;
    if reference_neighbours.len() % k != 0
        || (index_base + tile.col_offset + tile.cols) * k > reference_neighbours.len()
    {
        return Err(Error::Input(format!(
            "{kernel}: reference_neighbours has {} elements, too few for reference points up to \
             {} with k = {k}",
            reference_neighbours.len(),
            index_base + tile.col_offset + tile.cols
        )));
    }
    expect_len(kernel, "counts", counts.len(), queries * 2)?;
    ctx.dispatch(KernelSpec {
        shader: "manifold",
        entry: "ball_accumulate",
        constants: vec![("FIRST", if first { 1.0 } else { 0.0 })],
        params: bytemuck::bytes_of(&params),
        tensors: vec![
            (cross, Access::Read),
            (query_norms, Access::Read),
            (reference_norms, Access::Read),
            (query_neighbours, Access::Read),
            (reference_neighbours, Access::Read),
            (counts, Access::ReadWrite),
        ],
        workgroups: workgroups_1d(tile.rows, 64),
    })
}
