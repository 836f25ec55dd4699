//! The GPU runtime: adapter choice, device, tensors, pipelines, recording and readback.

pub mod adapter;
pub mod context;
pub mod pipeline;
mod pipeline_compile;
pub mod readback;
pub mod recorder;
pub mod tensor;
pub mod texture;

pub use adapter::AdapterChoice;
pub use context::{Allocated, GpuContext};
pub use pipeline::{Access, Dispatch, KernelSpec, TextureAccess, workgroups_1d};
pub use readback::PendingRead;
pub use recorder::Recorder;
pub use tensor::{FlatBuffer, Tensor};
pub use texture::{FloatTexture, TEXTURE_WIDTH, TextureCopy, TextureOperand};
