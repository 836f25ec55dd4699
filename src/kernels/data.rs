//! The dataset on the GPU (shaders/data.wgsl): drawing a batch's example indices (with
//! replacement, or an epoch shuffle computed from the step counter with no stored permutation),
//! gathering u8 examples into a [−1, 1] or [0, 1] f32 batch and their labels, and sampling 2-D Gaussian
//! mixtures for the toy datasets. Nothing here needs a host transfer per step.

use super::expect_len;
use super::random::{check_u32_len, seed_key};
use crate::error::{Error, Result};
use crate::gpu::{Access, Dispatch, GpuContext, KernelSpec, Tensor, workgroups_1d};

/// How a batch's example indices are drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IndexOrder {
    /// Independent uniform indices each step.
    WithReplacement,
    /// Epochs: every example exactly once per n consecutive draws, in a new order each epoch.
    Shuffled,
}

impl IndexOrder {
    pub fn code(self) -> u32 {
        match self {
            IndexOrder::WithReplacement => 0,
            IndexOrder::Shuffled => 1,
        }
    }
}

/// The f32 range u8 pixels are mapped to: the range of the generator's output activation.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum PixelRange {
    /// byte/127.5 − 1: for a tanh (or unbounded) generator output.
    #[default]
    MinusOneToOne,
    /// byte/255: for a sigmoid generator output.
    ZeroToOne,
}

impl PixelRange {
    pub fn code(self) -> u32 {
        match self {
            PixelRange::MinusOneToOne => 0,
            PixelRange::ZeroToOne => 1,
        }
    }

    /// A pixel byte's value in this range (as `gather_u8` maps it on the GPU).
    pub fn from_byte(self, byte: u8) -> f32 {
        match self {
            PixelRange::MinusOneToOne => byte as f32 / 127.5 - 1.0,
            PixelRange::ZeroToOne => byte as f32 / 255.0,
        }
    }

    /// The values of bytes 0 and 255.
    pub fn bounds(self) -> (f32, f32) {
        match self {
            PixelRange::MinusOneToOne => (-1.0, 1.0),
            PixelRange::ZeroToOne => (0.0, 1.0),
        }
    }

    /// The range a generator ending in `activation` can produce: [0, 1] for sigmoid, else
    /// [−1, 1] (tanh's, and the usual scaling for an unbounded output).
    pub fn for_output(activation: super::Activation) -> PixelRange {
        match activation {
            super::Activation::Sigmoid => PixelRange::ZeroToOne,
            _ => PixelRange::MinusOneToOne,
        }
    }
}

/// The shuffle's Feistel half width h: the network permutes [0, 4^h), the smallest power of
/// four ≥ n (at least 4, so both halves have a bit).
pub fn feistel_half_bits(examples: u32) -> u32 {
    let bits = 32 - examples.saturating_sub(1).leading_zeros(); // ⌈log2 n⌉
    bits.div_ceil(2).max(1)
}

#[repr(C)]
#[derive(Clone, Copy, Default, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    batch: u32,
    examples: u32,
    example_bytes: u32,
    order: u32,
    seed_lo: u32,
    seed_hi: u32,
    stream: u32,
    half_bits: u32,
    spread: f32,
    pixel_range: u32,
    // sample_mixture: the points' dimensions (1 or 2).
    dims: u32,
}

fn dispatch(
    ctx: &GpuContext,
    entry: &'static str,
    params: Params,
    tensors: Vec<(&Tensor, Access)>,
    invocations: usize,
) -> Result<Dispatch> {
    ctx.dispatch(KernelSpec {
        shader: "data",
        entry,
        constants: vec![],
        params: bytemuck::bytes_of(&params),
        tensors,
        workgroups: workgroups_1d(invocations, 256),
    })
}

/// Fill `indices` (u32, [B]) with this step's example indices in [0, examples), the step being
/// `counter[0]` at run time. `WithReplacement`: Philox bits mapped by multiply-high.
/// `Shuffled`: position p = counter·B + b of an endless stream whose every epoch (n consecutive
/// positions) is a keyed bijection of [0, n), new each epoch (see shaders/data.wgsl).
#[allow(clippy::too_many_arguments)]
pub fn draw_indices(
    ctx: &GpuContext,
    indices: &Tensor,
    examples: u32,
    order: IndexOrder,
    seed: u64,
    stream: u32,
    counter: &Tensor,
) -> Result<Dispatch> {
    let kernel = "draw_indices";
    expect_len(kernel, "counter", counter.len(), 1)?;
    check_u32_len(kernel, "indices", indices.len())?;
    if examples == 0 {
        return Err(Error::Input(format!(
            "{kernel}: the dataset has no examples"
        )));
    }
    let [seed_lo, seed_hi] = seed_key(seed);
    let params = Params {
        batch: indices.len() as u32,
        examples,
        order: order.code(),
        seed_lo,
        seed_hi,
        stream,
        half_bits: feistel_half_bits(examples),
        ..Params::default()
    };
    let tensors = vec![(indices, Access::ReadWrite), (counter, Access::Read)];
    dispatch(ctx, kernel, params, tensors, indices.len())
}

/// out[b, j] = byte j of example indices[b] mapped to `range` (byte/127.5 − 1 or byte/255), for
/// a dataset of u8 examples packed four per u32 (`GpuContext::upload_bytes`), `example_bytes`
/// each, back to back.
/// `out` is [B, example_bytes] (any shape of B·example_bytes elements).
///
/// The example count is taken as ⌊4·words / example_bytes⌋. Indices past it are clamped to the
/// last example: an out-of-bounds storage read is implementation-defined in WGSL, so a bad index
/// would otherwise give adapter-dependent batches; clamped, it reads in-bounds data everywhere.
/// (With example_bytes < 4 the up to three padding bytes of the last word may count as extra
/// examples; indices from `draw_indices` never reach them.)
pub fn gather_u8(
    ctx: &GpuContext,
    dataset_words: &Tensor,
    indices: &Tensor,
    out: &Tensor,
    example_bytes: usize,
    range: PixelRange,
) -> Result<Dispatch> {
    let kernel = "gather_u8";
    let batch = indices.len();
    expect_len(kernel, "out", out.len(), batch * example_bytes)?;
    check_u32_len(kernel, "out", out.len())?;
    let examples = dataset_words.len() * 4 / example_bytes.max(1);
    if example_bytes == 0 || examples == 0 {
        return Err(Error::Input(format!(
            "{kernel}: a dataset of {} words holds no example of {example_bytes} bytes",
            dataset_words.len()
        )));
    }
    // Byte addresses are u32 in the shader.
    check_u32_len(kernel, "dataset bytes", dataset_words.len() * 4)?;
    let params = Params {
        batch: batch as u32,
        examples: examples as u32,
        example_bytes: example_bytes as u32,
        pixel_range: range.code(),
        ..Params::default()
    };
    let tensors = vec![
        (out, Access::ReadWrite),
        (dataset_words, Access::Read),
        (indices, Access::Read),
    ];
    dispatch(ctx, kernel, params, tensors, out.len())
}

/// out[b] = label byte indices[b] of u8 labels packed four per u32 (u32 output, [B]). Indices
/// past the last byte are clamped, as in `gather_u8`.
pub fn gather_labels(
    ctx: &GpuContext,
    labels_words: &Tensor,
    indices: &Tensor,
    out: &Tensor,
) -> Result<Dispatch> {
    let kernel = "gather_labels";
    expect_len(kernel, "out", out.len(), indices.len())?;
    check_u32_len(kernel, "labels bytes", labels_words.len() * 4)?;
    if labels_words.is_empty() {
        return Err(Error::Input(format!("{kernel}: there are no labels")));
    }
    let params = Params {
        batch: indices.len() as u32,
        examples: (labels_words.len() * 4) as u32,
        ..Params::default()
    };
    let tensors = vec![
        (out, Access::ReadWrite),
        (labels_words, Access::Read),
        (indices, Access::Read),
    ];
    dispatch(ctx, kernel, params, tensors, indices.len())
}

/// B points of a 1-D or 2-D Gaussian mixture with equal weights: out[b] = centers[c] + std·z,
/// component c uniform, z = z0 (1-D) or (z0, z1) (2-D). `centers` is [C, dims], `out`
/// [B, dims].
#[allow(clippy::too_many_arguments)]
pub fn sample_mixture(
    ctx: &GpuContext,
    centers: &Tensor,
    out: &Tensor,
    dims: usize,
    std: f32,
    seed: u64,
    stream: u32,
    counter: &Tensor,
) -> Result<Dispatch> {
    let kernel = "sample_mixture";
    expect_len(kernel, "counter", counter.len(), 1)?;
    if !(dims == 1 || dims == 2) {
        return Err(Error::Input(format!(
            "{kernel}: points have 1 or 2 dimensions, found {dims}"
        )));
    }
    if centers.is_empty() || !centers.len().is_multiple_of(dims) {
        return Err(Error::Input(format!(
            "{kernel}: centers has {} elements, expected [C, {dims}] with C ≥ 1",
            centers.len()
        )));
    }
    if !out.len().is_multiple_of(dims) {
        return Err(Error::Input(format!(
            "{kernel}: out has {} elements, expected [B, {dims}]",
            out.len()
        )));
    }
    check_u32_len(kernel, "out", out.len())?;
    let [seed_lo, seed_hi] = seed_key(seed);
    let batch = out.len() / dims;
    let params = Params {
        batch: batch as u32,
        examples: (centers.len() / dims) as u32,
        seed_lo,
        seed_hi,
        stream,
        spread: std,
        dims: dims as u32,
        ..Params::default()
    };
    let tensors = vec![
        (out, Access::ReadWrite),
        (counter, Access::Read),
        (centers, Access::Read),
    ];
    dispatch(ctx, kernel, params, tensors, batch)
}
