//! What a layer's forward and backward recording is given (its input, parameters and running
//! buffers, the pass's batch and random numbers) and what it keeps for its backward.

use crate::gpu::{GpuContext, Tensor};
use crate::kernels::conv::ConvScratch;

/// What a backward pass does with parameter gradients.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParamGrads {
    /// Write them (the first contribution in a step).
    Overwrite,
    /// Add to them (a second batch in the same step, e.g. D's fake half).
    Accumulate,
    /// Skip them (only the input gradient is wanted, e.g. D during G's step).
    Skip,
}

/// Where a training pass's dropout masks come from: layer i draws from Philox stream
/// `stream + i` at the step `counter[0]` holds when the pass runs (read on the GPU, so advancing
/// the counter on the GPU gives new masks with no host write; checkpointing it makes a resumed
/// run draw the same masks).
#[derive(Clone, Copy, Debug)]
pub struct DropoutRng<'a> {
    pub seed: u64,
    pub stream: u32,
    pub counter: &'a Tensor,
}

/// One layer of one pass, as its recording functions see it.
pub(super) struct LayerIo<'a> {
    pub ctx: &'a GpuContext,
    /// "G layer 3", for buffer labels.
    pub label: String,
    /// The layer's position in the network (dropout streams are offset by it).
    pub index: usize,
    pub batch: usize,
    /// [batch, ...input shape].
    pub input: &'a Tensor,
    pub input_shape: &'a [usize],
    /// The layer's trainable tensors (`Layer::parameter_shapes` order) and running buffers.
    pub params: &'a [Tensor],
    pub buffers: &'a [Tensor],
    /// Some in a training pass (dropout masks, batch statistics), None in an evaluation pass.
    pub rng: Option<DropoutRng<'a>>,
}

/// The buffers one layer of a pass needs beyond its output.
#[derive(Default)]
pub struct LayerState {
    /// Dropout (training passes of dense layers with keep < 1, and dropout layers): the mask
    /// [batch, inputs] (1/keep or 0); for dense layers also the dropped input x ⊙ mask and
    /// dL/d(dropped input) before the mask is applied.
    pub mask: Option<Tensor>,
    pub dropped_input: Option<Tensor>,
    pub dropped_input_grad: Option<Tensor>,
    /// Maxout: the linear outputs [batch, outputs·pieces], the winning piece of each unit
    /// [batch, outputs] (u32), and dL/d(linear outputs).
    pub linear: Option<Tensor>,
    pub argmax: Option<Tensor>,
    pub linear_grad: Option<Tensor>,
    /// Convolutions: the columns and rows of this pass's input and output.
    pub conv: Option<ConvScratch>,
    /// Batch norm in training passes: the batch mean and 1/√(var + eps) of each channel.
    pub saved_mean: Option<Tensor>,
    pub saved_invstd: Option<Tensor>,
}
