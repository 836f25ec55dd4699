// Losses and their gradients: binary cross-entropy on logits (the GAN discriminator and
// generator losses) and softmax cross-entropy (the evaluation classifier). Forward kernels
// write a scalar into a slot of a metrics tensor from a single workgroup (deterministic fixed
// tree, no atomics); backward kernels write one gradient element (BCE) or row (softmax) each.
//
// Both are written to stay exact and finite for logits as large as ±1e4: BCE through
// max(z, 0) − z·t + log1p(exp(−|z|)), softmax through the max-subtraction trick.

struct Params {
    // Rows (batch size B).
    rows: u32,
    // Classes C (softmax only).
    classes: u32,
    label_target: f32,
    scale: f32,
    loss_slot: u32,
    probability_slot: u32,
}

@group(0) @binding(0) var<uniform> params: Params;

@group(0) @binding(1) var<storage, read> logits: array<f32>;
// BCE: slot 2 is the output (metrics or dlogits); softmax: slot 2 holds the labels.
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read> labels: array<u32>;
@group(0) @binding(3) var<storage, read_write> softmax_out: array<f32>;

override ACCUMULATE: bool = false;
override HAS_PROBABILITY: bool = false;

const WG: u32 = 256u;

var<workgroup> partial: array<vec2<f32>, WG>;

// Fixed-order tree over `partial`; the total ends in partial[0]. Every invocation must call it.
fn reduce_partial(lid: u32) {
    workgroupBarrier();
    for (var stride = WG / 2u; stride > 0u; stride /= 2u) {
        if (lid < stride) {
            partial[lid] += partial[lid + stride];
        }
        workgroupBarrier();
    }
}

// BCE with logits for one element: max(z, 0) − z·t + log(1 + exp(−|z|)). Every term is exact in
// f32 far out (exp(−1e4) is 0), so BCE(1e4, t = 0) = 1e4.
fn bce_term(z: f32, t: f32) -> f32 {
    return max(z, 0.0) - z * t + log1p_small(exp(-abs(z)));
}

// out[loss_slot] (+)= scale · mean_b BCE(z_b, t); out[probability_slot] (+)= mean_b σ(z_b).
@compute @workgroup_size(256)
fn bce_with_logits(@builtin(local_invocation_index) lid: u32) {
    var sums = vec2<f32>(0.0);
    for (var b = lid; b < params.rows; b += WG) {
        let z = logits[b];
        sums += vec2<f32>(bce_term(z, params.label_target), stable_sigmoid(z));
    }
    partial[lid] = sums;
    reduce_partial(lid);
    if (lid == 0u) {
        let means = partial[0] / f32(params.rows);
        var loss = params.scale * means.x;
        if (ACCUMULATE) {
            loss += out[params.loss_slot];
        }
        out[params.loss_slot] = loss;
        if (HAS_PROBABILITY) {
            var probability = means.y;
            if (ACCUMULATE) {
                probability += out[params.probability_slot];
            }
            out[params.probability_slot] = probability;
        }
    }
}

// dlogits[b] = scale · (σ(z) − t) / B, written as (1 − t)·σ(z) − t·σ(−z) so it keeps full relative
// precision when σ(z) is close to t (1 − σ(z) computed directly would cancel).
@compute @workgroup_size(256)
fn bce_with_logits_backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let b = flat_index(gid, groups, WG);
    if (b >= params.rows) {
        return;
    }
    let z = logits[b];
    let t = params.label_target;
    let difference = (1.0 - t) * stable_sigmoid(z) - t * stable_sigmoid(-z);
    out[b] = params.scale * difference / f32(params.rows);
}

// Labels ≥ C are clamped to C − 1 so a bad label can never read outside its row.
fn clamped_label(row: u32) -> u32 {
    return min(labels[row], params.classes - 1u);
}

// One row's softmax statistics: m = max z, others = Σ_{j ≠ label} exp(z_j − m) and
// at_label = exp(z_label − m); the row's sum of exponentials is their total.
struct RowStats {
    m: f32,
    others: f32,
    at_label: f32,
}

fn row_stats(row: u32, label: u32) -> RowStats {
    let first = row * params.classes;
    var m = logits[first];
    for (var j = 1u; j < params.classes; j++) {
        m = max(m, logits[first + j]);
    }
    var others = 0.0;
    for (var j = 0u; j < params.classes; j++) {
        if (j != label) {
            others += exp(logits[first + j] - m);
        }
    }
    return RowStats(m, others, exp(logits[first + label] - m));
}

// out[slot] (+)= mean_rows [log Σ_j exp(z_j) − z_label]. Per row this is
// (m − z_label) + log(at_label + others); when the label holds the maximum, at_label is 1 and
// the log is log1p(others), kept accurate for confident rows.
@compute @workgroup_size(256)
fn softmax_cross_entropy(@builtin(local_invocation_index) lid: u32) {
    var sum = 0.0;
    for (var row = lid; row < params.rows; row += WG) {
        let label = clamped_label(row);
        let s = row_stats(row, label);
        let z_label = logits[row * params.classes + label];
        var log_sum: f32;
        if (s.at_label == 1.0) {
            log_sum = log1p_small(s.others);
        } else {
            log_sum = log(s.at_label + s.others);
        }
        sum += (s.m - z_label) + log_sum;
    }
    partial[lid] = vec2<f32>(sum, 0.0);
    reduce_partial(lid);
    if (lid == 0u) {
        var loss = partial[0].x / f32(params.rows);
        if (ACCUMULATE) {
            loss += softmax_out[params.loss_slot];
        }
        softmax_out[params.loss_slot] = loss;
    }
}

// dlogits[row, j] = (softmax(z)_j − [j = label]) / B, one invocation per row. At the label the
// value is −others / total, computed directly rather than as p − 1.
@compute @workgroup_size(256)
fn softmax_cross_entropy_backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let row = flat_index(gid, groups, WG);
    if (row >= params.rows) {
        return;
    }
    let label = clamped_label(row);
    let s = row_stats(row, label);
    let total = s.others + s.at_label;
    let scale = 1.0 / (total * f32(params.rows));
    let first = row * params.classes;
    for (var j = 0u; j < params.classes; j++) {
        var g: f32;
        if (j == label) {
            g = -s.others * scale;
        } else {
            g = exp(logits[first + j] - s.m) * scale;
        }
        softmax_out[first + j] = g;
    }
}
