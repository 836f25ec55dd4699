//! Every GPU kernel against the f64 CPU reference in `gan_gpu::reference`, on fresh random inputs
//! of awkward shapes, with output buffers poisoned (NaN) before the run so unwritten elements show.
//! One test binary for all kernel families keeps link time down; each family has its own module.

#[path = "kernels/common.rs"]
mod common;
mod support;

#[path = "kernels/matmul.rs"]
mod matmul;

#[path = "kernels/activation.rs"]
mod activation;

#[path = "kernels/reduce.rs"]
mod reduce;

#[path = "kernels/loss.rs"]
mod loss;

#[path = "kernels/optim.rs"]
mod optim;

#[path = "kernels/random.rs"]
mod random;

#[path = "kernels/data.rs"]
mod data;

#[path = "kernels/penalty.rs"]
mod penalty;

#[path = "kernels/parzen.rs"]
mod parzen;

#[path = "kernels/augment.rs"]
mod augment;

#[path = "kernels/conv.rs"]
mod conv;

#[path = "kernels/batch_norm.rs"]
mod batch_norm;

#[path = "kernels/condition.rs"]
mod condition;

#[path = "kernels/nearest.rs"]
mod nearest;

#[path = "kernels/manifold.rs"]
mod manifold;
