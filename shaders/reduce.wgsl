// Deterministic reductions: bias gradients (column sums), scaled means into a metrics slot and
// their gradient, and per-row squared norms. No atomics: either one invocation per output, or a
// single workgroup of 256 invocations that stride over the input and then add in a fixed tree,
// so the same input always gives the same bits.

struct Params {
    rows: u32,
    cols: u32,
    // Element count for `mean` and `mean_backward`.
    n: u32,
    slot: u32,
    scale: f32,
}

@group(0) @binding(0) var<uniform> params: Params;

@group(0) @binding(1) var<storage, read> input: array<f32>;
@group(0) @binding(1) var<storage, read_write> dx: array<f32>;
@group(0) @binding(2) var<storage, read_write> output: array<f32>;

override ACCUMULATE: bool = false;

const WG: u32 = 256u;

var<workgroup> partial: array<f32, WG>;

// db[col] (+)= Σ_row dy[row, col]. Neighbouring invocations own neighbouring columns, so each
// row's loads are contiguous across lanes; rows are added in order.
@compute @workgroup_size(256)
fn bias_gradient(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let col = flat_index(gid, groups, WG);
    if (col >= params.cols) {
        return;
    }
    var sum = 0.0;
    for (var row = 0u; row < params.rows; row++) {
        sum += input[row * params.cols + col];
    }
    if (ACCUMULATE) {
        sum += output[col];
    }
    output[col] = sum;
}

// out[slot] (+)= scale · mean(x), in one workgroup.
@compute @workgroup_size(256)
fn mean(@builtin(local_invocation_index) lid: u32) {
    var sum = 0.0;
    for (var i = lid; i < params.n; i += WG) {
        sum += input[i];
    }
    partial[lid] = sum;
    workgroupBarrier();
    for (var stride = WG / 2u; stride > 0u; stride /= 2u) {
        if (lid < stride) {
            partial[lid] += partial[lid + stride];
        }
        workgroupBarrier();
    }
    if (lid == 0u) {
        var value = params.scale * (partial[0] / f32(params.n));
        if (ACCUMULATE) {
            value += output[params.slot];
        }
        output[params.slot] = value;
    }
}

// d(scale · mean(x))/dx[i] = scale / n for every i.
@compute @workgroup_size(256)
fn mean_backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = flat_index(gid, groups, WG);
    if (i >= params.n) {
        return;
    }
    dx[i] = params.scale / f32(params.n);
}

// out[row] = Σ_col x[row, col]², one invocation per row.
@compute @workgroup_size(256)
fn sum_of_squares_rows(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let row = flat_index(gid, groups, WG);
    if (row >= params.rows) {
        return;
    }
    let first = row * params.cols;
    var sum = 0.0;
    for (var col = 0u; col < params.cols; col++) {
        let v = input[first + col];
        sum += v * v;
    }
    output[row] = sum;
}
