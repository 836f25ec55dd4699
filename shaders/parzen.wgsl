// Parzen-window log-likelihood (Breuleux et al. 2011; Goodfellow et al. 2014, parzen_ll.py):
//   log p(x) = logsumexp_j(−‖x − μ_j‖² / (2σ²)) − log N − (d/2)·log(2πσ²)
// for test points x and generator samples μ_j. The cross term x·μ comes from the matmul kernel,
// one tile of test points × one tile of samples at a time; this kernel turns a tile of cross
// terms into squared distances ‖x‖² + ‖μ‖² − 2x·μ (clamped at 0: f32 cancellation can make a
// near-zero distance slightly negative) and folds them into a running log-sum-exp per test
// point, for every σ of the search at once.
//
// State per test point, row-major [points, 1 + K]: the smallest squared distance seen so far,
// m, then for each σ_k the sum Σ_j exp(−(d²_j − m)·c_k) with c_k = 1/(2σ_k²). Every term is ≤ 1
// and the nearest sample's term is exactly 1, so nothing overflows or underflows to a zero sum;
// the host finishes with log p = −m·c_k + log(sum_k) − log N − (d/2)·log(2πσ_k²) in f64.
// Each invocation owns one test point and walks its tile's samples in order: deterministic.

struct Params {
    // Test points and samples in this tile.
    rows: u32,
    cols: u32,
    // Index of the tile's first test point (state and point norms) and first sample (norms).
    row_offset: u32,
    col_offset: u32,
    // Number of σ values K.
    sigmas: u32,
    // affine: element count and y = scale·x + shift.
    n: u32,
    scale: f32,
    shift: f32,
}

@group(0) @binding(0) var<uniform> params: Params;

// parzen_accumulate's bindings.
@group(0) @binding(1) var<storage, read> cross_terms: array<f32>;
@group(0) @binding(2) var<storage, read> point_norms: array<f32>;
@group(0) @binding(3) var<storage, read> sample_norms: array<f32>;
@group(0) @binding(4) var<storage, read> inv_two_sigma_sq: array<f32>;
@group(0) @binding(5) var<storage, read_write> state: array<f32>;

// affine's bindings.
@group(0) @binding(1) var<storage, read> affine_in: array<f32>;
@group(0) @binding(2) var<storage, read_write> affine_out: array<f32>;

// The first sample tile of a test point starts its state afresh instead of merging into it.
override FIRST: bool = false;

const WG: u32 = 64u;

fn squared_distance(row: u32, col: u32, x_norm: f32) -> f32 {
    let c = cross_terms[row * params.cols + col];
    return max(x_norm + sample_norms[params.col_offset + col] - 2.0 * c, 0.0);
}

@compute @workgroup_size(64)
fn parzen_accumulate(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let row = flat_index(gid, groups, WG);
    if (row >= params.rows) {
        return;
    }
    let point = params.row_offset + row;
    let x_norm = point_norms[point];
    let stride = 1u + params.sigmas;
    let base = point * stride;

    // The tile's nearest sample, then the new running minimum.
    var tile_min = squared_distance(row, 0u, x_norm);
    for (var col = 1u; col < params.cols; col++) {
        tile_min = min(tile_min, squared_distance(row, col, x_norm));
    }
    var m = tile_min;
    var old_m = tile_min;
    if (!FIRST) {
        old_m = state[base];
        m = min(old_m, tile_min);
    }
    state[base] = m;

    for (var k = 0u; k < params.sigmas; k++) {
        let c = inv_two_sigma_sq[k];
        // Earlier sums were relative to old_m ≥ m: rescale by exp(−(old_m − m)·c) ≤ 1.
        var sum = 0.0;
        if (!FIRST) {
            sum = state[base + 1u + k] * exp(-(old_m - m) * c);
        }
        var tile_sum = 0.0;
        for (var col = 0u; col < params.cols; col++) {
            tile_sum += exp(-(squared_distance(row, col, x_norm) - m) * c);
        }
        state[base + 1u + k] = sum + tile_sum;
    }
}

// y = scale·x + shift elementwise (generator output range → pixels in [0, 1], and back).
@compute @workgroup_size(64)
fn affine(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = flat_index(gid, groups, WG);
    if (i >= params.n) {
        return;
    }
    affine_out[i] = params.scale * affine_in[i] + params.shift;
}
