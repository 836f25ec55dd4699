// Batch normalisation over [batch, channels, spatial] (spatial = H·W, or 1 for BatchNorm1d),
// with PyTorch's semantics: training normalises with the batch mean and the biased variance and
// moves the running statistics by `momentum` (the variance there unbiased, ·n/(n − 1)).
//
// Training and backward run one workgroup per channel: 256 invocations stride over the channel's
// n = batch·spatial values and add their partial sums in a fixed tree, so no atomics and the same
// bits every run. The variance is two-pass (mean first, then Σ(x − mean)²) for accuracy.

struct Params {
    batch: u32,
    channels: u32,
    spatial: u32,
    // batch·spatial: values per channel.
    n: u32,
    momentum: f32,
    eps: f32,
    // n / (n − 1), the unbiasing factor of the running variance (computed on the host).
    unbias: f32,
    // Elements in the whole tensor (eval).
    total: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> gamma: array<f32>;
// beta for the forward kernels, dy for the backward one.
@group(0) @binding(3) var<storage, read> beta: array<f32>;
@group(0) @binding(3) var<storage, read> dy: array<f32>;
// y for the forward kernels, dx for the backward one.
@group(0) @binding(4) var<storage, read_write> out: array<f32>;
// Training writes the batch statistics here; eval and backward read statistics from here.
@group(0) @binding(5) var<storage, read_write> saved_mean: array<f32>;
@group(0) @binding(6) var<storage, read_write> saved_invstd: array<f32>;
@group(0) @binding(5) var<storage, read> stat_mean: array<f32>;
@group(0) @binding(6) var<storage, read> stat_second: array<f32>;
// Running statistics (training) or parameter gradients (backward).
@group(0) @binding(7) var<storage, read_write> running_mean: array<f32>;
@group(0) @binding(8) var<storage, read_write> running_var: array<f32>;
@group(0) @binding(7) var<storage, read_write> dgamma: array<f32>;
@group(0) @binding(8) var<storage, read_write> dbeta: array<f32>;

override HAS_DX: bool = true;
override HAS_PARAM_GRADS: bool = true;
override ACCUMULATE: bool = false;

const WG: u32 = 256u;

var<workgroup> partial: array<vec2<f32>, WG>;

// Index of the j-th value (j < n) of channel c.
fn element(c: u32, j: u32) -> u32 {
    let b = j / params.spatial;
    let s = j % params.spatial;
    return (b * params.channels + c) * params.spatial + s;
}

// The workgroup's total of `value`, in a fixed tree; every invocation gets it. Call from
// uniform control flow.
fn tree_sum(lid: u32, value: vec2<f32>) -> vec2<f32> {
    partial[lid] = value;
    workgroupBarrier();
    for (var stride = WG / 2u; stride > 0u; stride /= 2u) {
        if (lid < stride) {
            partial[lid] += partial[lid + stride];
        }
        workgroupBarrier();
    }
    let total = partial[0];
    // Nobody may overwrite partial[] for the next sum before everyone has read the total.
    workgroupBarrier();
    return total;
}

@compute @workgroup_size(256)
fn batch_norm_train(@builtin(workgroup_id) group: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    let c = group.x;
    let n = f32(params.n);
    var sum = 0.0;
    for (var j = lid; j < params.n; j += WG) {
        sum += x[element(c, j)];
    }
    let mean = tree_sum(lid, vec2<f32>(sum, 0.0)).x / n;
    var squares = 0.0;
    for (var j = lid; j < params.n; j += WG) {
        let d = x[element(c, j)] - mean;
        squares += d * d;
    }
    let variance = tree_sum(lid, vec2<f32>(squares, 0.0)).x / n;
    let invstd = 1.0 / sqrt(variance + params.eps);
    let scale = gamma[c] * invstd;
    let shift = beta[c];
    for (var j = lid; j < params.n; j += WG) {
        let i = element(c, j);
        out[i] = (x[i] - mean) * scale + shift;
    }
    if (lid == 0u) {
        saved_mean[c] = mean;
        saved_invstd[c] = invstd;
        let m = params.momentum;
        running_mean[c] = (1.0 - m) * running_mean[c] + m * mean;
        running_var[c] = (1.0 - m) * running_var[c] + m * variance * params.unbias;
    }
}

// y = (x − running_mean)/sqrt(running_var + eps)·gamma + beta, one invocation per element.
@compute @workgroup_size(256)
fn batch_norm_eval(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = flat_index(gid, groups, WG);
    if (i >= params.total) {
        return;
    }
    let c = (i / params.spatial) % params.channels;
    let invstd = 1.0 / sqrt(stat_second[c] + params.eps);
    out[i] = (x[i] - stat_mean[c]) * invstd * gamma[c] + beta[c];
}

// dx = gamma·invstd·(dy − mean(dy) − x̂·mean(dy·x̂)); dgamma (+)= Σ dy·x̂, dbeta (+)= Σ dy.
@compute @workgroup_size(256)
fn batch_norm_backward(@builtin(workgroup_id) group: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    let c = group.x;
    let mean = stat_mean[c];
    let invstd = stat_second[c];
    var sums = vec2<f32>(0.0);
    for (var j = lid; j < params.n; j += WG) {
        let i = element(c, j);
        let g = dy[i];
        sums += vec2<f32>(g, g * (x[i] - mean) * invstd);
    }
    let total = tree_sum(lid, sums);
    if (HAS_DX) {
        let n = f32(params.n);
        let mean_dy = total.x / n;
        let mean_dy_xhat = total.y / n;
        let scale = gamma[c] * invstd;
        for (var j = lid; j < params.n; j += WG) {
            let i = element(c, j);
            let xhat = (x[i] - mean) * invstd;
            out[i] = scale * (dy[i] - mean_dy - xhat * mean_dy_xhat);
        }
    }
    if (HAS_PARAM_GRADS && lid == 0u) {
        var g = total.y;
        var b = total.x;
        if (ACCUMULATE) {
            g += dgamma[c];
            b += dbeta[c];
        }
        dgamma[c] = g;
        dbeta[c] = b;
    }
}
