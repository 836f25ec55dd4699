//! The data kernels of `kernels::data` on the CPU: index drawing (with replacement and the
//! Feistel epoch shuffle, bit for bit as the shader does it), gathers, and mixture sampling.

use super::random::{bits_to_unit, box_muller, philox4x32_10, seed_key};
use crate::kernels::data::{IndexOrder, PixelRange, feistel_half_bits};

/// The high word of bits·n: a uniform 32-bit value mapped to [0, n) without modulo.
pub fn multiply_high(bits: u32, n: u32) -> u32 {
    ((bits as u64 * n as u64) >> 32) as u32
}

/// Wellons' lowbias32 hash, the Feistel round function.
pub fn mix32(mut x: u32) -> u32 {
    x ^= x >> 16;
    x = x.wrapping_mul(0x7FEB_352D);
    x ^= x >> 15;
    x = x.wrapping_mul(0x846C_A68B);
    x ^= x >> 16;
    x
}

/// Four Feistel rounds on 2h-bit values.
pub fn feistel(value: u32, half_bits: u32, keys: [u32; 4]) -> u32 {
    let mask = (1u32 << half_bits) - 1;
    let (mut left, mut right) = (value >> half_bits, value & mask);
    for key in keys {
        let next = left ^ (mix32(right ^ key) & mask);
        left = right;
        right = next;
    }
    (left << half_bits) | right
}

/// Position `position` of the shuffled index stream over n examples.
pub fn shuffled_index(position: u32, n: u32, seed: u64, stream: u32) -> u32 {
    let epoch = position / n;
    let keys = philox4x32_10([epoch, stream, 0, 1], seed_key(seed));
    let half_bits = feistel_half_bits(n);
    let mut x = position % n;
    loop {
        x = feistel(x, half_bits, keys);
        if x < n {
            return x;
        }
    }
}

/// The indices `draw_indices` writes for a batch of `batch` at step `step`.
pub fn draw_indices(
    batch: usize,
    n: u32,
    order: IndexOrder,
    seed: u64,
    stream: u32,
    step: u32,
) -> Vec<u32> {
    (0..batch as u32)
        .map(|b| match order {
            IndexOrder::Shuffled => shuffled_index(
                step.wrapping_mul(batch as u32).wrapping_add(b),
                n,
                seed,
                stream,
            ),
            IndexOrder::WithReplacement => {
                let bits = philox4x32_10([b / 4, stream, step, 0], seed_key(seed));
                multiply_high(bits[(b % 4) as usize], n)
            }
        })
        .collect()
}

/// Examples of `example_bytes` bytes, batch row b = example indices[b] (clamped to the last
/// example), mapped to byte/127.5 − 1 or byte/255.
pub fn gather_u8(
    dataset: &[u8],
    indices: &[u32],
    example_bytes: usize,
    range: PixelRange,
) -> Vec<f64> {
    let examples = dataset.len().div_ceil(4) * 4 / example_bytes;
    let mut out = Vec::with_capacity(indices.len() * example_bytes);
    for &index in indices {
        let start = (index as usize).min(examples - 1) * example_bytes;
        for j in 0..example_bytes {
            // Padding bytes past the data (only reachable by a clamped phantom example) are 0.
            let byte = dataset.get(start + j).copied().unwrap_or(0);
            out.push(match range {
                PixelRange::MinusOneToOne => byte as f64 / 127.5 - 1.0,
                PixelRange::ZeroToOne => byte as f64 / 255.0,
            });
        }
    }
    out
}

/// Label bytes at the indices (clamped to the packed length, padding reads 0).
pub fn gather_labels(labels: &[u8], indices: &[u32]) -> Vec<u32> {
    let last = labels.len().div_ceil(4) * 4 - 1;
    indices
        .iter()
        .map(|&i| labels.get((i as usize).min(last)).copied().unwrap_or(0) as u32)
        .collect()
}

/// The mixture points (flattened [B, 2]) and the component each was drawn from.
pub fn sample_mixture(
    centers: &[Vec<f64>],
    batch: usize,
    std: f64,
    seed: u64,
    stream: u32,
    step: u32,
) -> (Vec<f64>, Vec<usize>) {
    let mut points = Vec::with_capacity(2 * batch);
    let mut components = Vec::with_capacity(batch);
    for b in 0..batch as u32 {
        let bits = philox4x32_10([b, stream, step, 2], seed_key(seed));
        let c = multiply_high(bits[0], centers.len() as u32) as usize;
        let (z0, z1) = box_muller(bits_to_unit(bits[2]) as f64, bits_to_unit(bits[3]) as f64);
        points.push(centers[c][0] + std * z0);
        if centers[c].len() == 2 {
            points.push(centers[c][1] + std * z1);
        }
        components.push(c);
    }
    (points, components)
}
