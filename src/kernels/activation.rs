//! Elementwise kernels (shaders/elementwise.wgsl): activations forward and backward (out of
//! place and in place), maxout with its argmax, and inverted dropout driven by Philox and a
//! step counter read on the GPU.

use super::{Activation, expect_len};
use crate::error::{Error, Result};
use crate::gpu::{Access, Dispatch, GpuContext, KernelSpec, Tensor, workgroups_1d};

/// Mirrors `Params` in shaders/elementwise.wgsl.
#[repr(C)]
#[derive(Clone, Copy, Default, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    n: u32,
    slope: f32,
    keep: f32,
    pieces: u32,
    seed_lo: u32,
    seed_hi: u32,
    stream: u32,
    _pad: u32,
}

fn elementwise(
    ctx: &GpuContext,
    entry: &'static str,
    constants: Vec<(&'static str, f64)>,
    params: Params,
    invocations: usize,
    tensors: Vec<(&Tensor, Access)>,
) -> Result<Dispatch> {
    ctx.dispatch(KernelSpec {
        shader: "elementwise",
        entry,
        constants,
        params: bytemuck::bytes_of(&params),
        tensors,
        workgroups: workgroups_1d(invocations, 256),
    })
}

fn activation_constants(activation: Activation) -> Vec<(&'static str, f64)> {
    vec![("ACTIVATION", activation.code() as f64)]
}

/// y = f(x) elementwise.
pub fn activation_forward(
    ctx: &GpuContext,
    x: &Tensor,
    y: &Tensor,
    activation: Activation,
) -> Result<Dispatch> {
    expect_len("activation_forward", "y", y.len(), x.len())?;
    let params = Params {
        n: x.len() as u32,
        slope: activation.slope(),
        ..Default::default()
    };
    elementwise(
        ctx,
        "activation_forward",
        activation_constants(activation),
        params,
        x.len(),
        vec![(x, Access::Read), (y, Access::ReadWrite)],
    )
}

/// dx = dy · f'(x), with f' computed from the forward's output y (x is not kept).
pub fn activation_backward(
    ctx: &GpuContext,
    dy: &Tensor,
    y: &Tensor,
    dx: &Tensor,
    activation: Activation,
) -> Result<Dispatch> {
    expect_len("activation_backward", "y", y.len(), dy.len())?;
    expect_len("activation_backward", "dx", dx.len(), dy.len())?;
    let params = Params {
        n: dy.len() as u32,
        slope: activation.slope(),
        ..Default::default()
    };
    elementwise(
        ctx,
        "activation_backward",
        activation_constants(activation),
        params,
        dy.len(),
        vec![
            (dy, Access::Read),
            (y, Access::Read),
            (dx, Access::ReadWrite),
        ],
    )
}

/// `activation_backward` overwriting its input: `grad` holds dy on entry and dx on exit.
pub fn activation_backward_in_place(
    ctx: &GpuContext,
    grad: &Tensor,
    y: &Tensor,
    activation: Activation,
) -> Result<Dispatch> {
    expect_len("activation_backward_in_place", "y", y.len(), grad.len())?;
    let params = Params {
        n: grad.len() as u32,
        slope: activation.slope(),
        ..Default::default()
    };
    elementwise(
        ctx,
        "activation_backward_in_place",
        activation_constants(activation),
        params,
        grad.len(),
        vec![(grad, Access::ReadWrite), (y, Access::Read)],
    )
}

/// Maxout: x is [B, units·pieces], y and argmax (u32) are [B, units]. The pieces of unit u are
/// the contiguous columns u·pieces .. u·pieces + pieces − 1 (pylearn2's grouping); argmax holds
/// the winning piece index in 0..pieces, the first on ties.
pub fn maxout_forward(
    ctx: &GpuContext,
    x: &Tensor,
    y: &Tensor,
    argmax: &Tensor,
    pieces: usize,
) -> Result<Dispatch> {
    if pieces == 0 {
        return Err(Error::Input(
            "maxout_forward: pieces must be at least 1".into(),
        ));
    }
    expect_len("maxout_forward", "x", x.len(), y.len() * pieces)?;
    expect_len("maxout_forward", "argmax", argmax.len(), y.len())?;
    let params = Params {
        n: y.len() as u32,
        pieces: pieces as u32,
        ..Default::default()
    };
    elementwise(
        ctx,
        "maxout_forward",
        vec![],
        params,
        y.len(),
        vec![
            (x, Access::Read),
            (y, Access::ReadWrite),
            (argmax, Access::ReadWrite),
        ],
    )
}

/// Maxout gradient: dx [B, units·pieces] gets dy at each unit's argmax piece and 0 elsewhere
/// (every element is written, so dx needs no clearing).
pub fn maxout_backward(
    ctx: &GpuContext,
    dy: &Tensor,
    argmax: &Tensor,
    dx: &Tensor,
    pieces: usize,
) -> Result<Dispatch> {
    if pieces == 0 {
        return Err(Error::Input(
            "maxout_backward: pieces must be at least 1".into(),
        ));
    }
    expect_len("maxout_backward", "argmax", argmax.len(), dy.len())?;
    expect_len("maxout_backward", "dx", dx.len(), dy.len() * pieces)?;
    let params = Params {
        n: dx.len() as u32,
        pieces: pieces as u32,
        ..Default::default()
    };
    elementwise(
        ctx,
        "maxout_backward",
        vec![],
        params,
        dx.len(),
        vec![
            (dy, Access::Read),
            (argmax, Access::Read),
            (dx, Access::ReadWrite),
        ],
    )
}

/// Inverted dropout: mask[i] = 1/keep where the uniform draw is below keep, else 0, and
/// y = x · mask (so evaluation needs no rescaling). Element i uses lane i % 4 of
/// Philox4x32-10(counter = (i / 4, stream, counter[0], 0), key = seed); `counter` is a u32
/// tensor of length 1 read at run time, so advancing it on the GPU gives a new mask each step.
#[allow(clippy::too_many_arguments)]
pub fn dropout_forward(
    ctx: &GpuContext,
    x: &Tensor,
    y: &Tensor,
    mask: &Tensor,
    keep_probability: f32,
    seed: u64,
    stream: u32,
    counter: &Tensor,
) -> Result<Dispatch> {
    // Written so NaN fails too.
    if !(keep_probability > 0.0 && keep_probability <= 1.0) {
        return Err(Error::Input(format!(
            "dropout_forward: keep_probability must be in (0, 1], got {keep_probability}"
        )));
    }
    expect_len("dropout_forward", "y", y.len(), x.len())?;
    expect_len("dropout_forward", "mask", mask.len(), x.len())?;
    expect_len("dropout_forward", "counter", counter.len(), 1)?;
    let params = Params {
        n: x.len() as u32,
        keep: keep_probability,
        seed_lo: seed as u32,
        seed_hi: (seed >> 32) as u32,
        stream,
        ..Default::default()
    };
    elementwise(
        ctx,
        "dropout_forward",
        vec![],
        params,
        x.len().div_ceil(4),
        vec![
            (x, Access::Read),
            (y, Access::ReadWrite),
            (mask, Access::ReadWrite),
            (counter, Access::Read),
        ],
    )
}

/// dx = dy · mask (the mask already carries the 1/keep factor).
pub fn dropout_backward(
    ctx: &GpuContext,
    dy: &Tensor,
    mask: &Tensor,
    dx: &Tensor,
) -> Result<Dispatch> {
    expect_len("dropout_backward", "mask", mask.len(), dy.len())?;
    expect_len("dropout_backward", "dx", dx.len(), dy.len())?;
    let params = Params {
        n: dy.len() as u32,
        ..Default::default()
    };
    elementwise(
        ctx,
        "dropout_backward",
        vec![],
        params,
        dy.len(),
        vec![
            (dy, Access::Read),
            (mask, Access::Read),
            (dx, Access::ReadWrite),
        ],
    )
}
