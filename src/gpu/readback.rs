//! Asynchronous readback: copy a tensor into a staging buffer, map it, and collect the values
//! later without stalling the queue (training reads metrics this way every N iterations).

use std::sync::{Arc, Mutex};

use super::context::GpuContext;
use super::tensor::Tensor;
use crate::error::{Error, Result};

type MapResult = Arc<Mutex<Option<std::result::Result<(), wgpu::BufferAsyncError>>>>;

pub struct PendingRead<T> {
    staging: wgpu::Buffer,
    len: usize,
    mapped: MapResult,
    /// The submission that carries the copy: waiting for it alone lets later work keep running.
    submission: Option<wgpu::SubmissionIndex>,
    _element: std::marker::PhantomData<T>,
}

impl GpuContext {
    /// Start reading `tensor`: the copy is submitted now, the values arrive with a later poll.
    pub fn read_async<T: bytemuck::Pod>(&self, tensor: &Tensor) -> PendingRead<T> {
        let mut encoder = self
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("readback"),
            });
        let staging = self.encode_read(&mut encoder, tensor);
        let submission = self.queue.submit([encoder.finish()]);
        self.begin_map(staging, tensor.len(), Some(submission))
    }

    /// Record the copy into an existing encoder; call `begin_map` after submitting it.
    pub fn encode_read(&self, encoder: &mut wgpu::CommandEncoder, tensor: &Tensor) -> wgpu::Buffer {
        let staging = self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("readback staging"),
            size: tensor.byte_len().max(4),
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        if tensor.byte_len() > 0 {
            encoder.copy_buffer_to_buffer(
                tensor.buffer(),
                tensor.byte_offset(),
                &staging,
                0,
                tensor.byte_len(),
            );
        }
        staging
    }

    pub fn begin_map<T: bytemuck::Pod>(
        &self,
        staging: wgpu::Buffer,
        len: usize,
        submission: Option<wgpu::SubmissionIndex>,
    ) -> PendingRead<T> {
        self.transfers.count_read();
        let mapped: MapResult = Arc::new(Mutex::new(None));
        let sink = mapped.clone();
        staging.map_async(wgpu::MapMode::Read, .., move |result| {
            *sink.lock().unwrap() = Some(result);
        });
        PendingRead {
            staging,
            len,
            mapped,
            submission,
            _element: std::marker::PhantomData,
        }
    }
}

impl<T: bytemuck::Pod> PendingRead<T> {
    /// The values if the GPU has finished, else `None` (never blocks).
    pub fn try_take(&mut self, ctx: &GpuContext) -> Result<Option<Vec<T>>> {
        let _ = ctx.device.poll(wgpu::PollType::Poll);
        let state = self.mapped.lock().unwrap().take();
        match state {
            None => Ok(None),
            Some(Err(e)) => Err(Error::Gpu(format!("reading a buffer back failed: {e}"))),
            Some(Ok(())) => {
                let values = {
                    let view = self
                        .staging
                        .get_mapped_range(..)
                        .map_err(|e| Error::Gpu(format!("mapping a readback buffer: {e}")))?;
                    bytemuck::cast_slice::<u8, T>(&view)[..self.len].to_vec()
                };
                self.staging.unmap();
                Ok(Some(values))
            }
        }
    }

    /// Wait for the values. Another thread's poll may be the one that runs this buffer's map
    /// callback, so an idle queue does not yet mean the values are here: poll until they are.
    pub fn wait(mut self, ctx: &GpuContext) -> Result<Vec<T>> {
        let started = std::time::Instant::now();
        loop {
            let wait = wgpu::PollType::Wait {
                submission_index: self.submission.clone(),
                timeout: None,
            };
            ctx.device
                .poll(wait)
                .map_err(|e| Error::Gpu(format!("waiting for the GPU failed: {e}")))?;
            ctx.check_errors()?;
            if let Some(values) = self.try_take(ctx)? {
                return Ok(values);
            }
            if started.elapsed() > std::time::Duration::from_secs(120) {
                return Err(Error::Gpu(
                    "reading a buffer back timed out after 120 s".into(),
                ));
            }
            std::thread::sleep(std::time::Duration::from_micros(200));
        }
    }
}
