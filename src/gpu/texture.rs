//! r32float 2-D textures holding a flat f32 array, for kernels that read their operands through
//! the texture-fetch path (on llvmpipe a texel fetch gathers all SIMD lanes at once, where a
//! storage-buffer load with a per-lane address becomes a loop over the lanes).
//!
//! Element i of the array sits at texel (i mod TEXTURE_WIDTH, i / TEXTURE_WIDTH), so any array
//! up to TEXTURE_WIDTH × max_texture_dimension_2d elements fits whatever its matrix shape.

use super::context::GpuContext;
use crate::error::{Error, Result};

/// Texels per row; a power of two so shaders split an index with a mask and a shift. 1024 f32
/// are 4096 bytes, a multiple of the 256-byte row alignment of buffer/texture copies.
pub const TEXTURE_WIDTH: u32 = 1024;

/// How a kernel uses a texture.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TextureAccess {
    /// `texture_2d<f32>` read with textureLoad (r32float is not filterable).
    Sampled,
    /// `texture_storage_2d<r32float, write>` written with textureStore.
    StorageWrite,
}

/// A texture of r32float texels holding `len` elements of a flat array.
pub struct FloatTexture {
    _texture: wgpu::Texture,
    pub(crate) view: wgpu::TextureView,
    len: usize,
}

impl FloatTexture {
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl GpuContext {
    /// Whether `len` elements fit one texture on this device.
    pub fn fits_texture(&self, len: usize) -> bool {
        let rows = len.div_ceil(TEXTURE_WIDTH as usize).max(1);
        rows <= self.limits.max_texture_dimension_2d as usize
    }

    /// A texture for `len` elements (contents undefined until a kernel writes them).
    pub fn float_texture(&self, label: &str, len: usize) -> Result<FloatTexture> {
        if !self.fits_texture(len) {
            return Err(Error::Gpu(format!(
                "{label}: {len} elements do not fit a {TEXTURE_WIDTH}-wide texture of at most {} rows",
                self.limits.max_texture_dimension_2d
            )));
        }
        let rows = len.div_ceil(TEXTURE_WIDTH as usize).max(1) as u32;
        let texture = self.scoped(&format!("creating texture {label}"), || {
            self.device.create_texture(&wgpu::TextureDescriptor {
                label: Some(label),
                size: wgpu::Extent3d {
                    width: TEXTURE_WIDTH,
                    height: rows,
                    depth_or_array_layers: 1,
                },
                mip_level_count: 1,
                sample_count: 1,
                dimension: wgpu::TextureDimension::D2,
                format: wgpu::TextureFormat::R32Float,
                usage: wgpu::TextureUsages::STORAGE_BINDING | wgpu::TextureUsages::TEXTURE_BINDING,
                view_formats: &[],
            })
        })?;
        let view = texture.create_view(&wgpu::TextureViewDescriptor::default());
        Ok(FloatTexture {
            _texture: texture,
            view,
            len,
        })
    }
}
