//! Conv2d and ConvTranspose2d layers on the GPU: `kernels::conv::ConvOp` (im2col and the matmul
//! kernels) over NCHW activations, with each pass's columns kept for the weight gradient.

use super::layer::ConvSpec;
use super::layer_io::{LayerIo, LayerState, ParamGrads};
use crate::error::Result;
use crate::gpu::{Dispatch, Tensor};
use crate::kernels::conv::{ConvOp, ConvScratch};

/// The operation of a layer over a batch of `input_shape` ([c, h, w]) examples.
pub fn conv_op(
    spec: &ConvSpec,
    transposed: bool,
    batch: usize,
    input_shape: &[usize],
) -> Result<ConvOp> {
    let (h, w) = (input_shape[1], input_shape[2]);
    let k = spec.kernel;
    let (i, o, s, p) = (
        spec.in_channels,
        spec.out_channels,
        spec.stride,
        spec.padding,
    );
    if transposed {
        ConvOp::conv_transpose2d(batch, i, o, h, w, k, k, s, p)
    } else {
        ConvOp::conv2d(batch, i, o, h, w, k, k, s, p)
    }
}

pub(super) fn forward(
    io: &LayerIo<'_>,
    spec: &ConvSpec,
    transposed: bool,
    y: &Tensor,
    forward: &mut Vec<Dispatch>,
) -> Result<LayerState> {
    let op = conv_op(spec, transposed, io.batch, io.input_shape)?;
    let scratch = ConvScratch::new(io.ctx, &io.label, &op)?;
    let bias = io.params.get(1);
    forward.extend(op.forward(io.ctx, io.input, &io.params[0], bias, y, &scratch)?);
    Ok(LayerState {
        conv: Some(scratch),
        ..Default::default()
    })
}

#[allow(clippy::too_many_arguments)]
pub(super) fn backward(
    io: &LayerIo<'_>,
    spec: &ConvSpec,
    transposed: bool,
    state: &LayerState,
    dy: &Tensor,
    grads: &[Tensor],
    mode: ParamGrads,
    dx: Option<&Tensor>,
) -> Result<Vec<Dispatch>> {
    let op = conv_op(spec, transposed, io.batch, io.input_shape)?;
    let scratch = state
        .conv
        .as_ref()
        .expect("a conv layer's pass keeps its scratch");
    let mut dispatches = Vec::new();
    if mode != ParamGrads::Skip {
        dispatches.extend(op.backward_params(
            io.ctx,
            dy,
            &grads[0],
            grads.get(1),
            mode == ParamGrads::Accumulate,
            scratch,
        )?);
    }
    if let Some(dx) = dx {
        dispatches.extend(op.backward_input(io.ctx, dy, &io.params[0], dx, scratch)?);
    }
    Ok(dispatches)
}
