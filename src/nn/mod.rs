//! Neural-network building blocks on the GPU: network specs, initialisation and the MLP.

pub mod init;
pub mod mlp;
pub mod spec;

pub use mlp::{DropoutRng, LayerState, Mlp, MlpPass, ParamGrads};
pub use spec::{LayerInit, LayerSpec, MlpSpec};
