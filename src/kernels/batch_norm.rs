//! Batch normalisation (shaders/batch_norm.wgsl) with PyTorch's semantics: training normalises
//! with the batch mean and biased variance and updates the running statistics in place
//! (running_var with the unbiased variance); eval uses the running statistics. Tensors are seen
//! as [batch, channels, spatial] (spatial = H·W for BatchNorm2d, 1 for BatchNorm1d).

use super::expect_len;
use crate::error::{Error, Result};
use crate::gpu::{Access, Dispatch, GpuContext, KernelSpec, Tensor, workgroups_1d};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BatchNormShape {
    pub batch: usize,
    pub channels: usize,
    pub spatial: usize,
}

impl BatchNormShape {
    /// Values per channel: batch·spatial.
    pub fn per_channel(&self) -> usize {
        self.batch * self.spatial
    }

    pub fn len(&self) -> usize {
        self.batch * self.channels * self.spatial
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// PyTorch's defaults.
pub const MOMENTUM: f32 = 0.1;
pub const EPS: f32 = 1e-5;

/// Mirrors `Params` in shaders/batch_norm.wgsl.
#[repr(C)]
#[derive(Clone, Copy, Default, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    batch: u32,
    channels: u32,
    spatial: u32,
    n: u32,
    momentum: f32,
    eps: f32,
    unbias: f32,
    total: u32,
}

fn params(shape: BatchNormShape) -> Params {
    let n = shape.per_channel();
    Params {
        batch: shape.batch as u32,
        channels: shape.channels as u32,
        spatial: shape.spatial as u32,
        n: n as u32,
        momentum: MOMENTUM,
        eps: EPS,
        unbias: if n > 1 {
            (n as f64 / (n - 1) as f64) as f32
        } else {
            1.0
        },
        total: shape.len() as u32,
    }
}

fn check_shape(kernel: &str, shape: BatchNormShape) -> Result<()> {
    if shape.is_empty() {
        return Err(Error::Input(format!(
            "{kernel}: every size must be at least 1, found {shape:?}"
        )));
    }
    if shape.channels > 65_535 {
        return Err(Error::Input(format!(
            "{kernel}: {} channels is more than one dispatch's 65,535 workgroups",
            shape.channels
        )));
    }
    Ok(())
}

fn flag(on: bool) -> f64 {
    if on { 1.0 } else { 0.0 }
}

/// Training mode: y = (x − mean)·invstd·gamma + beta with the batch statistics; writes
/// saved_mean and saved_invstd [C] (for backward) and updates running_mean / running_var [C] in
/// place. One workgroup per channel.
#[allow(clippy::too_many_arguments)]
pub fn batch_norm_train(
    ctx: &GpuContext,
    x: &Tensor,
    y: &Tensor,
    gamma: &Tensor,
    beta: &Tensor,
    saved_mean: &Tensor,
    saved_invstd: &Tensor,
    running_mean: &Tensor,
    running_var: &Tensor,
    shape: BatchNormShape,
) -> Result<Dispatch> {
    let kernel = "batch_norm_train";
    check_shape(kernel, shape)?;
    if shape.per_channel() < 2 {
        return Err(Error::Input(format!(
            "{kernel}: batch norm in training needs more than one value per channel, found \
             batch {} × spatial {} = {} (as PyTorch: expected more than 1 value per channel \
             when training)",
            shape.batch,
            shape.spatial,
            shape.per_channel()
        )));
    }
    expect_len(kernel, "x", x.len(), shape.len())?;
    expect_len(kernel, "y", y.len(), shape.len())?;
    for (name, tensor) in [
        ("gamma", gamma),
        ("beta", beta),
        ("saved_mean", saved_mean),
        ("saved_invstd", saved_invstd),
        ("running_mean", running_mean),
        ("running_var", running_var),
    ] {
        expect_len(kernel, name, tensor.len(), shape.channels)?;
    }
    ctx.dispatch(KernelSpec {
        shader: "batch_norm",
        entry: "batch_norm_train",
        constants: vec![],
        params: bytemuck::bytes_of(&params(shape)),
        tensors: vec![
            (x, Access::Read),
            (gamma, Access::Read),
            (beta, Access::Read),
            (y, Access::ReadWrite),
            (saved_mean, Access::ReadWrite),
            (saved_invstd, Access::ReadWrite),
            (running_mean, Access::ReadWrite),
            (running_var, Access::ReadWrite),
        ],
        workgroups: [shape.channels as u32, 1, 1],
    })
}

/// Eval mode: y = (x − running_mean)/sqrt(running_var + eps)·gamma + beta.
#[allow(clippy::too_many_arguments)]
pub fn batch_norm_eval(
    ctx: &GpuContext,
    x: &Tensor,
    y: &Tensor,
    gamma: &Tensor,
    beta: &Tensor,
    running_mean: &Tensor,
    running_var: &Tensor,
    shape: BatchNormShape,
) -> Result<Dispatch> {
    let kernel = "batch_norm_eval";
    check_shape(kernel, shape)?;
    expect_len(kernel, "x", x.len(), shape.len())?;
    expect_len(kernel, "y", y.len(), shape.len())?;
    for (name, tensor) in [
        ("gamma", gamma),
        ("beta", beta),
        ("running_mean", running_mean),
        ("running_var", running_var),
    ] {
        expect_len(kernel, name, tensor.len(), shape.channels)?;
    }
    ctx.dispatch(KernelSpec {
        shader: "batch_norm",
        entry: "batch_norm_eval",
        constants: vec![],
        params: bytemuck::bytes_of(&params(shape)),
        tensors: vec![
            (x, Access::Read),
            (gamma, Access::Read),
            (beta, Access::Read),
            (y, Access::ReadWrite),
            (running_mean, Access::Read),
            (running_var, Access::Read),
        ],
        workgroups: workgroups_1d(shape.len(), 256),
    })
}

/// Training-mode backward: dx = gamma·invstd/n·(n·dy − Σdy − x̂·Σ(dy·x̂)) (overwrites dx, if
/// given); dgamma (+)= Σ dy·x̂ and dbeta (+)= Σ dy (if given; `accumulate` adds). Uses the
/// saved_mean / saved_invstd of the `batch_norm_train` that produced y.
#[allow(clippy::too_many_arguments)]
pub fn batch_norm_backward(
    ctx: &GpuContext,
    dy: &Tensor,
    x: &Tensor,
    gamma: &Tensor,
    saved_mean: &Tensor,
    saved_invstd: &Tensor,
    dx: Option<&Tensor>,
    param_grads: Option<(&Tensor, &Tensor)>,
    accumulate: bool,
    shape: BatchNormShape,
) -> Result<Dispatch> {
    let kernel = "batch_norm_backward";
    check_shape(kernel, shape)?;
    expect_len(kernel, "dy", dy.len(), shape.len())?;
    expect_len(kernel, "x", x.len(), shape.len())?;
    for (name, tensor) in [
        ("gamma", gamma),
        ("saved_mean", saved_mean),
        ("saved_invstd", saved_invstd),
    ] {
        expect_len(kernel, name, tensor.len(), shape.channels)?;
    }
    if let Some(dx) = dx {
        expect_len(kernel, "dx", dx.len(), shape.len())?;
    }
    if let Some((dgamma, dbeta)) = param_grads {
        expect_len(kernel, "dgamma", dgamma.len(), shape.channels)?;
        expect_len(kernel, "dbeta", dbeta.len(), shape.channels)?;
    }
    // Unused outputs still need distinct writable bindings (made once, with the bind group).
    let unused = |name: &str| ctx.zeros(&format!("{kernel} unused {name}"), &[1]);
    let dx_tensor = match dx {
        Some(dx) => dx.clone(),
        None => unused("dx")?,
    };
    let (dgamma, dbeta) = match param_grads {
        Some((dgamma, dbeta)) => (dgamma.clone(), dbeta.clone()),
        None => (unused("dgamma")?, unused("dbeta")?),
    };
    ctx.dispatch(KernelSpec {
        shader: "batch_norm",
        entry: "batch_norm_backward",
        constants: vec![
            ("HAS_DX", flag(dx.is_some())),
            ("HAS_PARAM_GRADS", flag(param_grads.is_some())),
            ("ACCUMULATE", flag(accumulate)),
        ],
        params: bytemuck::bytes_of(&params(shape)),
        tensors: vec![
            (x, Access::Read),
            (gamma, Access::Read),
            (dy, Access::Read),
            (&dx_tensor, Access::ReadWrite),
            (saved_mean, Access::Read),
            (saved_invstd, Access::Read),
            (&dgamma, Access::ReadWrite),
            (&dbeta, Access::ReadWrite),
        ],
        workgroups: [shape.channels as u32, 1, 1],
    })
}
