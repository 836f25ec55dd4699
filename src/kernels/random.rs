//! Counter-based random numbers on the GPU (shaders/random.wgsl): the step counter and its
//! increment, raw Philox bits, uniform and normal fills.
//!
//! Every fill is a pure function of (seed, stream, counter[0], element index), so nothing is
//! stored between steps: training draws new numbers by incrementing the counter on the GPU, and
//! `stream` keeps independent uses (generator noise, dropout, batch indices, WGAN-GP's epsilon)
//! apart under one seed.

use super::expect_len;
use crate::error::{Error, Result};
use crate::gpu::{Access, Dispatch, GpuContext, KernelSpec, Tensor, workgroups_1d};

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    n: u32,
    seed_lo: u32,
    seed_hi: u32,
    stream: u32,
    a: f32,
    b: f32,
}

/// The Philox key of a 64-bit seed: (low word, high word).
pub fn seed_key(seed: u64) -> [u32; 2] {
    [seed as u32, (seed >> 32) as u32]
}

/// Elements a single u32 index can address (the shaders index with u32).
pub(crate) fn check_u32_len(kernel: &str, operand: &str, len: usize) -> Result<()> {
    if len > u32::MAX as usize {
        return Err(Error::Input(format!(
            "{kernel}: {operand} has {len} elements, more than a u32 index reaches"
        )));
    }
    Ok(())
}

/// counter[0] += 1, on the GPU (one invocation). `counter` is a u32 tensor of length 1.
pub fn increment_counter(ctx: &GpuContext, counter: &Tensor) -> Result<Dispatch> {
    expect_len("increment_counter", "counter", counter.len(), 1)?;
    let params = Params {
        n: 1,
        seed_lo: 0,
        seed_hi: 0,
        stream: 0,
        a: 0.0,
        b: 0.0,
    };
    ctx.dispatch(KernelSpec {
        shader: "random",
        entry: "increment_counter",
        constants: vec![],
        params: bytemuck::bytes_of(&params),
        tensors: vec![(counter, Access::ReadWrite)],
        workgroups: [1, 1, 1],
    })
}

#[allow(clippy::too_many_arguments)]
fn fill(
    ctx: &GpuContext,
    entry: &'static str,
    out: &Tensor,
    (a, b): (f32, f32),
    seed: u64,
    stream: u32,
    counter: &Tensor,
) -> Result<Dispatch> {
    expect_len(entry, "counter", counter.len(), 1)?;
    check_u32_len(entry, "out", out.len())?;
    if out.same_buffer(counter) {
        return Err(Error::Input(format!(
            "{entry}: out and counter share a buffer"
        )));
    }
    let [seed_lo, seed_hi] = seed_key(seed);
    let params = Params {
        n: out.len() as u32,
        seed_lo,
        seed_hi,
        stream,
        a,
        b,
    };
    ctx.dispatch(KernelSpec {
        shader: "random",
        entry,
        constants: vec![],
        params: bytemuck::bytes_of(&params),
        tensors: vec![(out, Access::ReadWrite), (counter, Access::Read)],
        // One invocation per four outputs (one Philox call each).
        workgroups: workgroups_1d(out.len().div_ceil(4), 256),
    })
}

/// The raw Philox bits: out[i] = lane i % 4 of Philox((i / 4, stream, counter[0], 0), seed_key(seed)).
/// `out` is a u32 tensor. The uniform and normal fills are functions of exactly these bits.
pub fn fill_bits(
    ctx: &GpuContext,
    out: &Tensor,
    seed: u64,
    stream: u32,
    counter: &Tensor,
) -> Result<Dispatch> {
    fill(ctx, "fill_bits", out, (0.0, 0.0), seed, stream, counter)
}

/// out[i] = low + (high − low)·bits_to_unit(bits[i]), uniform on (low, high) up to f32 rounding.
pub fn fill_uniform(
    ctx: &GpuContext,
    out: &Tensor,
    low: f32,
    high: f32,
    seed: u64,
    stream: u32,
    counter: &Tensor,
) -> Result<Dispatch> {
    fill(ctx, "fill_uniform", out, (low, high), seed, stream, counter)
}

/// out[i] = mean + std·z[i], z standard normal by Box–Muller on lanes (0, 1) and (2, 3).
pub fn fill_normal(
    ctx: &GpuContext,
    out: &Tensor,
    mean: f32,
    std: f32,
    seed: u64,
    stream: u32,
    counter: &Tensor,
) -> Result<Dispatch> {
    fill(ctx, "fill_normal", out, (mean, std), seed, stream, counter)
}
