//! Copies of tensors into r32float textures (shaders/texture.wgsl), for kernels that read their
//! operands with textureLoad.

use super::expect_len;
use crate::error::Result;
use crate::gpu::{
    Access, Dispatch, FloatTexture, GpuContext, KernelSpec, Tensor, TextureAccess, workgroups_1d,
};

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    len: u32,
}

/// texture[i] = tensor[i] for every element (texel layout of `crate::gpu::texture`).
pub fn copy_to_texture(
    ctx: &GpuContext,
    tensor: &Tensor,
    texture: &FloatTexture,
) -> Result<Dispatch> {
    expect_len("copy_to_texture", "texture", texture.len(), tensor.len())?;
    let params = Params {
        len: tensor.len() as u32,
    };
    ctx.dispatch_with_textures(
        KernelSpec {
            shader: "texture",
            entry: "copy_to_texture",
            constants: Vec::new(),
            params: bytemuck::bytes_of(&params),
            tensors: vec![(tensor, Access::Read)],
            workgroups: workgroups_1d(tensor.len(), 64),
        },
        &[(texture, TextureAccess::StorageWrite)],
    )
}

/// A texture holding a copy of `tensor`, and the dispatch that refreshes the copy (record it
/// before every kernel that reads the texture, after whatever writes the tensor).
pub fn texture_copy_of(
    ctx: &GpuContext,
    label: &str,
    tensor: &Tensor,
) -> Result<(FloatTexture, Dispatch)> {
    let texture = ctx.float_texture(label, tensor.len())?;
    let copy = copy_to_texture(ctx, tensor, &texture)?;
    Ok((texture, copy))
}
