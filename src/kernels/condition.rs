//! Conditioning kernels (shaders/condition.wgsl): a one-hot label appended to each row of a
//! batch (G's noise, D's image), and the image part taken back out of a gradient.

use super::expect_len;
use crate::error::{Error, Result};
use crate::gpu::{Access, Dispatch, GpuContext, KernelSpec, Tensor, workgroups_1d};

/// Mirrors `Params` in shaders/condition.wgsl.
#[repr(C)]
#[derive(Clone, Copy, Default, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    rows: u32,
    cols: u32,
    classes: u32,
    repeat: u32,
}

/// How a label is laid out after a row: `classes` one-hot values, each repeated `repeat` times
/// (1 after a feature vector; H·W after a [C, H, W] image, making K constant channels).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LabelLayout {
    pub classes: usize,
    pub repeat: usize,
}

impl LabelLayout {
    /// Values the label adds to each row.
    pub fn width(self) -> usize {
        self.classes * self.repeat
    }
}

fn dispatch(
    ctx: &GpuContext,
    entry: &'static str,
    params: Params,
    tensors: Vec<(&Tensor, Access)>,
    invocations: usize,
) -> Result<Dispatch> {
    super::random::check_u32_len(entry, "out", invocations)?;
    ctx.dispatch(KernelSpec {
        shader: "condition",
        entry,
        constants: vec![],
        params: bytemuck::bytes_of(&params),
        tensors,
        workgroups: workgroups_1d(invocations, 256),
    })
}

/// out[b, :] = x[b, :] followed by the one-hot of labels[b] in `layout`, for x [B, F], labels
/// [B] (u32, each < K) and out [B, F + K·S].
pub fn append_one_hot(
    ctx: &GpuContext,
    x: &Tensor,
    labels: &Tensor,
    out: &Tensor,
    layout: LabelLayout,
) -> Result<Dispatch> {
    let kernel = "append_one_hot";
    let rows = labels.len();
    if rows == 0 || !x.len().is_multiple_of(rows) || layout.classes == 0 || layout.repeat == 0 {
        return Err(Error::Input(format!(
            "{kernel}: x has {} elements for {rows} labels, with {} classes × {}; expected \
             [rows, F] with rows ≥ 1 and K, S ≥ 1",
            x.len(),
            layout.classes,
            layout.repeat
        )));
    }
    let cols = x.len() / rows;
    expect_len(kernel, "out", out.len(), rows * (cols + layout.width()))?;
    let params = Params {
        rows: rows as u32,
        cols: cols as u32,
        classes: layout.classes as u32,
        repeat: layout.repeat as u32,
    };
    let tensors = vec![
        (x, Access::Read),
        (labels, Access::Read),
        (out, Access::ReadWrite),
    ];
    dispatch(ctx, kernel, params, tensors, out.len())
}

/// out[b, j] = x[b, j] for j < cols, for x [B, W] and out [B, cols] with cols ≤ W.
pub fn take_columns(ctx: &GpuContext, x: &Tensor, out: &Tensor, rows: usize) -> Result<Dispatch> {
    let kernel = "take_columns";
    if rows == 0
        || !x.len().is_multiple_of(rows)
        || !out.len().is_multiple_of(rows)
        || out.len() > x.len()
    {
        return Err(Error::Input(format!(
            "{kernel}: x has {} elements and out {} for {rows} rows; expected [rows, W] and \
             [rows, cols] with cols ≤ W",
            x.len(),
            out.len()
        )));
    }
    let params = Params {
        rows: rows as u32,
        cols: (out.len() / rows) as u32,
        classes: (x.len() / rows) as u32,
        repeat: 0,
    };
    let tensors = vec![(x, Access::Read), (out, Access::ReadWrite)];
    dispatch(ctx, kernel, params, tensors, out.len())
}
