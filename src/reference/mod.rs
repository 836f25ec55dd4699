//! Plain f64 CPU versions of every kernel, written for clarity: the oracle the GPU kernels are
//! tested against, and the base of the finite-difference gradient checks.

pub mod activation;
pub mod augment;
pub mod batch_norm;
pub mod conv;
pub mod data;
pub mod loss;
pub mod matmul;
pub mod mlp;
pub mod network;
pub mod optim;
pub mod parzen;
pub mod penalty;
pub mod random;
pub mod reduce;
