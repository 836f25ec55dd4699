//! gan-gpu: a GAN trainer whose every tensor lives on the GPU and whose every kernel is a
//! hand-written WGSL compute shader, dispatched from this Rust host through wgpu.

pub mod bench;
pub mod checkpoint_io;
pub mod cli;
pub mod clock;
pub mod data;
pub mod error;
pub mod eval;
pub mod export;
pub mod gan;
pub mod gpu;
pub mod kernels;
pub mod limits;
pub mod nn;
pub mod output;
pub mod reference;
pub mod report;
pub mod shaders;

pub use error::{Error, Result};
