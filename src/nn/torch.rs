//! Checkpoint tensors in PyTorch's names and layouts: a network's layers as the children of a
//! `torch.nn.Sequential` (`Layer::torch_modules` numbers them), so `load_state_dict` takes a
//! gan-gpu file unchanged.
//!
//! - dense and linear layers: `{i}.weight` [out, in] (the GPU keeps [in, out]) and `{i}.bias`.
//!   A maxout layer's Linear has outputs × pieces rows, unit u's pieces being rows
//!   u·pieces .. u·pieces + pieces − 1 (`linear(x).view(-1, outputs, pieces).max(-1).values`);
//! - Conv2d `{i}.weight` [out, in, k, k], ConvTranspose2d [in, out, k, k] (the GPU layouts with
//!   the kernel axes flattened), `{i}.bias` [out] unless bias is off;
//! - BatchNorm `{i}.weight` (γ), `{i}.bias` (β), `{i}.running_mean`, `{i}.running_var` and
//!   `{i}.num_batches_tracked` (an int64 scalar).

use std::path::Path;

use super::layer::Layer;
use super::network::Network;
use super::network_spec::NetworkSpec;
use crate::checkpoint_io::{NamedTensor, find_tensor};
use crate::error::{Error, Result};
use crate::gpu::GpuContext;

/// [rows, cols] row-major → [cols, rows].
fn transpose(values: &[f32], rows: usize, cols: usize) -> Vec<f32> {
    let mut out = vec![0.0f32; values.len()];
    for r in 0..rows {
        for c in 0..cols {
            out[c * rows + r] = values[r * cols + c];
        }
    }
    out
}

/// (name suffix, PyTorch shape) of each parameter tensor of `layer`, in `parameter_shapes`
/// order.
fn parameter_names(layer: &Layer) -> Vec<(&'static str, Vec<usize>)> {
    match layer {
        Layer::Dense(_) | Layer::Linear(_) => {
            let dense = layer.as_dense().expect("dense or linear");
            let mut names = vec![
                ("weight", vec![dense.width(), dense.inputs]),
                ("bias", vec![dense.width()]),
            ];
            names.truncate(layer.parameter_shapes().len()); // a linear layer without bias
            names
        }
        Layer::Conv2d(c) | Layer::ConvTranspose2d(c) => {
            let (rows, cols) = match layer {
                Layer::Conv2d(_) => (c.out_channels, c.in_channels),
                _ => (c.in_channels, c.out_channels),
            };
            let mut names = vec![("weight", vec![rows, cols, c.kernel, c.kernel])];
            if c.bias {
                names.push(("bias", vec![c.out_channels]));
            }
            names
        }
        Layer::BatchNorm(bn) => vec![("weight", vec![bn.features]), ("bias", vec![bn.features])],
        _ => vec![],
    }
}

const BUFFER_NAMES: [&str; 2] = ["running_mean", "running_var"];

/// Every tensor of `network` under `prefix` (e.g. "generator."); `batches_tracked` is the
/// number of training passes each batch-norm layer has seen (`num_batches_tracked`).
pub fn torch_tensors(
    ctx: &GpuContext,
    network: &Network,
    prefix: &str,
    batches_tracked: u64,
) -> Result<Vec<NamedTensor>> {
    let mut tensors = Vec::new();
    let indices = network.spec.torch_indices();
    for (i, layer) in network.spec.layers.iter().enumerate() {
        let module = format!("{prefix}{}", indices[i]);
        for ((suffix, shape), view) in parameter_names(layer)
            .into_iter()
            .zip(network.layer_params(i))
        {
            let mut values = ctx.read_f32(view)?;
            if suffix == "weight" && layer.as_dense().is_some() {
                values = transpose(&values, shape[1], shape[0]); // [in, out] on the GPU
            }
            tensors.push((format!("{module}.{suffix}"), shape, values));
        }
        for (suffix, view) in BUFFER_NAMES.iter().zip(network.layer_buffers(i)) {
            tensors.push((
                format!("{module}.{suffix}"),
                view.shape().to_vec(),
                ctx.read_f32(view)?,
            ));
        }
        if matches!(layer, Layer::BatchNorm(_)) {
            tensors.push((
                format!("{module}.num_batches_tracked"),
                vec![],
                vec![batches_tracked as f32],
            ));
        }
    }
    Ok(tensors)
}

/// What a network's checkpoint tensors hold, in our layouts.
pub struct NetworkValues {
    /// `NetworkSpec::parameter_shapes` order.
    pub params: Vec<Vec<f32>>,
    /// `NetworkSpec::buffer_shapes` order.
    pub buffers: Vec<Vec<f32>>,
}

/// The parameters and running buffers of `spec` from `torch_tensors`' names, back in our
/// layouts; `file` is named in errors.
pub fn values_from_torch(
    tensors: &[NamedTensor],
    spec: &NetworkSpec,
    prefix: &str,
    file: &Path,
) -> Result<NetworkValues> {
    let mut values = NetworkValues {
        params: Vec::new(),
        buffers: Vec::new(),
    };
    let indices = spec.torch_indices();
    for (i, layer) in spec.layers.iter().enumerate() {
        let module = format!("{prefix}{}", indices[i]);
        for (suffix, shape) in parameter_names(layer) {
            let found = expect_tensor(tensors, &format!("{module}.{suffix}"), &shape, file)?;
            values
                .params
                .push(if suffix == "weight" && layer.as_dense().is_some() {
                    transpose(found, shape[0], shape[1])
                } else {
                    found.to_vec()
                });
        }
        for (suffix, shape) in BUFFER_NAMES.iter().zip(layer.buffer_shapes()) {
            let found = expect_tensor(tensors, &format!("{module}.{suffix}"), &shape, file)?;
            values.buffers.push(found.to_vec());
        }
    }
    Ok(values)
}

/// The tensor called `name`, which must have `shape`.
pub fn expect_tensor<'a>(
    tensors: &'a [NamedTensor],
    name: &str,
    shape: &[usize],
    file: &Path,
) -> Result<&'a [f32]> {
    let (_, found_shape, values) =
        find_tensor(tensors, name).ok_or_else(|| Error::InvalidData {
            file: file.to_path_buf(),
            field: format!("tensor {name}"),
            expected: format!("a tensor of shape {shape:?}"),
            found: "no such tensor (a checkpoint of another architecture?)".into(),
        })?;
    if found_shape != shape {
        return Err(Error::InvalidData {
            file: file.to_path_buf(),
            field: format!("tensor {name}"),
            expected: format!("shape {shape:?}"),
            found: format!("shape {found_shape:?} (a checkpoint of another architecture)"),
        });
    }
    Ok(values)
}
