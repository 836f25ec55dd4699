//! Nearest-neighbour tiles (shaders/nearest.wgsl): squared distances from a tile of matmul
//! cross terms, folded into each query's running minimum and its index. `eval::nearest` drives
//! the tiles; `reference::nearest` is the f64 oracle.

use super::expect_len;
use crate::error::Result;
use crate::gpu::{Access, Dispatch, GpuContext, KernelSpec, Tensor, workgroups_1d};

pub use super::parzen::Tile;

/// Mirrors `Params` in shaders/nearest.wgsl.
#[repr(C)]
#[derive(Clone, Copy, Default, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    rows: u32,
    cols: u32,
    row_offset: u32,
    col_offset: u32,
    index_base: u32,
    _pad: [u32; 3],
}

/// Fold one tile into `best_distance` [queries] (f32, smallest squared distance so far) and
/// `best_index` [queries] (u32, its reference index). `cross` is [rows, cols] with cross[r, c]
/// = q_r·x_c; `query_norms` [queries] and `reference_norms` [references] hold the squared norms
/// of the whole sets (or of the reference set's buffer, whose first row is reported as index
/// `index_base`). `first` starts afresh (the first reference tile of these queries).
#[allow(clippy::too_many_arguments)]
pub fn nearest_accumulate(
    ctx: &GpuContext,
    cross: &Tensor,
    query_norms: &Tensor,
    reference_norms: &Tensor,
    (best_distance, best_index): (&Tensor, &Tensor),
    (tile, index_base): (Tile, usize),
    first: bool,
) -> Result<Dispatch> {
    let kernel = "nearest_accumulate";
    let queries = query_norms.len();
    tile.check(kernel, cross, queries, reference_norms.len())?;
    expect_len(kernel, "best_distance", best_distance.len(), queries)?;
    expect_len(kernel, "best_index", best_index.len(), queries)?;
    let params = Params {
        rows: tile.rows as u32,
        cols: tile.cols as u32,
        row_offset: tile.row_offset as u32,
        col_offset: tile.col_offset as u32,
        index_base: (index_base + tile.col_offset) as u32,
        _pad: [0; 3],
    };
    ctx.dispatch(KernelSpec {
        shader: "nearest",
        entry: "nearest_accumulate",
        constants: vec![("FIRST", if first { 1.0 } else { 0.0 })],
        params: bytemuck::bytes_of(&params),
        tensors: vec![
            (cross, Access::Read),
            (query_norms, Access::Read),
            (reference_norms, Access::Read),
            (best_distance, Access::ReadWrite),
            (best_index, Access::ReadWrite),
        ],
        workgroups: workgroups_1d(tile.rows, 64),
    })
}
