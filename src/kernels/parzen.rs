//! Parzen-window log-likelihood tiles (shaders/parzen.wgsl): squared distances from a tile of
//! matmul cross terms, folded into a running log-sum-exp per test point for several σ at once;
//! and an elementwise affine map (generator output range → pixels in [0, 1]).
//! `eval::parzen` drives the tiles; `reference::parzen` is the f64 oracle.

use super::expect_len;
use crate::error::{Error, Result};
use crate::gpu::{Access, Dispatch, GpuContext, KernelSpec, Tensor, workgroups_1d};

/// Mirrors `Params` in shaders/parzen.wgsl.
#[repr(C)]
#[derive(Clone, Copy, Default, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    rows: u32,
    cols: u32,
    row_offset: u32,
    col_offset: u32,
    sigmas: u32,
    n: u32,
    scale: f32,
    shift: f32,
}

/// Where a tile sits: `rows` test points from `row_offset`, `cols` samples from `col_offset`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tile {
    pub rows: usize,
    pub cols: usize,
    pub row_offset: usize,
    pub col_offset: usize,
}

impl Tile {
    /// The checks every tile kernel (Parzen, nearest neighbour, k-NN manifold) makes: a
    /// non-empty tile, `cross` [rows, cols], and the tile inside the `queries` query rows and
    /// the `references` reference points whose norms are bound.
    pub fn check(
        &self,
        kernel: &str,
        cross: &Tensor,
        queries: usize,
        references: usize,
    ) -> Result<()> {
        if self.rows == 0 || self.cols == 0 {
            return Err(Error::Input(format!(
                "{kernel}: needs at least one query and reference point (found {}, {})",
                self.rows, self.cols
            )));
        }
        expect_len(kernel, "cross", cross.len(), self.rows * self.cols)?;
        if self.row_offset + self.rows > queries || self.col_offset + self.cols > references {
            return Err(Error::Input(format!(
                "{kernel}: tile {self:?} reaches past {queries} queries or {references} \
                 reference points"
            )));
        }
        Ok(())
    }
}

/// Fold one tile into `state` ([points, 1 + K]: running minimum squared distance, then per σ
/// the sum of exp(−(d² − min)/(2σ²))). `cross` is [rows, cols] with cross[r, c] = x_r·μ_c
/// (the matmul of the tile's points by its samples transposed); `point_norms` [points] and
/// `sample_norms` [samples] hold ‖x‖² and ‖μ‖² of the whole sets; `inv_two_sigma_sq` [K]
/// holds 1/(2σ_k²). `first` starts the state afresh (the first sample tile of these points).
#[allow(clippy::too_many_arguments)]
pub fn parzen_accumulate(
    ctx: &GpuContext,
    cross: &Tensor,
    point_norms: &Tensor,
    sample_norms: &Tensor,
    inv_two_sigma_sq: &Tensor,
    state: &Tensor,
    tile: Tile,
    first: bool,
) -> Result<Dispatch> {
    let kernel = "parzen_accumulate";
    let sigmas = inv_two_sigma_sq.len();
    if sigmas == 0 {
        return Err(Error::Input(format!("{kernel}: needs at least one σ")));
    }
    let points = point_norms.len();
    tile.check(kernel, cross, points, sample_norms.len())?;
    expect_len(kernel, "state", state.len(), points * (1 + sigmas))?;
    let params = Params {
        rows: tile.rows as u32,
        cols: tile.cols as u32,
        row_offset: tile.row_offset as u32,
        col_offset: tile.col_offset as u32,
        sigmas: sigmas as u32,
        ..Params::default()
    };
    ctx.dispatch(KernelSpec {
        shader: "parzen",
        entry: "parzen_accumulate",
        constants: vec![("FIRST", if first { 1.0 } else { 0.0 })],
        params: bytemuck::bytes_of(&params),
        tensors: vec![
            (cross, Access::Read),
            (point_norms, Access::Read),
            (sample_norms, Access::Read),
            (inv_two_sigma_sq, Access::Read),
            (state, Access::ReadWrite),
        ],
        workgroups: workgroups_1d(tile.rows, 64),
    })
}

/// output = scale·input + shift, elementwise (same length).
pub fn affine(
    ctx: &GpuContext,
    input: &Tensor,
    output: &Tensor,
    scale: f32,
    shift: f32,
) -> Result<Dispatch> {
    expect_len("affine", "output", output.len(), input.len())?;
    if input.same_buffer(output) {
        return Err(Error::Input(
            "affine: input and output must be different buffers".into(),
        ));
    }
    let params = Params {
        n: input.len() as u32,
        scale,
        shift,
        ..Params::default()
    };
    ctx.dispatch(KernelSpec {
        shader: "parzen",
        entry: "affine",
        constants: vec![],
        params: bytemuck::bytes_of(&params),
        tensors: vec![(input, Access::Read), (output, Access::ReadWrite)],
        workgroups: workgroups_1d(input.len(), 64),
    })
}
