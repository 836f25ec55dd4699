//! Deterministic reductions (shaders/reduce.wgsl): bias gradients as column sums, a scaled mean
//! written into a metrics slot (the Wasserstein losses) with its gradient, and per-row squared
//! norms (gradient-penalty norms).

use super::expect_len;
use crate::error::{Error, Result};
use crate::gpu::{Access, Dispatch, GpuContext, KernelSpec, Tensor, workgroups_1d};

/// Mirrors `Params` in shaders/reduce.wgsl.
#[repr(C)]
#[derive(Clone, Copy, Default, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    rows: u32,
    cols: u32,
    n: u32,
    slot: u32,
    scale: f32,
}

fn flag(on: bool) -> f64 {
    if on { 1.0 } else { 0.0 }
}

/// The 2-D shape of a tensor, or an error naming the kernel and operand.
fn matrix(kernel: &str, operand: &str, tensor: &Tensor) -> Result<(usize, usize)> {
    match tensor.shape() {
        [rows, cols] => Ok((*rows, *cols)),
        shape => Err(Error::Input(format!(
            "{kernel}: {operand} must be 2-D [rows, columns], found shape {shape:?}"
        ))),
    }
}

pub(crate) fn check_slot(kernel: &str, out: &Tensor, slot: u32) -> Result<()> {
    if (slot as usize) < out.len() {
        Ok(())
    } else {
        Err(Error::Input(format!(
            "{kernel}: slot {slot} is outside the output tensor of {} elements",
            out.len()
        )))
    }
}

/// db[n] (+)= Σ_m dy[m, n]: one invocation per column, rows added in order (deterministic).
pub fn bias_gradient(
    ctx: &GpuContext,
    dy: &Tensor,
    db: &Tensor,
    accumulate: bool,
) -> Result<Dispatch> {
    let (rows, cols) = matrix("bias_gradient", "dy", dy)?;
    expect_len("bias_gradient", "db", db.len(), cols)?;
    let params = Params {
        rows: rows as u32,
        cols: cols as u32,
        ..Default::default()
    };
    ctx.dispatch(KernelSpec {
        shader: "reduce",
        entry: "bias_gradient",
        constants: vec![("ACCUMULATE", flag(accumulate))],
        params: bytemuck::bytes_of(&params),
        tensors: vec![(dy, Access::Read), (db, Access::ReadWrite)],
        workgroups: workgroups_1d(cols, 256),
    })
}

/// out[slot] (+)= scale · mean(x), by one workgroup (a fixed-order tree, deterministic).
pub fn mean(
    ctx: &GpuContext,
    x: &Tensor,
    out: &Tensor,
    slot: u32,
    scale: f32,
    accumulate: bool,
) -> Result<Dispatch> {
    if x.is_empty() {
        return Err(Error::Input("mean: x is empty".into()));
    }
    check_slot("mean", out, slot)?;
    let params = Params {
        n: x.len() as u32,
        slot,
        scale,
        ..Default::default()
    };
    ctx.dispatch(KernelSpec {
        shader: "reduce",
        entry: "mean",
        constants: vec![("ACCUMULATE", flag(accumulate))],
        params: bytemuck::bytes_of(&params),
        tensors: vec![(x, Access::Read), (out, Access::ReadWrite)],
        workgroups: [1, 1, 1],
    })
}

/// dx[i] = scale / n, the gradient of scale · mean(x) (n = dx's length).
pub fn mean_backward(ctx: &GpuContext, dx: &Tensor, scale: f32) -> Result<Dispatch> {
    let params = Params {
        n: dx.len() as u32,
        scale,
        ..Default::default()
    };
    ctx.dispatch(KernelSpec {
        shader: "reduce",
        entry: "mean_backward",
        constants: vec![],
        params: bytemuck::bytes_of(&params),
        tensors: vec![(dx, Access::ReadWrite)],
        workgroups: workgroups_1d(dx.len(), 256),
    })
}

/// out[b] = ‖x[b, :]‖² for x [B, D], one invocation per row.
pub fn sum_of_squares_rows(ctx: &GpuContext, x: &Tensor, out: &Tensor) -> Result<Dispatch> {
    let (rows, cols) = matrix("sum_of_squares_rows", "x", x)?;
    expect_len("sum_of_squares_rows", "out", out.len(), rows)?;
    let params = Params {
        rows: rows as u32,
        cols: cols as u32,
        ..Default::default()
    };
    ctx.dispatch(KernelSpec {
        shader: "reduce",
        entry: "sum_of_squares_rows",
        constants: vec![],
        params: bytemuck::bytes_of(&params),
        tensors: vec![(x, Access::Read), (out, Access::ReadWrite)],
        workgroups: workgroups_1d(rows, 256),
    })
}
