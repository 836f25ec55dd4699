// The dataset on the GPU: batch indices (with replacement, or an epoch shuffle that stores no
// permutation), gathering u8 examples into a [−1, 1] or [0, 1] f32 batch, gathering labels, and sampling
// 2-D Gaussian mixtures (the ring8/grid25 toy sets).
//
// Random draws use Philox (common.wgsl) keyed by the seed, with counter words
// (index, stream, step, tag): tag 0 for with-replacement indices (the layout of random.wgsl's
// fills), 1 for the shuffle's round keys, 2 for mixture samples.
//
// Binding numbers follow each wrapper's tensor order, so a slot is declared several times with
// different names and element types; no entry point uses two declarations of one slot.

struct Params {
    // Batch size B (rows of the output).
    batch: u32,
    // Examples in the dataset (draw_indices; gathers clamp indices to it); mixture: components.
    examples: u32,
    // Bytes per example (gather_u8).
    example_bytes: u32,
    // IndexOrder: 0 with replacement, 1 shuffled.
    order: u32,
    seed_lo: u32,
    seed_hi: u32,
    stream: u32,
    // The shuffle's Feistel half width h: it permutes [0, 4^h), the smallest such ≥ examples.
    half_bits: u32,
    // sample_mixture: the components' standard deviation.
    spread: f32,
    // gather_u8's PixelRange: 0 maps bytes to [−1, 1], 1 to [0, 1].
    pixel_range: u32,
    // sample_mixture: the points' dimensions, 1 or 2.
    dims: u32,
}

@group(0) @binding(0) var<uniform> params: Params;

// Slot 1: the output.
@group(0) @binding(1) var<storage, read_write> indices_out: array<u32>;
@group(0) @binding(1) var<storage, read_write> labels_out: array<u32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
// Slot 2: the step counter, or the packed bytes (four per u32, little-endian).
@group(0) @binding(2) var<storage, read> counter: array<u32>;
@group(0) @binding(2) var<storage, read> words: array<u32>;
// Slot 3: the batch's example indices, or the mixture's centers [C, 2].
@group(0) @binding(3) var<storage, read> indices: array<u32>;
@group(0) @binding(3) var<storage, read> centers: array<f32>;

const ORDER_WITH_REPLACEMENT: u32 = 0u;
const ORDER_SHUFFLED: u32 = 1u;
const RANGE_ZERO_TO_ONE: u32 = 1u;

fn seed_key() -> vec2<u32> {
    return vec2<u32>(params.seed_lo, params.seed_hi);
}

// A 32-bit integer hash (Wellons' "lowbias32"): the Feistel round function.
fn mix32(value: u32) -> u32 {
    var x = value;
    x ^= x >> 16u;
    x *= 0x7FEB352Du;
    x ^= x >> 15u;
    x *= 0x846CA68Bu;
    x ^= x >> 16u;
    return x;
}

// A 4-round Feistel network on 2h-bit values: a bijection of [0, 4^h) for any round keys.
fn feistel(value: u32, keys: vec4<u32>) -> u32 {
    let h = params.half_bits;
    let mask = (1u << h) - 1u;
    var left = value >> h;
    var right = value & mask;
    for (var round = 0u; round < 4u; round++) {
        let next = left ^ (mix32(right ^ keys[round]) & mask);
        left = right;
        right = next;
    }
    return (left << h) | right;
}

// Position p of the shuffled stream: epoch p / n, slot p mod n, mapped through the epoch's
// bijection of [0, n). Cycle walking: apply the Feistel bijection of [0, 4^h) until the value
// lands in [0, n). Starting inside [0, n), the walk follows a cycle of a permutation and so must
// come back into [0, n); restricted this way it is a bijection of [0, n). 4^h < 4n, so a walk
// takes fewer than four steps on average.
fn shuffled_index(position: u32) -> u32 {
    let n = params.examples;
    let epoch = position / n;
    let keys = philox4x32_10(vec4<u32>(epoch, params.stream, 0u, 1u), seed_key());
    var x = position % n;
    loop {
        x = feistel(x, keys);
        if (x < n) {
            break;
        }
    }
    return x;
}

// indices[b] for this step. With replacement: lane b % 4 of Philox((b / 4, stream, step, 0)),
// mapped to [0, n) by the high word of bits·n (no modulo bias beyond 2^-32 per index, and no
// division). Shuffled: position p = step·B + b of the epoch shuffle (u32 positions: valid while
// step·B < 2^32, 67 million steps at B = 64).
@compute @workgroup_size(256)
fn draw_indices(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let b = flat_index(gid, groups, 256u);
    if (b >= params.batch) {
        return;
    }
    let step = counter[0];
    if (params.order == ORDER_SHUFFLED) {
        indices_out[b] = shuffled_index(step * params.batch + b);
    } else {
        let bits = philox4x32_10(vec4<u32>(b / 4u, params.stream, step, 0u), seed_key());
        indices_out[b] = mul_hi_lo(bits[b % 4u], params.examples).x;
    }
}

fn byte_at(address: u32) -> u32 {
    return (words[address / 4u] >> (8u * (address % 4u))) & 0xFFu;
}

// Indices past the dataset are clamped to its last example: an out-of-bounds storage read in
// WGSL returns an implementation-defined value (any in-bounds element, or zero), so a bad index
// would give different batches on different adapters; clamped, every adapter reads the same.
fn clamped(index: u32) -> u32 {
    return min(index, params.examples - 1u);
}

// out[b, j] = byte j of example indices[b], mapped to [−1, 1] as byte/127.5 − 1, computed as
// (2·byte − 255)·(1/255), or to [0, 1] as byte·(1/255): the integer part is exact, so the only
// rounding is one product.
@compute @workgroup_size(256)
fn gather_u8(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = flat_index(gid, groups, 256u);
    let e = params.example_bytes;
    if (i >= params.batch * e) {
        return;
    }
    let b = i / e;
    let byte = byte_at(clamped(indices[b]) * e + i % e);
    if (params.pixel_range == RANGE_ZERO_TO_ONE) {
        out[i] = f32(byte) * (1.0 / 255.0);
    } else {
        out[i] = f32(i32(2u * byte) - 255) * (1.0 / 255.0);
    }
}

// labels_out[b] = the label byte of example indices[b] (clamped as above).
@compute @workgroup_size(256)
fn gather_labels(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let b = flat_index(gid, groups, 256u);
    if (b >= params.batch) {
        return;
    }
    labels_out[b] = byte_at(clamped(indices[b]));
}

// Point b: Philox((b, stream, step, 2)); lane 0 picks the component uniformly (multiply-high by
// C), lanes 2 and 3 give two normals by Box–Muller; out[b] = center + std·(z0, z1), or for 1-D
// points center + std·z0.
@compute @workgroup_size(256)
fn sample_mixture(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let b = flat_index(gid, groups, 256u);
    if (b >= params.batch) {
        return;
    }
    let bits = philox4x32_10(vec4<u32>(b, params.stream, counter[0], 2u), seed_key());
    let component = mul_hi_lo(bits.x, params.examples).x;
    let z = box_muller(bits_to_unit(bits.z), bits_to_unit(bits.w));
    let d = params.dims;
    out[d * b] = centers[d * component] + params.spread * z.x;
    if (d == 2u) {
        out[2u * b + 1u] = centers[2u * component + 1u] + params.spread * z.y;
    }
}
