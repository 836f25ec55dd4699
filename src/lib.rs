//! gan-gpu library: CPU-side data loading, report writing and checkpoint I/O.
//!
//! The GPU runtime (gpu, kernels, nn, gan, ...) is developed separately and
//! merged in later; this crate root lists only the modules owned here.

pub mod checkpoint_io;
pub mod data;
pub mod error;
pub mod report;

pub use error::{Error, Result};
