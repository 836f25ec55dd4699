//! r32float 2-D textures holding a flat f32 array, for kernels that read their operands through
//! the texture-fetch path (on llvmpipe a texel fetch gathers all SIMD lanes at once, where a
//! storage-buffer load with a per-lane address becomes a loop over the lanes).
//!
//! Element i of the array sits at texel (i mod TEXTURE_WIDTH, i / TEXTURE_WIDTH), so any array
//! up to TEXTURE_WIDTH × max_texture_dimension_2d elements fits whatever its matrix shape, and a
//! tensor reaches its texture with buffer-to-texture copies (full rows, then the tail row).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};

use super::context::GpuContext;
use super::tensor::{BufferRange, ELEMENT_BYTES, Tensor};
use crate::error::{Error, Result};

/// Texels per row; a power of two so shaders split an index with a mask and a shift. 1024 f32
/// are 4096 bytes, a multiple of the 256-byte row pitch that buffer-to-texture copies need.
pub const TEXTURE_WIDTH: u32 = 1024;

/// A texture of r32float texels holding `len` elements of a flat array.
pub struct FloatTexture {
    texture: wgpu::Texture,
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

/// A kernel's operand in a texture: elements from texel index `offset` on, filled by `copy`.
pub struct TextureOperand {
    pub texture: Arc<FloatTexture>,
    pub copy: TextureCopy,
    pub offset: u32,
}

/// Copies a tensor into a texture of its size; recorded outside compute passes (see
/// `Recorder::record`), as copy commands must be.
#[derive(Clone)]
pub struct TextureCopy {
    source: Tensor,
    texture: Arc<FloatTexture>,
}

impl TextureCopy {
    /// The texture this copy fills.
    pub fn texture(&self) -> &Arc<FloatTexture> {
        &self.texture
    }

    /// The texture's identity: copies into one texture share it.
    pub(crate) fn texture_id(&self) -> usize {
        Arc::as_ptr(&self.texture) as usize
    }

    pub(crate) fn source_range(&self) -> BufferRange {
        self.source.range()
    }

    pub(crate) fn encode(&self, encoder: &mut wgpu::CommandEncoder) {
        let width = TEXTURE_WIDTH as usize;
        let (rows, tail) = (self.source.len() / width, self.source.len() % width);
        // (first row, texels per row, rows): the full rows in one copy, then the partial row.
        let parts = [(0, width, rows), (rows, tail, 1)];
        for (first_row, texels, rows) in parts {
            if texels == 0 || rows == 0 {
                continue;
            }
            let offset = self.source.byte_offset() + (first_row * width * 4) as u64;
            encoder.copy_buffer_to_texture(
                wgpu::TexelCopyBufferInfo {
                    buffer: self.source.buffer(),
                    layout: wgpu::TexelCopyBufferLayout {
                        offset,
                        bytes_per_row: Some(TEXTURE_WIDTH * 4),
                        rows_per_image: None,
                    },
                },
                wgpu::TexelCopyTextureInfo {
                    texture: &self.texture.texture,
                    mip_level: 0,
                    origin: wgpu::Origin3d {
                        x: 0,
                        y: first_row as u32,
                        z: 0,
                    },
                    aspect: wgpu::TextureAspect::All,
                },
                wgpu::Extent3d {
                    width: texels as u32,
                    height: rows as u32,
                    depth_or_array_layers: 1,
                },
            );
        }
    }
}

impl GpuContext {
    /// Whether `len` elements fit one texture on this device.
    pub fn fits_texture(&self, len: usize) -> bool {
        let rows = len.div_ceil(TEXTURE_WIDTH as usize).max(1);
        rows <= self.limits.max_texture_dimension_2d as usize
    }

    /// The texture that mirrors `tensor` and the copy that fills it from the tensor (attach it
    /// to every kernel that reads the texture: a recorder skips it while the texture is still
    /// current). Kernels reading the same tensor share one texture, so a layer's weights are
    /// copied once per update rather than once per matmul that reads them.
    pub fn texture_copy_of(
        &self,
        label: &str,
        tensor: &Tensor,
    ) -> Result<(Arc<FloatTexture>, TextureCopy)> {
        let mut shared = self.textures.shared.lock().unwrap();
        let texture = match shared.get(&tensor.range()).and_then(|(t, _)| t.upgrade()) {
            Some(texture) => texture,
            None => {
                let texture = self.new_texture(label, tensor.len())?;
                shared.retain(|_, (texture, _)| texture.strong_count() > 0);
                shared.insert(tensor.range(), (Arc::downgrade(&texture), tensor.clone()));
                texture
            }
        };
        let copy = TextureCopy {
            source: tensor.clone(),
            texture: texture.clone(),
        };
        Ok((texture, copy))
    }

    /// A texture holding `tensor`'s elements from texel index `offset` on: the texture that
    /// mirrors a tensor containing it, when one exists (a network's parameter texture, which
    /// the optimizer writes as it updates them, holds every layer's weights), else its own
    /// (`texture_copy_of`). The copy refreshes the whole mirrored tensor.
    pub fn texture_holding(&self, label: &str, tensor: &Tensor) -> Result<TextureOperand> {
        let range = tensor.range();
        let containing = {
            let shared = self.textures.shared.lock().unwrap();
            // Its own texture goes first (a matmul's output keeps its mirror current).
            let has_own = shared
                .get(&range)
                .is_some_and(|(texture, _)| texture.strong_count() > 0);
            let containing = |(outer, (texture, source)): (&BufferRange, &(Weak<_>, Tensor))| {
                let texture = texture.upgrade()?;
                outer
                    .contains(&range)
                    .then(|| (texture, source.clone(), outer.start_byte()))
            };
            (!has_own)
                .then(|| shared.iter().find_map(containing))
                .flatten()
        };
        Ok(match containing {
            Some((texture, source, start)) => TextureOperand {
                copy: TextureCopy {
                    source,
                    texture: texture.clone(),
                },
                texture,
                offset: ((range.start_byte() - start) / ELEMENT_BYTES) as u32,
            },
            None => {
                let (texture, copy) = self.texture_copy_of(label, tensor)?;
                TextureOperand {
                    texture,
                    copy,
                    offset: 0,
                }
            }
        })
    }

    /// A one-row texture bound where a kernel declares a texture it will not write this time
    /// (a matmul whose C has no mirror), shared by all such kernels.
    pub fn unwritten_texture(&self) -> Result<Arc<FloatTexture>> {
        let mut unwritten = self.textures.unwritten.lock().unwrap();
        if let Some(texture) = unwritten.as_ref() {
            return Ok(texture.clone());
        }
        let texture = self.new_texture("unwritten texture", 1)?;
        *unwritten = Some(texture.clone());
        Ok(texture)
    }

    fn new_texture(&self, label: &str, len: usize) -> Result<Arc<FloatTexture>> {
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
                // Filled by copies, or written whole by a kernel that mirrors its output.
                usage: wgpu::TextureUsages::COPY_DST
                    | wgpu::TextureUsages::TEXTURE_BINDING
                    | wgpu::TextureUsages::STORAGE_BINDING,
                view_formats: &[],
            })
        })?;
        let view = texture.create_view(&wgpu::TextureViewDescriptor::default());
        Ok(Arc::new(FloatTexture { texture, view, len }))
    }
}

/// The textures that mirror tensors, by the bytes they mirror; weak, so a texture goes when the
/// last kernel reading it does.
#[derive(Default)]
pub(crate) struct SharedTextures {
    /// Each with the tensor it mirrors (kept alive with the entry, so its buffer's address is
    /// not reused while the entry stands).
    shared: Mutex<HashMap<BufferRange, (Weak<FloatTexture>, Tensor)>>,
    /// `GpuContext::unwritten_texture`, made on first use.
    unwritten: Mutex<Option<Arc<FloatTexture>>>,
}
