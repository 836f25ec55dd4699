//! gan-gpu: a GAN trainer whose every tensor lives on the GPU and whose every kernel is a
//! hand-written WGSL compute shader, dispatched from this Rust host through wgpu.

pub mod bench;
pub mod cli;
pub mod error;
pub mod gpu;
pub mod kernels;
pub mod reference;
pub mod shaders;

pub use error::{Error, Result};
