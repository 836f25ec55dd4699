//! The recorder: encodes many dispatches into one command encoder (one compute pass while only
//! dispatches follow each other) and submits them together, so a whole training iteration, or
//! many, reach the GPU in a single submission.
//!
//! It also keeps texture copies to those needed: a texture mirroring a tensor (src/gpu/texture.rs)
//! is copied again only once a recorded kernel, clear or copy may have written the tensor since
//! its last copy. A layer's weight texture is then filled once per optimizer step instead of
//! once per matmul that reads it (on llvmpipe a copy of one of the toy MLP's 6,000–9,000-element
//! tensors costs about 90 µs, timed by difference with `train --dry-run --profile`). A kernel
//! that writes a texture whole with its source's new contents (a matmul storing C into C's
//! texture, `Dispatch::leaving_current`) leaves it current, so its reader needs no copy at all.

use std::collections::HashMap;

use super::context::GpuContext;
use super::pipeline::Dispatch;
use super::tensor::{BufferRange, Tensor};
use super::texture::TextureCopy;
use crate::error::Result;

pub struct Recorder<'a> {
    ctx: &'a GpuContext,
    encoder: Option<wgpu::CommandEncoder>,
    pass: Option<wgpu::ComputePass<'static>>,
    /// Dispatches recorded so far (for tests and benchmarks).
    pub dispatches: usize,
    /// Tensor-to-texture copies recorded so far (for tests).
    pub texture_copies: usize,
    /// Textures filled in this recording whose source has not been written since, by texture
    /// identity. Each entry holds its copy, and so the texture and the source buffer: neither
    /// can be freed and its address reused by another during the recording.
    current_textures: HashMap<usize, TextureCopy>,
}

impl<'a> Recorder<'a> {
    pub fn new(ctx: &'a GpuContext) -> Recorder<'a> {
        let encoder = ctx
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("gan-gpu"),
            });
        Recorder {
            ctx,
            encoder: Some(encoder),
            pass: None,
            dispatches: 0,
            texture_copies: 0,
            current_textures: HashMap::new(),
        }
    }

    fn encoder(&mut self) -> &mut wgpu::CommandEncoder {
        self.pass = None; // a copy or clear must sit outside the compute pass
        self.encoder.as_mut().expect("recorder already submitted")
    }

    pub fn record(&mut self, dispatch: &Dispatch) {
        for copy in &dispatch.copies {
            if self.current_textures.contains_key(&copy.texture_id()) {
                continue;
            }
            copy.encode(self.encoder());
            self.texture_copies += 1;
            self.current_textures
                .insert(copy.texture_id(), copy.clone());
        }
        if self.pass.is_none() {
            let encoder = self.encoder.as_mut().expect("recorder already submitted");
            let pass = encoder
                .begin_compute_pass(&wgpu::ComputePassDescriptor {
                    label: Some("kernels"),
                    timestamp_writes: None,
                })
                .forget_lifetime();
            self.pass = Some(pass);
        }
        match dispatch.record(self.pass.as_mut().unwrap()) {
            Ok(()) => self.dispatches += 1,
            // Reported by the submission's error check, as wgpu's own errors are.
            Err(error) => self.ctx.report_error(error),
        }
        for written in &dispatch.writes {
            self.written(written);
        }
        for mirror in &dispatch.mirrors {
            self.current_textures
                .insert(mirror.texture_id(), mirror.clone());
        }
    }

    /// `range` may have changed: textures mirroring any of it need copying again.
    fn written(&mut self, range: &BufferRange) {
        self.current_textures
            .retain(|_, copy| !copy.source_range().overlaps(range));
    }

    pub fn record_all<'d>(&mut self, dispatches: impl IntoIterator<Item = &'d Dispatch>) {
        for dispatch in dispatches {
            self.record(dispatch);
        }
    }

    /// Zero a tensor on the GPU (no host write).
    pub fn clear(&mut self, tensor: &Tensor) {
        let (buffer, offset, len) = (tensor.buffer(), tensor.byte_offset(), tensor.byte_len());
        self.encoder().clear_buffer(buffer, offset, Some(len));
        self.written(&tensor.range());
    }

    /// Copy one tensor into another of the same size, on the GPU.
    pub fn copy(&mut self, from: &Tensor, to: &Tensor) {
        assert_eq!(from.len(), to.len(), "copy needs tensors of the same size");
        let encoder = self.encoder();
        encoder.copy_buffer_to_buffer(
            from.buffer(),
            from.byte_offset(),
            to.buffer(),
            to.byte_offset(),
            from.byte_len(),
        );
        self.written(&to.range());
    }

    /// Record a copy of `tensor` into a fresh staging buffer, for `GpuContext::begin_map`
    /// after `submit`.
    pub fn read_later(&mut self, tensor: &Tensor) -> wgpu::Buffer {
        let ctx = self.ctx;
        ctx.encode_read(self.encoder(), tensor)
    }

    /// Send everything recorded to the GPU (does not wait).
    pub fn submit(mut self) -> Result<wgpu::SubmissionIndex> {
        self.pass = None;
        let encoder = self.encoder.take().expect("recorder already submitted");
        let index = self.ctx.queue.submit([encoder.finish()]);
        self.ctx.check_errors()?;
        Ok(index)
    }
}
