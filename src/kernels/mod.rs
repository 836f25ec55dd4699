//! One typed wrapper per shader family: each builds `Dispatch`es from tensors and parameters,
//! checking shapes on the host so a mistake is an error here rather than garbage on the GPU.

pub mod activation;
pub mod augment;
pub mod batch_norm;
pub mod condition;
pub mod conv;
pub mod data;
pub mod loss;
pub mod manifold;
pub mod matmul;
pub mod matmul_subgroup8_gen;
pub mod matmul_tuning;
pub mod nearest;
pub mod optim;
pub mod parzen;
pub mod penalty;
pub mod random;
pub mod reduce;
pub mod tuning_cache;

use crate::error::{Error, Result};

/// Activation functions, as the shaders number them (`ACT_*` in shaders/common.wgsl).
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Activation {
    Identity,
    Relu,
    LeakyRelu(f32),
    Tanh,
    Sigmoid,
}

impl Activation {
    pub fn code(self) -> u32 {
        match self {
            Activation::Identity => 0,
            Activation::Relu => 1,
            Activation::LeakyRelu(_) => 2,
            Activation::Tanh => 3,
            Activation::Sigmoid => 4,
        }
    }

    /// The LeakyReLU slope (0 for the others; the shaders ignore it there).
    pub fn slope(self) -> f32 {
        match self {
            Activation::LeakyRelu(slope) => slope,
            _ => 0.0,
        }
    }
}

/// Shape check shared by the wrappers: names the kernel, the operand and both shapes.
pub(crate) fn expect_len(kernel: &str, operand: &str, found: usize, expected: usize) -> Result<()> {
    if found == expected {
        Ok(())
    } else {
        Err(Error::Input(format!(
            "{kernel}: {operand} has {found} elements, expected {expected}"
        )))
    }
}
