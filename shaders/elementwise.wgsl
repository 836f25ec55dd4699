// Elementwise kernels: activations and their gradients (out of place and in place), maxout and
// its gradient, inverted dropout and its gradient. All are 1-D: one invocation per element
// (dropout: per four elements, one Philox call each), dispatched with `workgroups_1d(_, 256)`.
//
// Binding numbers follow each wrapper's tensor order, so one binding slot is declared several
// times with different names and access modes; no entry point uses two declarations of a slot.

struct Params {
    // Elements of the output (maxout_forward: of y; maxout_backward: of dx; dropout: of x).
    n: u32,
    slope: f32,
    keep: f32,
    pieces: u32,
    seed_lo: u32,
    seed_hi: u32,
    stream: u32,
    _pad: u32,
}

@group(0) @binding(0) var<uniform> params: Params;

// Slot 1: the input (forward) or the incoming gradient (backward; read_write when in place).
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(1) var<storage, read_write> grad: array<f32>;
// Slot 2: the forward output, or what the backward pass reads instead of x.
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<storage, read> y_saved: array<f32>;
@group(0) @binding(2) var<storage, read> argmax_saved: array<u32>;
@group(0) @binding(2) var<storage, read> mask_saved: array<f32>;
// Slot 3: the gradient out, or the forward's second output.
@group(0) @binding(3) var<storage, read_write> dx: array<f32>;
@group(0) @binding(3) var<storage, read_write> argmax: array<u32>;
@group(0) @binding(3) var<storage, read_write> mask: array<f32>;
// Slot 4: dropout's step counter, read at run time so each step draws a new mask.
@group(0) @binding(4) var<storage, read> counter: array<u32>;

override ACTIVATION: u32 = 0u;

@compute @workgroup_size(256)
fn activation_forward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = flat_index(gid, groups, 256u);
    if (i >= params.n) {
        return;
    }
    y[i] = activate(x[i], ACTIVATION, params.slope);
}

// dx = dy · f'(x), with f'(x) taken from the saved output y (the forward does not keep x).
@compute @workgroup_size(256)
fn activation_backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = flat_index(gid, groups, 256u);
    if (i >= params.n) {
        return;
    }
    dx[i] = dy[i] * activation_grad_from_output(y_saved[i], ACTIVATION, params.slope);
}

// The same, overwriting dy with dx (saves one activation-sized buffer per layer).
@compute @workgroup_size(256)
fn activation_backward_in_place(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = flat_index(gid, groups, 256u);
    if (i >= params.n) {
        return;
    }
    grad[i] = grad[i] * activation_grad_from_output(y_saved[i], ACTIVATION, params.slope);
}

// y[j] = max over the `pieces` contiguous inputs x[j·pieces ..]; since rows are contiguous too,
// output j of a [B, units] y owns inputs j·pieces .. j·pieces + pieces − 1 of the [B, units·pieces]
// x. argmax[j] is the winning piece (0 .. pieces − 1); ties keep the first.
@compute @workgroup_size(256)
fn maxout_forward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let j = flat_index(gid, groups, 256u);
    if (j >= params.n) {
        return;
    }
    let first = j * params.pieces;
    var best = x[first];
    var best_piece = 0u;
    for (var p = 1u; p < params.pieces; p++) {
        let v = x[first + p];
        if (v > best) {
            best = v;
            best_piece = p;
        }
    }
    y[j] = best;
    argmax[j] = best_piece;
}

// One invocation per dx element, so every element is written: dy where the piece won, else 0.
@compute @workgroup_size(256)
fn maxout_backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = flat_index(gid, groups, 256u);
    if (i >= params.n) {
        return;
    }
    let unit = i / params.pieces;
    let piece = i % params.pieces;
    dx[i] = select(0.0, dy[unit], argmax_saved[unit] == piece);
}

// Inverted dropout: mask = 1/keep with probability keep, else 0; y = x · mask. Element i uses
// lane i % 4 of Philox(counter = (i / 4, stream, step, 0), key = seed), so one invocation draws
// for four elements.
@compute @workgroup_size(256)
fn dropout_forward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let block = flat_index(gid, groups, 256u);
    let first = block * 4u;
    if (first >= params.n) {
        return;
    }
    let bits = philox4x32_10(vec4<u32>(block, params.stream, counter[0], 0u), vec2<u32>(params.seed_lo, params.seed_hi));
    let scale = 1.0 / params.keep;
    // bits_to_unit can round up to exactly 1.0, so keep = 1 must not rely on u < keep.
    let keep_all = params.keep >= 1.0;
    for (var lane = 0u; lane < 4u; lane++) {
        let i = first + lane;
        if (i < params.n) {
            let m = select(0.0, scale, keep_all || bits_to_unit(bits[lane]) < params.keep);
            mask[i] = m;
            y[i] = x[i] * m;
        }
    }
}

@compute @workgroup_size(256)
fn dropout_backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = flat_index(gid, groups, 256u);
    if (i >= params.n) {
        return;
    }
    dx[i] = dy[i] * mask_saved[i];
}
