//! Parameter initialisation as PyTorch's `nn.Linear`: weights and biases uniform in
//! ±1/√fan_in (kaiming_uniform with a = √5 reduces to that bound), drawn on the host once at
//! setup from a seeded SplitMix64 (stable across crate versions, unlike `rand`'s generators),
//! so a run is reproducible on every adapter.

use super::spec::MlpSpec;
use crate::data::SplitMix64;

/// Initial values for each parameter tensor of `spec`, in `parameter_shapes` order.
pub fn linear_init(spec: &MlpSpec, seed: u64) -> Vec<Vec<f32>> {
    let mut rng = SplitMix64::new(seed);
    let mut tensors = Vec::new();
    for layer in &spec.layers {
        let bound = 1.0 / (layer.inputs as f64).sqrt();
        let mut uniform = |n: usize| -> Vec<f32> {
            (0..n)
                .map(|_| ((rng.next_f64() * 2.0 - 1.0) * bound) as f32)
                .collect()
        };
        tensors.push(uniform(layer.inputs * layer.outputs));
        tensors.push(uniform(layer.outputs));
    }
    tensors
}
