//! Neural-network building blocks on the GPU: network specs, initialisation and the MLP.

pub mod init;
pub mod mlp;
pub mod spec;

pub use mlp::{Mlp, MlpPass, ParamGrads};
pub use spec::{LayerSpec, MlpSpec};
