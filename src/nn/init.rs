//! Parameter initialisation as PyTorch's `nn.Linear`: weights and biases uniform in
//! ±1/√fan_in (kaiming_uniform with a = √5 reduces to that bound), drawn on the host once at
//! setup from a seeded generator so a run is reproducible on every adapter.

use super::spec::MlpSpec;

/// SplitMix64: tiny, fast, and stable across crate versions (unlike `rand`'s generators).
pub struct SplitMix64(pub u64);

impl SplitMix64 {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1) with 53 random bits.
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Standard normal (Box–Muller).
    pub fn next_normal(&mut self) -> f64 {
        let u1 = 1.0 - self.next_f64();
        let u2 = self.next_f64();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }
}

/// Initial values for each parameter tensor of `spec`, in `parameter_shapes` order.
pub fn linear_init(spec: &MlpSpec, seed: u64) -> Vec<Vec<f32>> {
    let mut rng = SplitMix64(seed);
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
