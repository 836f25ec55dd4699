//! Size checks before anything is allocated.
//!
//! Every size a user controls that scales memory (layer widths, noise dimensions, batch size,
//! sample counts, image dimensions from a file header, evaluation sizes) is checked here, with
//! checked arithmetic, against what the adapter can bind and what the host can hold, before a
//! host vector or GPU buffer of that size exists. An error names the flag or file, the size and
//! the limit, so "memory allocation of N bytes failed" never reaches a user.

use std::sync::Mutex;

use crate::error::{Error, Result};
use crate::gan::TrainConfig;
use crate::nn::conv::conv_op;
use crate::nn::{Layer, MlpSpec, NetworkSpec};

/// What one allocation may use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemoryLimits {
    /// The adapter's largest storage binding (every tensor is bound whole somewhere).
    pub max_binding: u64,
    /// The adapter's largest buffer.
    pub max_buffer: u64,
    /// Memory the host can give this process (MemAvailable, or `GAN_GPU_HOST_MEMORY` bytes).
    pub host: u64,
}

/// The limits of the adapter opened last (see [`record_device`]).
static DEVICE: Mutex<Option<(u64, u64)>> = Mutex::new(None);

/// Remember an opened device's limits for checks made where no context is at hand (file
/// loaders). `GpuContext::new` calls it.
pub fn record_device(limits: &wgpu::Limits) {
    *DEVICE.lock().unwrap_or_else(|e| e.into_inner()) = Some((
        limits.max_storage_buffer_binding_size,
        limits.max_buffer_size,
    ));
}

impl MemoryLimits {
    /// The limits of `limits`' adapter and this host.
    pub fn of_device(limits: &wgpu::Limits) -> MemoryLimits {
        MemoryLimits {
            max_binding: limits.max_storage_buffer_binding_size,
            max_buffer: limits.max_buffer_size,
            host: host_memory(),
        }
    }

    /// The last opened adapter's limits, or WebGPU's defaults (128 MiB binding, 256 MiB
    /// buffer: what every adapter offers) before any is opened.
    pub fn current() -> MemoryLimits {
        let device = *DEVICE.lock().unwrap_or_else(|e| e.into_inner());
        let (max_binding, max_buffer) = device.unwrap_or_else(|| {
            let d = wgpu::Limits::default();
            (d.max_storage_buffer_binding_size, d.max_buffer_size)
        });
        MemoryLimits {
            max_binding,
            max_buffer,
            host: host_memory(),
        }
    }

    /// Refuse `bytes` (None: past 2^64) for `what` when over the largest storage binding.
    pub fn check_binding(&self, what: &str, bytes: Option<u64>) -> Result<()> {
        check(
            what,
            bytes,
            self.max_binding,
            "the adapter's largest storage binding",
        )
    }

    /// Refuse `bytes` for `what` when over what the host can hold.
    pub fn check_host(&self, what: &str, bytes: Option<u64>) -> Result<()> {
        check(what, bytes, self.host, "the memory this host has available")
    }
}

/// The error for `what` needing `bytes` (None: more than 2^64) over `limit` bytes.
pub fn check(what: &str, bytes: Option<u64>, limit: u64, limit_name: &str) -> Result<()> {
    match bytes {
        Some(bytes) if bytes <= limit => Ok(()),
        Some(bytes) => Err(Error::Input(format!(
            "{what} needs {}, more than {limit_name} ({})",
            human_bytes(bytes),
            human_bytes(limit)
        ))),
        None => Err(Error::Input(format!(
            "{what} needs more than 2^64 bytes, more than {limit_name} ({})",
            human_bytes(limit)
        ))),
    }
}

/// `a · b · c ...` bytes, None on overflow.
pub fn product(factors: &[u64]) -> Option<u64> {
    factors.iter().try_fold(1u64, |acc, &f| acc.checked_mul(f))
}

/// 4-byte elements of `factors` (f32/u32), None on overflow.
pub fn f32_bytes(factors: &[usize]) -> Option<u64> {
    let mut all: Vec<u64> = factors.iter().map(|&f| f as u64).collect();
    all.push(4);
    product(&all)
}

pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 6] = ["bytes", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} bytes")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// Memory the host can give: `GAN_GPU_HOST_MEMORY` (bytes) if set, else Linux's MemAvailable,
/// else 8 GiB.
pub fn host_memory() -> u64 {
    if let Some(bytes) = std::env::var("GAN_GPU_HOST_MEMORY")
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
    {
        return bytes;
    }
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|text| {
            text.lines()
                .find(|l| l.starts_with("MemAvailable:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        })
        .map_or(8 << 30, |kib| kib.saturating_mul(1024))
}

/// The flag (with its value) that sets the size `size` of an MLP's dimension.
fn dimension_flag(
    config: &TrainConfig,
    network: &str,
    spec: &MlpSpec,
    layer: usize,
    input: bool,
) -> String {
    let last = spec.layers.len().saturating_sub(1);
    let hidden_flag = if network == "generator" {
        "--g-hidden"
    } else {
        "--d-hidden"
    };
    let hidden = || {
        let sizes: Vec<String> = spec.layers[..last]
            .iter()
            .map(|l| l.outputs.to_string())
            .collect();
        format!("{hidden_flag} {}", sizes.join(","))
    };
    let data = || {
        format!(
            "DATA {} ({} values per example)",
            match &config.data {
                crate::gan::DataSource::Folder(f) | crate::gan::DataSource::Toy(f) => f,
            },
            config.discriminator.inputs()
        )
    };
    match (network, layer, input) {
        ("generator", 0, true) => format!("--noise-dim {}", config.noise_dim),
        ("generator", l, false) if l == last => data(),
        ("discriminator", 0, true) => data(),
        ("discriminator", l, false) if l == last => "the discriminator's output".into(),
        _ => hidden(),
    }
}

/// Refuse a configuration whose networks, activations or optimizer state would not fit the
/// adapter or the host, naming the flag that sets the offending size.
pub fn check_training(config: &TrainConfig, limits: &MemoryLimits) -> Result<()> {
    let batch = config.batch_size;
    let mut host_total: u64 = 0;
    for (network, spec) in [
        ("generator", &config.generator),
        ("discriminator", &config.discriminator),
    ] {
        check_network(config, network, spec, batch, limits)?;
        // Parameters, gradients, up to two optimizer moments and the host's initial copy;
        // activations and their gradients for the D, G and penalty passes.
        let params = parameter_count(spec).unwrap_or(u64::MAX);
        host_total = host_total.saturating_add(params.saturating_mul(4 * 5));
        for shape in spec.shapes() {
            let mut values = vec![batch];
            values.extend(shape);
            let activations = f32_bytes(&values).unwrap_or(u64::MAX);
            host_total = host_total.saturating_add(activations.saturating_mul(6));
        }
    }
    if config.eval.every > 0 {
        let e = &config.eval;
        check_eval_sizes(
            "--eval-",
            &[
                ("samples", e.samples),
                ("parzen-test", e.parzen_test),
                ("parzen-validation", e.parzen_validation),
            ],
            config.generator.outputs(),
            limits,
        )?;
    }
    let noise = f32_bytes(&[batch, config.noise_dim]);
    limits.check_binding(
        &format!(
            "--noise-dim {} with --batch-size {batch}: the noise batch",
            config.noise_dim
        ),
        noise,
    )?;
    limits.check_host(
        &format!(
            "training (G {}, D {}, batch {batch})",
            config.generator.sizes_text(),
            config.discriminator.sizes_text()
        ),
        Some(host_total),
    )
}

/// The sizes of an evaluation (`eval --samples ...`, or `train --eval-samples ...` with
/// `prefix` "--eval-"): each at least 1 (the Parzen test count may be 0: no estimate), and the
/// [size, features] tensors each makes within the adapter's binding and the host.
pub fn check_eval_sizes(
    prefix: &str,
    sizes: &[(&str, usize)],
    features: usize,
    limits: &MemoryLimits,
) -> Result<()> {
    for &(name, size) in sizes {
        let flag = format!("{prefix}{name}");
        if size == 0 && name != "parzen-test" {
            return Err(Error::Input(format!("{flag}: must be at least 1, found 0")));
        }
        let what = format!("{flag} {size}: {size} examples × {features} values");
        let bytes = f32_bytes(&[size, features]);
        limits.check_binding(&what, bytes)?;
        limits.check_host(&what, bytes)?;
    }
    Ok(())
}

fn parameter_count(spec: &NetworkSpec) -> Option<u64> {
    spec.parameter_shapes()
        .iter()
        .try_fold(0u64, |total, shape| {
            let size = shape
                .iter()
                .try_fold(1u64, |acc, &d| acc.checked_mul(d as u64))?;
            total.checked_add(size)
        })
}

/// One network's layers, activations and flat parameter buffer against the adapter's limits.
pub fn check_network(
    config: &TrainConfig,
    network: &str,
    spec: &NetworkSpec,
    batch: usize,
    limits: &MemoryLimits,
) -> Result<()> {
    match spec.as_mlp() {
        Some(mlp) => check_mlp(config, network, &mlp, batch, limits)?,
        None => check_layers(network, spec, batch, limits)?,
    }
    let params = parameter_count(spec).and_then(|p| p.checked_mul(4));
    let what = format!(
        "{network} {}: its {} parameters in one flat buffer",
        spec.sizes_text(),
        parameter_count(spec).map_or("over 2^64".into(), |p| p.to_string())
    );
    limits.check_binding(&what, params)?;
    check(
        &what,
        params,
        limits.max_buffer,
        "the adapter's largest buffer",
    )
}

/// An MLP's weights and activations, each named by the flag that sets its size.
fn check_mlp(
    config: &TrainConfig,
    network: &str,
    spec: &MlpSpec,
    batch: usize,
    limits: &MemoryLimits,
) -> Result<()> {
    for (i, layer) in spec.layers.iter().enumerate() {
        let flag = dimension_flag(config, network, spec, i, layer.inputs >= layer.width());
        let weights = f32_bytes(&[layer.inputs, layer.width()]);
        let what = format!(
            "{flag}: {network} layer {} ({} → {}) has {} weights and",
            i + 1,
            layer.inputs,
            layer.width(),
            (layer.inputs as u128) * (layer.width() as u128)
        );
        limits.check_binding(&what, weights)?;
        limits.check_host(&what, weights)?;
        let activations = f32_bytes(&[batch, layer.width().max(layer.inputs)]);
        limits.check_binding(
            &format!(
                "--batch-size {batch} with {flag}: {network} layer {}'s activations ({batch} × {})",
                i + 1,
                layer.width().max(layer.inputs)
            ),
            activations,
        )?;
    }
    Ok(())
}

/// A layer sequence's weights, activations and convolution columns (im2col: a row per output
/// position, a column per kernel tap and input channel), each against the binding limit.
fn check_layers(
    network: &str,
    spec: &NetworkSpec,
    batch: usize,
    limits: &MemoryLimits,
) -> Result<()> {
    let mut input = spec.input_shape();
    for (i, (layer, output)) in spec.layers.iter().zip(spec.shapes()).enumerate() {
        let name = format!("{network} layer {i} ({})", layer.kind_name());
        for shape in layer.parameter_shapes() {
            let what = format!("{name}: a parameter tensor of shape {shape:?}");
            limits.check_binding(&what, f32_bytes(&shape))?;
        }
        let mut values = vec![batch];
        values.extend(&output);
        limits.check_binding(
            &format!("--batch-size {batch}: {name}'s output ({batch} × {output:?})"),
            f32_bytes(&values),
        )?;
        let columns = match layer {
            Layer::Conv2d(c) => Some(conv_op(c, false, 1, &input)?.geometry),
            Layer::ConvTranspose2d(c) => Some(conv_op(c, true, 1, &input)?.geometry),
            _ => None,
        };
        if let Some(g) = columns {
            let (positions, taps) = (g.positions(), g.patch_len());
            limits.check_binding(
                &format!(
                    "--batch-size {batch}: {name}'s im2col columns ({batch}·{positions} × {taps}; \
                     --width sets the channels)"
                ),
                f32_bytes(&[batch, positions, taps]),
            )?;
        }
        input = output;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_size_and_limit_and_overflow_is_caught() {
        let limits = MemoryLimits {
            max_binding: 128 << 20,
            max_buffer: 256 << 20,
            host: 1 << 30,
        };
        let e = limits
            .check_binding("--x 5", f32_bytes(&[1 << 20, 1 << 10]))
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("--x 5 needs 4.0 GiB"), "{e}");
        assert!(e.contains("128.0 MiB"), "{e}");
        assert_eq!(f32_bytes(&[usize::MAX, 2]), None);
        assert!(limits.check_host("y", None).is_err());
        assert!(limits.check_host("y", Some(10)).is_ok());
    }
}
