// Data augmentation for the evaluation classifier: every image of a batch translated by its own
// random whole-pixel offset (dy, dx) in [−S, S]², uncovered pixels set to the background value.
// Random translations are the classic regulariser of MLPs on MNIST (LeCun et al. 1998 train
// on distorted copies); they need no dropout and keep the network and its features unchanged.
//
// Image b's offsets come from Philox((b, stream, step, 3), seed): lane 0 gives dy, lane 1 dx,
// each mapped to [0, 2S] by multiply-high. Domain tag 3 keeps these draws apart from the fills
// (0), the shuffle keys (1) and the mixture samples (2) under the same seed and stream.

struct Params {
    images: u32,
    height: u32,
    width: u32,
    max_shift: u32,
    seed_lo: u32,
    seed_hi: u32,
    stream: u32,
    background: f32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> input: array<f32>;
@group(0) @binding(2) var<storage, read_write> output: array<f32>;
@group(0) @binding(3) var<storage, read> counter: array<u32>;

const WG: u32 = 256u;

// The high word of bits·n: uniform in [0, n).
fn below(bits: u32, n: u32) -> u32 {
    return mul_hi_lo(bits, n).x;
}

@compute @workgroup_size(256)
fn shift_images(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = flat_index(gid, groups, WG);
    let size = params.height * params.width;
    if (i >= params.images * size) {
        return;
    }
    let b = i / size;
    let pixel = i % size;
    let row = i32(pixel / params.width);
    let col = i32(pixel % params.width);
    let bits = philox4x32_10(vec4<u32>(b, params.stream, counter[0], 3u), vec2<u32>(params.seed_lo, params.seed_hi));
    let span = 2u * params.max_shift + 1u;
    let dy = i32(below(bits.x, span)) - i32(params.max_shift);
    let dx = i32(below(bits.y, span)) - i32(params.max_shift);
    let from_row = row - dy;
    let from_col = col - dx;
    var value = params.background;
    if (from_row >= 0 && from_row < i32(params.height) && from_col >= 0 && from_col < i32(params.width)) {
        value = input[b * size + u32(from_row) * params.width + u32(from_col)];
    }
    output[i] = value;
}
