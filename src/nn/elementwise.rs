//! Layers without parameters: activations, dropout, and the reshapes (flatten, unflatten),
//! which only reinterpret their input's buffer.

use super::layer::Layer;
use super::layer_io::{LayerIo, LayerState};
use crate::error::Result;
use crate::gpu::{Dispatch, Tensor};
use crate::kernels::{Activation, activation};

/// Whether the layer's output (and output gradient) is its input's buffer seen with another
/// shape: reshapes always, dropout outside training passes.
pub(super) fn aliases_input(layer: &Layer, training: bool) -> bool {
    match layer {
        Layer::Flatten | Layer::Unflatten(_) => true,
        Layer::Dropout(_) => !training,
        _ => false,
    }
}

pub(super) fn activation_forward(
    io: &LayerIo<'_>,
    kind: Activation,
    y: &Tensor,
    forward: &mut Vec<Dispatch>,
) -> Result<LayerState> {
    forward.push(activation::activation_forward(io.ctx, io.input, y, kind)?);
    Ok(LayerState::default())
}

/// dx = dy ⊙ f'(y).
pub(super) fn activation_backward(
    io: &LayerIo<'_>,
    kind: Activation,
    y: &Tensor,
    dy: &Tensor,
    dx: Option<&Tensor>,
) -> Result<Vec<Dispatch>> {
    match dx {
        Some(dx) => Ok(vec![activation::activation_backward(
            io.ctx, dy, y, dx, kind,
        )?]),
        None => Ok(vec![]),
    }
}

/// Inverted dropout in a training pass (layer i draws from stream base + i, as dense layers do).
pub(super) fn dropout_forward(
    io: &LayerIo<'_>,
    keep: f32,
    y: &Tensor,
    forward: &mut Vec<Dispatch>,
) -> Result<LayerState> {
    let rng = io
        .rng
        .expect("only training passes drop (evaluation passes alias)");
    let mask = io
        .ctx
        .zeros(&format!("{} dropout mask", io.label), y.shape())?;
    forward.push(activation::dropout_forward(
        io.ctx,
        io.input,
        y,
        &mask,
        keep,
        rng.seed,
        rng.stream.wrapping_add(io.index as u32),
        rng.counter,
    )?);
    Ok(LayerState {
        mask: Some(mask),
        ..Default::default()
    })
}

/// Dropout's dx = dy ⊙ mask; a layer that aliases its input needs nothing, except as the first
/// layer, whose input gradient is a buffer of its own (a copy, dy ⊙ 1).
pub(super) fn pass_through_backward(
    io: &LayerIo<'_>,
    state: &LayerState,
    dy: &Tensor,
    dx: Option<&Tensor>,
    first: bool,
) -> Result<Vec<Dispatch>> {
    let Some(dx) = dx else { return Ok(vec![]) };
    match &state.mask {
        Some(mask) => Ok(vec![activation::dropout_backward(io.ctx, dy, mask, dx)?]),
        None if first => Ok(vec![activation::activation_backward(
            io.ctx,
            dy,
            dy,
            dx,
            Activation::Identity,
        )?]),
        None => Ok(vec![]),
    }
}
