//! BatchNorm1d / BatchNorm2d layers on the GPU (`kernels::batch_norm`): training passes
//! normalise with the batch's statistics and update the running ones (PyTorch's momentum 0.1,
//! eps 1e-5); evaluation passes use the running statistics.

use super::layer_io::{LayerIo, LayerState, ParamGrads};
use crate::error::Result;
use crate::gpu::{Dispatch, Tensor};
use crate::kernels::batch_norm::{self, BatchNormShape};

/// [batch, channels, spatial] of a [c] or [c, h, w] example shape.
pub fn batch_norm_shape(batch: usize, shape: &[usize]) -> BatchNormShape {
    BatchNormShape {
        batch,
        channels: shape[0],
        spatial: shape[1..].iter().product(),
    }
}

pub(super) fn forward(
    io: &LayerIo<'_>,
    y: &Tensor,
    forward: &mut Vec<Dispatch>,
) -> Result<LayerState> {
    let shape = batch_norm_shape(io.batch, io.input_shape);
    let (gamma, beta) = (&io.params[0], &io.params[1]);
    let (running_mean, running_var) = (&io.buffers[0], &io.buffers[1]);
    if io.rng.is_none() {
        forward.push(batch_norm::batch_norm_eval(
            io.ctx,
            io.input,
            y,
            gamma,
            beta,
            running_mean,
            running_var,
            shape,
        )?);
        return Ok(LayerState::default());
    }
    let saved_mean = io
        .ctx
        .zeros(&format!("{} batch mean", io.label), &[shape.channels])?;
    let saved_invstd = io
        .ctx
        .zeros(&format!("{} batch invstd", io.label), &[shape.channels])?;
    forward.push(batch_norm::batch_norm_train(
        io.ctx,
        io.input,
        y,
        gamma,
        beta,
        &saved_mean,
        &saved_invstd,
        running_mean,
        running_var,
        shape,
    )?);
    Ok(LayerState {
        saved_mean: Some(saved_mean),
        saved_invstd: Some(saved_invstd),
        ..Default::default()
    })
}

pub(super) fn backward(
    io: &LayerIo<'_>,
    state: &LayerState,
    dy: &Tensor,
    grads: &[Tensor],
    mode: ParamGrads,
    dx: Option<&Tensor>,
) -> Result<Vec<Dispatch>> {
    let (Some(mean), Some(invstd)) = (&state.saved_mean, &state.saved_invstd) else {
        return Err(crate::error::Error::Input(format!(
            "{}: batch norm backpropagates through training passes only (an evaluation pass \
             uses the running statistics)",
            io.label
        )));
    };
    let param_grads = (mode != ParamGrads::Skip).then(|| (&grads[0], &grads[1]));
    if dx.is_none() && param_grads.is_none() {
        return Ok(vec![]);
    }
    Ok(vec![batch_norm::batch_norm_backward(
        io.ctx,
        dy,
        io.input,
        &io.params[0],
        mean,
        invstd,
        dx,
        param_grads,
        mode == ParamGrads::Accumulate,
        batch_norm_shape(io.batch, io.input_shape),
    )?])
}
