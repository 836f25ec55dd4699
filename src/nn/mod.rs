//! Neural-network building blocks on the GPU. A network is a sequence of layers (`layer::Layer`:
//! dense, linear, conv2d, conv_transpose2d, batch_norm, activation, flatten, unflatten,
//! dropout); each kind has one file with its forward and backward recording, and `init` and
//! `torch` give every kind's initialisation and checkpoint tensors.

pub mod batch_norm;
pub mod conv;
pub mod dense;
pub mod elementwise;
pub mod init;
pub mod layer;
pub mod layer_io;
pub mod network;
pub mod network_spec;
pub mod spec;
pub mod torch;

pub use layer::{BatchNormSpec, ConvSpec, DropoutSpec, Layer, LinearSpec};
pub use layer_io::{DropoutRng, LayerState, ParamGrads};
pub use network::{Network, Pass};
pub use network_spec::NetworkSpec;
pub use spec::{LayerInit, LayerSpec, MlpSpec};
