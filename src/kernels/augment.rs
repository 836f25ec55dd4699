//! Random translations of image batches (shaders/augment.wgsl), the evaluation classifier's
//! data augmentation: each image moves by its own offset in [−S, S]² drawn on the GPU from
//! (seed, stream, counter[0]), so a training step needs no host write.

use super::expect_len;
use super::random::{check_u32_len, seed_key};
use crate::error::{Error, Result};
use crate::gpu::{Access, Dispatch, GpuContext, KernelSpec, Tensor, workgroups_1d};

/// Mirrors `Params` in shaders/augment.wgsl.
#[repr(C)]
#[derive(Clone, Copy, Default, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    images: u32,
    height: u32,
    width: u32,
    max_shift: u32,
    seed_lo: u32,
    seed_hi: u32,
    stream: u32,
    background: f32,
}

/// output[b] = input[b] translated by (dy, dx) uniform in [−max_shift, max_shift]², pixels
/// shifted in from outside set to `background`. Both tensors hold [B, height·width] values.
#[allow(clippy::too_many_arguments)]
pub fn shift_images(
    ctx: &GpuContext,
    input: &Tensor,
    output: &Tensor,
    (height, width): (usize, usize),
    max_shift: u32,
    background: f32,
    seed: u64,
    stream: u32,
    counter: &Tensor,
) -> Result<Dispatch> {
    let kernel = "shift_images";
    let size = height * width;
    if size == 0 || !input.len().is_multiple_of(size) {
        return Err(Error::Input(format!(
            "{kernel}: {} values are not a batch of {height}×{width} images",
            input.len()
        )));
    }
    expect_len(kernel, "output", output.len(), input.len())?;
    expect_len(kernel, "counter", counter.len(), 1)?;
    check_u32_len(kernel, "input", input.len())?;
    let [seed_lo, seed_hi] = seed_key(seed);
    let params = Params {
        images: (input.len() / size) as u32,
        height: height as u32,
        width: width as u32,
        max_shift,
        seed_lo,
        seed_hi,
        stream,
        background,
    };
    ctx.dispatch(KernelSpec {
        shader: "augment",
        entry: "shift_images",
        constants: vec![],
        params: bytemuck::bytes_of(&params),
        tensors: vec![
            (input, Access::Read),
            (output, Access::ReadWrite),
            (counter, Access::Read),
        ],
        workgroups: workgroups_1d(input.len(), 256),
    })
}
