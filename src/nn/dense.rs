//! The dense layer of the MLPs on the GPU (and the linear layer, a dense layer without
//! activation): its forward and backward dispatches.
//!
//! Forward: in a training pass, inverted dropout of the input (x̃ = x ⊙ mask, the mask 1/keep or
//! 0); then y = f(x̃·W + b) in one fused matmul, or for maxout z = x̃·W + b followed by y = the
//! maximum of each unit's pieces (the winner kept). Backward, from dL/dy: g = dL/dy ⊙ f'(y) (in
//! place), or for maxout g = dL/dy routed to each unit's winning piece; dW (+)= x̃ᵀ·g and
//! db (+)= Σ_rows g in one matmul, and dL/dx = (g·Wᵀ) ⊙ mask when needed. Between two dense
//! layers the first's activation backward happens in the second's dL/dx matmul ([`Fusion`]).

use super::layer_io::{LayerIo, LayerState, ParamGrads};
use super::spec::LayerSpec;
use crate::error::Result;
use crate::gpu::{Dispatch, Tensor};
use crate::kernels::matmul::{Layout, MatmulOptions, matmul};
use crate::kernels::{Activation, activation};

/// Record the layer's forward into `forward`, writing `y` [batch, outputs].
pub(super) fn forward(
    io: &LayerIo<'_>,
    layer: &LayerSpec,
    y: &Tensor,
    forward: &mut Vec<Dispatch>,
) -> Result<LayerState> {
    let (ctx, batch) = (io.ctx, io.batch);
    let label = |what: &str| format!("{} {what}", io.label);
    let mut state = LayerState::default();
    if let Some(rng) = io.rng.filter(|_| layer.has_dropout()) {
        let shape = [batch, layer.inputs];
        let mask = ctx.zeros(&label("dropout mask"), &shape)?;
        let dropped = ctx.zeros(&label("dropped input"), &shape)?;
        forward.push(activation::dropout_forward(
            ctx,
            io.input,
            &dropped,
            &mask,
            layer.input_keep,
            rng.seed,
            rng.stream.wrapping_add(io.index as u32),
            rng.counter,
        )?);
        state.dropped_input_grad = Some(ctx.zeros(&label("dropped input grad"), &shape)?);
        state.mask = Some(mask);
        state.dropped_input = Some(dropped);
    }
    let x = state.dropped_input.as_ref().unwrap_or(io.input);
    let (w, b) = (&io.params[0], io.params.get(1));
    if layer.is_maxout() {
        let linear = ctx.zeros(&label("linear output"), &[batch, layer.width()])?;
        let argmax = ctx.zeros(&label("maxout argmax"), &[batch, layer.outputs])?;
        forward.push(matmul(
            ctx,
            Layout::XW,
            x,
            w,
            &linear,
            (batch, layer.width(), layer.inputs),
            MatmulOptions {
                bias: b,
                ..Default::default()
            },
        )?);
        forward.push(activation::maxout_forward(
            ctx,
            &linear,
            y,
            &argmax,
            layer.pieces,
        )?);
        state.linear_grad = Some(ctx.zeros(&label("linear output grad"), &[batch, layer.width()])?);
        state.linear = Some(linear);
        state.argmax = Some(argmax);
    } else {
        forward.push(matmul(
            ctx,
            Layout::XW,
            x,
            w,
            y,
            (batch, layer.outputs, layer.inputs),
            MatmulOptions {
                bias: b,
                activation: layer.activation,
                ..Default::default()
            },
        )?);
    }
    Ok(state)
}

/// What a dense layer's backward leaves to its neighbours' matmuls (see [`Fusion::plan`]).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(super) struct Fusion {
    /// `dy` already went through this layer's activation backward: the next layer's input
    /// gradient matmul gated it.
    pub activation_applied: bool,
    /// Gate dx with this activation's derivative at the layer's input (the previous layer's
    /// output), doing the previous layer's activation backward in the same matmul.
    pub gate_dx: Option<Activation>,
}

/// Dispatches that backpropagate from `dy` (overwritten: it becomes dL/d(linear outputs) for a
/// plain layer): parameter gradients into `grads` [dW, db] (db absent for a linear layer
/// without bias) as `mode` says, and dL/dx into `dx`
/// when given.
#[allow(clippy::too_many_arguments)]
pub(super) fn backward(
    io: &LayerIo<'_>,
    layer: &LayerSpec,
    state: &LayerState,
    y: &Tensor,
    dy: &Tensor,
    grads: &[Tensor],
    mode: ParamGrads,
    dx: Option<&Tensor>,
    fusion: Fusion,
) -> Result<Vec<Dispatch>> {
    let (ctx, batch) = (io.ctx, io.batch);
    let mut dispatches = Vec::new();
    // g: dLoss/d(this layer's linear outputs) [batch, width].
    let g = match (&state.argmax, &state.linear_grad) {
        (Some(argmax), Some(linear_grad)) => {
            dispatches.push(activation::maxout_backward(
                ctx,
                dy,
                argmax,
                linear_grad,
                layer.pieces,
            )?);
            linear_grad
        }
        _ => {
            if layer.activation != Activation::Identity && !fusion.activation_applied {
                dispatches.push(activation::activation_backward_in_place(
                    ctx,
                    dy,
                    y,
                    layer.activation,
                )?);
            }
            dy
        }
    };
    let x = state.dropped_input.as_ref().unwrap_or(io.input);
    if mode != ParamGrads::Skip {
        // One matmul gives dW = x̃ᵀ·g and, from its row of ones, db = Σ_rows g.
        dispatches.push(matmul(
            ctx,
            Layout::XtDy,
            x,
            g,
            &grads[0],
            (layer.inputs, layer.width(), batch),
            MatmulOptions {
                accumulate: mode == ParamGrads::Accumulate,
                column_sums: grads.get(1),
                ..Default::default()
            },
        )?);
    }
    if let Some(dx) = dx {
        // With dropout, the matmul gives dL/d(dropped input); the mask takes it to dx.
        let (target, mask) = match (&state.dropped_input_grad, &state.mask) {
            (Some(dropped_grad), Some(mask)) => (dropped_grad, Some(mask)),
            _ => (dx, None),
        };
        // The gate needs dx itself, so the planner never asks for it together with dropout.
        let gate = fusion.gate_dx.map(|activation| (io.input, activation));
        dispatches.push(matmul(
            ctx,
            Layout::DyWt,
            g,
            &io.params[0],
            target,
            (batch, layer.inputs, layer.width()),
            MatmulOptions {
                gate,
                ..Default::default()
            },
        )?);
        if let Some(mask) = mask {
            dispatches.push(activation::dropout_backward(ctx, target, mask, dx)?);
        }
    }
    Ok(dispatches)
}
