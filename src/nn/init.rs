//! Parameter initialisation, drawn on the host once at setup from a seeded SplitMix64 (stable
//! across crate versions, unlike `rand`'s generators), so a run is reproducible on every adapter.
//!
//! By default as PyTorch's `nn.Linear`: weights and biases uniform in ±1/√fan_in
//! (kaiming_uniform with a = √5 reduces to that bound). A layer may instead ask for pylearn2's
//! `irange` (weights uniform in ±range, biases 0), optionally with the biases of a sigmoid output
//! set from the data's marginals, as Goodfellow et al. (2014)'s published configuration does.

use super::layer::Layer;
use super::network_spec::NetworkSpec;
use super::spec::LayerInit;
use crate::data::SplitMix64;
use crate::error::{Error, Result};

/// Initial values for each parameter tensor of `spec` with PyTorch's or a uniform or normal
/// initialisation, in `parameter_shapes` order. Panics on a layer that needs the data's means:
/// use [`initial_parameters`] for those.
pub fn linear_init<S: Clone + Into<NetworkSpec>>(spec: &S, seed: u64) -> Vec<Vec<f32>> {
    initial_parameters(&spec.clone().into(), seed, None)
        .expect("no layer of this spec needs the data's means")
}

/// Initial values for each parameter tensor of `spec`, in `parameter_shapes` order, drawn layer
/// by layer from one SplitMix64 stream. `data_means` is the training data's mean of each feature
/// in [0, 1] (for `LayerInit::UniformDataLogitBias`; unused otherwise).
pub fn initial_parameters(
    spec: &NetworkSpec,
    seed: u64,
    data_means: Option<&[f64]>,
) -> Result<Vec<Vec<f32>>> {
    let mut rng = SplitMix64::new(seed);
    let mut tensors = Vec::new();
    for (i, layer) in spec.layers.iter().enumerate() {
        let shapes = layer.parameter_shapes();
        let sizes: Vec<usize> = shapes.iter().map(|s| s.iter().product()).collect();
        let uniform = |rng: &mut SplitMix64, n: usize, bound: f64| -> Vec<f32> {
            (0..n)
                .map(|_| ((rng.next_f64() * 2.0 - 1.0) * bound) as f32)
                .collect()
        };
        // (weight init, fan_in of PyTorch's default bound)
        let (init, fan_in) = match layer {
            Layer::Dense(l) => (l.init, l.inputs),
            Layer::Linear(l) => (l.init, l.inputs),
            Layer::Conv2d(c) => (c.init, c.fan_in(false)),
            Layer::ConvTranspose2d(c) => (c.init, c.fan_in(true)),
            Layer::BatchNorm(bn) => {
                let features = sizes[0];
                let gamma = match bn.init {
                    LayerInit::Normal { std } => (0..features)
                        .map(|_| (1.0 + std as f64 * rng.next_normal()) as f32)
                        .collect(),
                    _ => vec![1.0; features],
                };
                tensors.push(gamma);
                tensors.push(vec![0.0; features]);
                continue;
            }
            _ => continue,
        };
        match init {
            LayerInit::Torch => {
                let bound = 1.0 / (fan_in as f64).sqrt();
                for &n in &sizes {
                    tensors.push(uniform(&mut rng, n, bound));
                }
            }
            LayerInit::Uniform { range } => {
                tensors.push(uniform(&mut rng, sizes[0], range as f64));
                tensors.extend(sizes[1..].iter().map(|&n| vec![0.0; n]));
            }
            LayerInit::Normal { std } => {
                let weight = (0..sizes[0])
                    .map(|_| (std as f64 * rng.next_normal()) as f32)
                    .collect();
                tensors.push(weight);
                tensors.extend(sizes[1..].iter().map(|&n| vec![0.0; n]));
            }
            LayerInit::UniformDataLogitBias { range } => {
                tensors.push(uniform(&mut rng, sizes[0], range as f64));
                let width = sizes[1];
                let means = data_means.filter(|m| m.len() == width).ok_or_else(|| {
                    Error::Input(format!(
                        "layer {i}: a bias from the data's logit mean needs image data of {width} \
                         values per example{}",
                        data_means.map_or(String::new(), |m| format!(", found {}", m.len()))
                    ))
                })?;
                tensors.push(means.iter().map(|&m| logit_of_mean(m) as f32).collect());
            }
        }
    }
    Ok(tensors)
}

/// log(p / (1 − p)) with p clipped to [1e-7, 1 − 1e-7] (pylearn2's clip: a pixel that is always
/// 0 starts at −16.1 rather than −∞).
pub fn logit_of_mean(mean: f64) -> f64 {
    let p = mean.clamp(1e-7, 1.0 - 1e-7);
    (p / (1.0 - p)).ln()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::Activation;
    use crate::nn::spec::{LayerSpec, MlpSpec};

    fn spec(init: LayerInit, pieces: usize, activation: Activation) -> NetworkSpec {
        MlpSpec {
            layers: vec![LayerSpec {
                pieces,
                init,
                ..LayerSpec::linear(400, 3, activation)
            }],
        }
        .into()
    }

    #[test]
    fn torch_bounds_cover_every_maxout_column() {
        let params = linear_init(&spec(LayerInit::Torch, 5, Activation::Identity), 1);
        assert_eq!((params[0].len(), params[1].len()), (400 * 15, 15));
        let bound = 1.0 / 20.0;
        for tensor in &params {
            assert!(tensor.iter().all(|v| v.abs() <= bound));
            // 6000 draws in ±1/20: the largest is near the bound (P(all < 0.9·bound) = 0.9^6000).
            let largest = tensor.iter().fold(0.0f32, |m, v| m.max(v.abs()));
            assert!(tensor.len() < 100 || largest > 0.9 * bound, "{largest}");
        }
    }

    #[test]
    fn uniform_range_has_zero_biases() {
        let params = linear_init(
            &spec(LayerInit::Uniform { range: 0.005 }, 5, Activation::Identity),
            1,
        );
        assert!(params[0].iter().all(|v| v.abs() <= 0.005));
        assert!(params[0].iter().any(|v| v.abs() > 0.004));
        assert!(params[1].iter().all(|&b| b == 0.0));
    }

    #[test]
    fn data_logit_bias_inverts_the_sigmoid_of_the_means() {
        let spec = spec(
            LayerInit::UniformDataLogitBias { range: 0.05 },
            1,
            Activation::Sigmoid,
        );
        let means = [0.0, 0.25, 1.0];
        let params = initial_parameters(&spec, 1, Some(&means)).unwrap();
        let sigmoid = |b: f32| 1.0 / (1.0 + (-(b as f64)).exp());
        assert!((sigmoid(params[1][0]) - 1e-7).abs() < 1e-12);
        assert!((sigmoid(params[1][1]) - 0.25).abs() < 1e-6);
        assert!((sigmoid(params[1][2]) - (1.0 - 1e-7)).abs() < 1e-6);
        let error = initial_parameters(&spec, 1, None).unwrap_err().to_string();
        assert!(error.contains("needs image data of 3 values"), "{error}");
    }
}
