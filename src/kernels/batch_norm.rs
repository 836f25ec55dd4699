//! TEMPORARY STUB (replaced by the conv-kernels branch).
#![allow(unused, clippy::all)]
use crate::error::{Error, Result};
use crate::gpu::{Dispatch, GpuContext, Tensor};
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BatchNormShape {
    pub batch: usize,
    pub channels: usize,
    pub spatial: usize,
}
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
    todo!()
}
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
    todo!()
}
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
    todo!()
}
