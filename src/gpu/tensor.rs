//! Tensors: views over GPU storage buffers. A view is (buffer, element offset, shape), so a whole
//! network's parameters can live in one buffer and still be bound layer by layer.

use std::sync::Arc;

use wgpu::util::DeviceExt;

use super::context::GpuContext;
use crate::error::{Error, Result};

/// Every element is 4 bytes (f32 or u32; u8 data is packed four to a word).
pub const ELEMENT_BYTES: u64 = 4;

#[derive(Clone, Debug)]
pub struct Tensor {
    buffer: Arc<wgpu::Buffer>,
    /// Offset of the first element, in elements.
    offset: u64,
    shape: Vec<usize>,
}

/// The bytes of one buffer a tensor covers: which buffer (by identity) and where. Two tensors
/// alias when their ranges overlap, whatever their shapes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct BufferRange {
    buffer: usize,
    start: u64,
    end: u64,
}

impl BufferRange {
    pub fn overlaps(&self, other: &BufferRange) -> bool {
        self.buffer == other.buffer && self.start < other.end && other.start < self.end
    }

    /// Whether every byte of `other` lies in this range.
    pub fn contains(&self, other: &BufferRange) -> bool {
        self.buffer == other.buffer && self.start <= other.start && other.end <= self.end
    }

    /// The first byte's offset in the buffer.
    pub fn start_byte(&self) -> u64 {
        self.start
    }
}

impl Tensor {
    /// The bytes this view covers (see [`BufferRange`]).
    pub fn range(&self) -> BufferRange {
        BufferRange {
            buffer: Arc::as_ptr(&self.buffer) as usize,
            start: self.byte_offset(),
            end: self.byte_offset() + self.byte_len(),
        }
    }

    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn buffer(&self) -> &wgpu::Buffer {
        &self.buffer
    }

    pub fn byte_offset(&self) -> u64 {
        self.offset * ELEMENT_BYTES
    }

    pub fn byte_len(&self) -> u64 {
        self.len() as u64 * ELEMENT_BYTES
    }

    /// The binding resource of exactly this view.
    pub fn binding(&self) -> wgpu::BindingResource<'_> {
        wgpu::BindingResource::Buffer(wgpu::BufferBinding {
            buffer: &self.buffer,
            offset: self.byte_offset(),
            size: wgpu::BufferSize::new(self.byte_len().max(ELEMENT_BYTES)),
        })
    }

    /// A view of `shape` starting `offset` elements into this one. Offsets used for binding
    /// must be multiples of the device's storage alignment; `FlatBuffer` takes care of that.
    pub fn view(&self, offset: usize, shape: &[usize]) -> Tensor {
        let len: usize = shape.iter().product();
        assert!(
            offset + len <= self.len(),
            "view [{offset}, {}) out of a tensor of {} elements",
            offset + len,
            self.len()
        );
        Tensor {
            buffer: self.buffer.clone(),
            offset: self.offset + offset as u64,
            shape: shape.to_vec(),
        }
    }

    /// The same elements seen with another shape.
    pub fn reshaped(&self, shape: &[usize]) -> Tensor {
        assert_eq!(
            shape.iter().product::<usize>(),
            self.len(),
            "reshape must keep the size"
        );
        Tensor {
            buffer: self.buffer.clone(),
            offset: self.offset,
            shape: shape.to_vec(),
        }
    }

    pub fn same_buffer(&self, other: &Tensor) -> bool {
        Arc::ptr_eq(&self.buffer, &other.buffer)
    }
}

const STORAGE_USAGE: wgpu::BufferUsages = wgpu::BufferUsages::STORAGE
    .union(wgpu::BufferUsages::COPY_SRC)
    .union(wgpu::BufferUsages::COPY_DST);

impl GpuContext {
    fn check_size(&self, what: &str, bytes: u64) -> Result<()> {
        if bytes > self.limits.max_storage_buffer_binding_size {
            return Err(Error::Gpu(format!(
                "{what} needs {bytes} bytes, more than this adapter's largest storage binding ({} bytes)",
                self.limits.max_storage_buffer_binding_size
            )));
        }
        Ok(())
    }

    /// A zero-filled tensor (new buffers are zeroed by wgpu; no host write needed).
    pub fn zeros(&self, label: &str, shape: &[usize]) -> Result<Tensor> {
        let len: usize = shape.iter().product();
        let bytes = (len.max(1) as u64) * ELEMENT_BYTES;
        self.check_size(label, bytes)?;
        self.allocations.count(bytes);
        let buffer = self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some(label),
            size: bytes,
            usage: STORAGE_USAGE,
            mapped_at_creation: false,
        });
        Ok(Tensor {
            buffer: Arc::new(buffer),
            offset: 0,
            shape: shape.to_vec(),
        })
    }

    /// A tensor holding these 4-byte elements (f32 or u32).
    pub fn upload<T: bytemuck::Pod>(
        &self,
        label: &str,
        shape: &[usize],
        data: &[T],
    ) -> Result<Tensor> {
        assert_eq!(std::mem::size_of::<T>() as u64, ELEMENT_BYTES);
        let len: usize = shape.iter().product();
        assert_eq!(
            len,
            data.len(),
            "{label}: shape {shape:?} does not match {} values",
            data.len()
        );
        self.check_size(label, data.len() as u64 * ELEMENT_BYTES)?;
        self.transfers.count_write();
        let contents: &[u8] = if data.is_empty() {
            &[0; 4]
        } else {
            bytemuck::cast_slice(data)
        };
        self.allocations.count(contents.len() as u64);
        let buffer = self
            .device
            .create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some(label),
                contents,
                usage: STORAGE_USAGE,
            });
        Ok(Tensor {
            buffer: Arc::new(buffer),
            offset: 0,
            shape: shape.to_vec(),
        })
    }

    /// Bytes packed four to a u32 word (little-endian: byte i is bits 8·(i mod 4) of word i/4).
    pub fn upload_bytes(&self, label: &str, bytes: &[u8]) -> Result<Tensor> {
        let words: Vec<u32> = bytes
            .chunks(4)
            .map(|chunk| {
                let mut word = [0u8; 4];
                word[..chunk.len()].copy_from_slice(chunk);
                u32::from_le_bytes(word)
            })
            .collect();
        self.upload(label, &[words.len()], &words)
    }

    /// Overwrite a tensor's contents from the host (setup and tests only; counted).
    pub fn write<T: bytemuck::Pod>(&self, tensor: &Tensor, data: &[T]) {
        assert_eq!(
            data.len(),
            tensor.len(),
            "write must cover the whole tensor"
        );
        self.transfers.count_write();
        self.queue.write_buffer(
            tensor.buffer(),
            tensor.byte_offset(),
            bytemuck::cast_slice(data),
        );
    }

    /// Read a tensor back, blocking until the GPU is done (setup, tests, checkpoints; counted).
    pub fn read<T: bytemuck::Pod>(&self, tensor: &Tensor) -> Result<Vec<T>> {
        // `wait` polls until this buffer's own map callback has run: with several threads on one
        // device, an idle queue alone does not mean another thread's poll has delivered it yet.
        self.read_async(tensor).wait(self)
    }

    pub fn read_f32(&self, tensor: &Tensor) -> Result<Vec<f32>> {
        self.read(tensor)
    }

    pub fn read_u32(&self, tensor: &Tensor) -> Result<Vec<u32>> {
        self.read(tensor)
    }
}

/// A small uniform buffer of kernel parameters, written once when the dispatch is built.
pub fn uniform_buffer(ctx: &GpuContext, label: &str, bytes: &[u8]) -> wgpu::Buffer {
    // Uniform buffers must be a multiple of 16 bytes in std140-like layouts.
    let mut padded = bytes.to_vec();
    padded.resize(bytes.len().div_ceil(16).max(1) * 16, 0);
    ctx.allocations.count(padded.len() as u64);
    ctx.device
        .create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some(label),
            contents: &padded,
            usage: wgpu::BufferUsages::UNIFORM,
        })
}

/// Several tensors packed into one buffer (a network's parameters, gradients, optimizer moments),
/// each starting on the device's storage-offset alignment so every view can be bound alone,
/// while one dispatch can still treat the whole buffer as a single flat vector.
pub struct FlatBuffer {
    pub whole: Tensor,
    pub views: Vec<Tensor>,
}

impl FlatBuffer {
    /// Offsets (in elements) of each shape in the packed layout, and the total length.
    pub fn layout(alignment_bytes: u64, shapes: &[Vec<usize>]) -> (Vec<usize>, usize) {
        let align = (alignment_bytes / ELEMENT_BYTES).max(1) as usize;
        let mut offsets = Vec::with_capacity(shapes.len());
        let mut next = 0usize;
        for shape in shapes {
            offsets.push(next);
            let len: usize = shape.iter().product();
            next = (next + len).div_ceil(align) * align;
        }
        (offsets, next)
    }

    pub fn zeros(ctx: &GpuContext, label: &str, shapes: &[Vec<usize>]) -> Result<FlatBuffer> {
        let alignment = ctx.limits.min_storage_buffer_offset_alignment as u64;
        let (offsets, total) = Self::layout(alignment, shapes);
        let whole = ctx.zeros(label, &[total])?;
        let views = offsets
            .iter()
            .zip(shapes)
            .map(|(&offset, shape)| whole.view(offset, shape))
            .collect();
        Ok(FlatBuffer { whole, views })
    }
}
