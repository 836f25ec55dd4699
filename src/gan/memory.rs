//! What a training run holds on the GPU, part by part: the parts named from the networks' flat
//! buffers, the optimizers' state and the data upload, and the rest (activations, their
//! gradients, batches, noise, kernel uniforms, running statistics) as the difference between
//! everything the context counted while the run was built and those parts.

use std::fmt;

use super::graph::TrainGraph;
use crate::gpu::{Allocated, Tensor};
use crate::nn::Network;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemoryBreakdown {
    /// G's and D's parameter buffers.
    pub g_parameters: u64,
    pub d_parameters: u64,
    /// G's and D's gradient buffers.
    pub gradients: u64,
    /// Both optimizers' moments, settings and step counters.
    pub optimizer_state: u64,
    /// The EMA generator (`--ema`), all of its buffers; 0 without one.
    pub ema: u64,
    /// The data set on the GPU (images and labels, or a toy mixture's centres).
    pub dataset: u64,
    /// Everything created while the data was uploaded and the graph built.
    pub total: u64,
    pub buffers: u64,
}

fn bytes(tensor: &Tensor) -> u64 {
    // The buffer's own size: a flat buffer's whole view covers it, padding included.
    tensor.buffer().size()
}

fn network_bytes(network: &Network) -> u64 {
    let grads = network.gradients().map_or(0, |grads| bytes(&grads.whole));
    bytes(&network.params.whole) + grads + bytes(&network.buffers.whole)
}

impl MemoryBreakdown {
    /// The breakdown of `graph`, given what the context counted while its data was uploaded
    /// and it was built.
    pub fn of(graph: &TrainGraph, allocated: Allocated) -> MemoryBreakdown {
        let optimizer_state = [&graph.g_optimizer, &graph.d_optimizer]
            .into_iter()
            .flat_map(|o| o.state.iter().chain([&o.settings, &o.step]))
            .map(bytes)
            .sum();
        MemoryBreakdown {
            g_parameters: bytes(&graph.generator.params.whole),
            d_parameters: bytes(&graph.discriminator.params.whole),
            gradients: [&graph.generator, &graph.discriminator]
                .into_iter()
                .filter_map(|network| network.gradients().ok())
                .map(|grads| bytes(&grads.whole))
                .sum(),
            optimizer_state,
            ema: graph.ema.as_ref().map_or(0, network_bytes),
            dataset: graph.real.dataset_bytes(),
            total: allocated.bytes,
            buffers: allocated.buffers,
        }
    }

    pub fn parameters(&self) -> u64 {
        self.g_parameters + self.d_parameters
    }

    /// The named parts' sum.
    pub fn named(&self) -> u64 {
        self.parameters() + self.gradients + self.optimizer_state + self.ema + self.dataset
    }

    /// Activations and their gradients, batches, noise, uniforms, running statistics: the
    /// total less the named parts.
    pub fn activations_and_scratch(&self) -> u64 {
        self.total.saturating_sub(self.named())
    }
}

/// Bytes as MiB with one decimal.
pub fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1u64 << 20) as f64)
}

impl fmt::Display for MemoryBreakdown {
    /// `GPU memory: 14.2 MiB in 312 buffers: parameters 5.6 MiB (G 2.6, D 3.0), ...`; the EMA
    /// generator only when the run keeps one.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let in_mib = |bytes: u64| bytes as f64 / (1u64 << 20) as f64;
        write!(
            f,
            "GPU memory: {} in {} buffers: parameters {} (G {:.1}, D {:.1}), gradients {}, \
             optimizer state {}",
            mib(self.total),
            self.buffers,
            mib(self.parameters()),
            in_mib(self.g_parameters),
            in_mib(self.d_parameters),
            mib(self.gradients),
            mib(self.optimizer_state)
        )?;
        if self.ema > 0 {
            write!(f, ", EMA generator {}", mib(self.ema))?;
        }
        write!(
            f,
            ", data set {}, activations and scratch {}",
            mib(self.dataset),
            mib(self.activations_and_scratch())
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_mib_with_one_decimal_and_the_remainder() {
        let breakdown = MemoryBreakdown {
            g_parameters: 1 << 20,
            d_parameters: 3 << 19,
            gradients: 5 << 19,
            optimizer_state: 5 << 20,
            ema: 0,
            dataset: 1 << 19,
            total: 12 << 20,
            buffers: 40,
        };
        assert_eq!(breakdown.activations_and_scratch(), 3 << 19);
        assert_eq!(
            breakdown.to_string(),
            "GPU memory: 12.0 MiB in 40 buffers: parameters 2.5 MiB (G 1.0, D 1.5), gradients \
             2.5 MiB, optimizer state 5.0 MiB, data set 0.5 MiB, activations and scratch 1.5 MiB"
        );
    }
}
