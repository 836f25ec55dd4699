// Lipschitz penalties of a WGAN critic (Gulrajani et al. 2017; Petzka et al. 2018) and the
// small kernels of their exact gradient (double backprop, see src/gan/critic.rs):
//   interpolate        x̂ = ε·x + (1 − ε)·x̃ with one ε per row
//   gradient_penalty   per-row ‖g‖, the penalty value and its adjoint ū = dP/dg, metric slots
//   second_derivative  ā = ē ⊙ δ ⊙ φ''(a), the smooth activations' extra term
//   add_in_place       out += x
//   lipschitz_penalty  the finite-difference form |D(y₁) − D(y₂)| / ‖y₁ − y₂‖ and its gradient
// The two penalty kernels reduce over the batch in one workgroup of 256 with a fixed-order tree
// (no atomics), so the same inputs always give the same bits. They always ADD into the metrics
// tensor, which the training loop sums over steps and clears at each readback.
//
// Binding numbers follow each wrapper's tensor order, so a slot is declared several times with
// different names and access modes; no entry point uses two declarations of one slot.

struct Params {
    rows: u32,
    cols: u32,
    // Elements (interpolate, second_derivative, add_in_place).
    n: u32,
    // ψ: 0 (r − 1)², 1 max(0, r − 1)², 2 max(0, r − 1) (PenaltyForm).
    form: u32,
    lambda: f32,
    penalty_slot: u32,
    norm_slot: u32,
    loss_slot: u32,
    // gradient_penalty: the norm covers the first norm_cols columns of each row (a conditional
    // critic's image part; its label columns are not penalised).
    norm_cols: u32,
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
}

@group(0) @binding(0) var<uniform> params: Params;

// Slot 1: always read.
@group(0) @binding(1) var<storage, read> in1: array<f32>;
// Slot 2: read (interpolate, second_derivative, lipschitz) or the output.
@group(0) @binding(2) var<storage, read> in2: array<f32>;
@group(0) @binding(2) var<storage, read_write> out2: array<f32>;
// Slot 3.
@group(0) @binding(3) var<storage, read> in3: array<f32>;
@group(0) @binding(3) var<storage, read_write> out3: array<f32>;
// Slot 4.
@group(0) @binding(4) var<storage, read> in4: array<f32>;
@group(0) @binding(4) var<storage, read_write> out4: array<f32>;
// Slots 5–7: lipschitz_penalty's two gradients and the metrics.
@group(0) @binding(5) var<storage, read_write> out5: array<f32>;
@group(0) @binding(6) var<storage, read_write> out6: array<f32>;
@group(0) @binding(7) var<storage, read_write> out7: array<f32>;

override ACTIVATION: u32 = 0u;

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

const FORM_SQUARED: u32 = 0u;
const FORM_HINGE: u32 = 2u;
const FORM_ZERO_CENTRED: u32 = 3u;

// ψ(r): (r − 1)², max(0, r − 1)², the un-squared hinge max(0, r − 1), or r²; and ψ'(r).
fn psi(r: f32) -> f32 {
    if (params.form == FORM_ZERO_CENTRED) {
        return r * r;
    }
    var d = r - 1.0;
    if (params.form != FORM_SQUARED) {
        d = max(d, 0.0);
    }
    if (params.form == FORM_HINGE) {
        return d;
    }
    return d * d;
}

fn psi_derivative(r: f32) -> f32 {
    if (params.form == FORM_ZERO_CENTRED) {
        return 2.0 * r;
    }
    var d = r - 1.0;
    if (params.form != FORM_SQUARED) {
        d = max(d, 0.0);
    }
    if (params.form == FORM_HINGE) {
        return select(0.0, 1.0, d > 0.0);
    }
    return 2.0 * d;
}

// out[b, j] = ε[b]·real[b, j] + (1 − ε[b])·fake[b, j], written so ε = 1 gives the real row exactly.
// Bindings: 1 real, 2 fake, 3 ε [rows], 4 out.
@compute @workgroup_size(256)
fn interpolate(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = flat_index(gid, groups, WG);
    if (i >= params.n) {
        return;
    }
    let eps = in3[i / params.cols];
    out4[i] = eps * in1[i] + (1.0 - eps) * in2[i];
}

// For g [rows, cols] (the critic's input gradient at x̂): n_b = ‖g_b‖ over the first norm_cols
// columns, ū_b = λ/B · ψ'(n_b) · g_b / n_b there (0 where n_b = 0, where g/‖g‖ has no limit)
// and 0 in the columns after them,
// metrics[penalty_slot] and metrics[loss_slot] += λ/B · Σ_b ψ(n_b), metrics[norm_slot] += mean n_b.
// Bindings: 1 g, 2 ū (written), 3 metrics.
@compute @workgroup_size(256)
fn gradient_penalty(@builtin(local_invocation_index) lid: u32) {
    let scale = params.lambda / f32(params.rows);
    var sums = vec2<f32>(0.0);
    for (var b = lid; b < params.rows; b += WG) {
        let first = b * params.cols;
        var squares = 0.0;
        for (var j = 0u; j < params.norm_cols; j++) {
            let v = in1[first + j];
            squares += v * v;
        }
        let norm = sqrt(squares);
        var coefficient = 0.0;
        if (norm > 0.0) {
            coefficient = scale * psi_derivative(norm) / norm;
        }
        for (var j = 0u; j < params.cols; j++) {
            out2[first + j] = select(0.0, coefficient * in1[first + j], j < params.norm_cols);
        }
        sums += vec2<f32>(psi(norm), norm);
    }
    partial[lid] = sums;
    reduce_partial(lid);
    if (lid == 0u) {
        let penalty = scale * partial[0].x;
        out3[params.penalty_slot] += penalty;
        out3[params.loss_slot] += penalty;
        out3[params.norm_slot] += partial[0].y / f32(params.rows);
    }
}

// φ'' through the activation's output y: tanh −2y(1 − y²), sigmoid y(1 − y)(1 − 2y), the
// piecewise-linear ones 0 (their kinks have measure zero).
fn second_derivative_from_output(y: f32) -> f32 {
    switch ACTIVATION {
        case 3u: { return -2.0 * y * (1.0 - y * y); }
        case 4u: { return y * (1.0 - y) * (1.0 - 2.0 * y); }
        default: { return 0.0; }
    }
}

// out = ē ⊙ δ ⊙ φ''(y). Bindings: 1 ē, 2 δ, 3 y, 4 out.
@compute @workgroup_size(256)
fn second_derivative(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = flat_index(gid, groups, WG);
    if (i >= params.n) {
        return;
    }
    out4[i] = in1[i] * in2[i] * second_derivative_from_output(in3[i]);
}

// out += x. Bindings: 1 x, 2 out.
@compute @workgroup_size(256)
fn add_in_place(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = flat_index(gid, groups, WG);
    if (i >= params.n) {
        return;
    }
    out2[i] = out2[i] + in1[i];
}

// The finite-difference Lipschitz penalty of row b: r_b = |D₁ − D₂| / ‖y₁ − y₂‖, value
// λ/B · ψ(r_b), and its gradient with respect to the two critic outputs:
// dP/dD₁ = λ/B · ψ'(r_b) · sign(D₁ − D₂) / ‖y₁ − y₂‖ = −dP/dD₂ (both 0 where y₁ = y₂).
// Metrics as gradient_penalty, with r_b in place of ‖g_b‖.
// Bindings: 1 D₁ [rows], 2 D₂ [rows], 3 y₁, 4 y₂ [rows, cols], 5 dP/dD₁, 6 dP/dD₂, 7 metrics.
@compute @workgroup_size(256)
fn lipschitz_penalty(@builtin(local_invocation_index) lid: u32) {
    let scale = params.lambda / f32(params.rows);
    var sums = vec2<f32>(0.0);
    for (var b = lid; b < params.rows; b += WG) {
        let first = b * params.cols;
        var squares = 0.0;
        for (var j = 0u; j < params.cols; j++) {
            let v = in3[first + j] - in4[first + j];
            squares += v * v;
        }
        let distance = sqrt(squares);
        let difference = in1[b] - in2[b];
        var ratio = 0.0;
        var grad = 0.0;
        if (distance > 0.0) {
            ratio = abs(difference) / distance;
            grad = scale * psi_derivative(ratio) * sign(difference) / distance;
        }
        out5[b] = grad;
        out6[b] = -grad;
        sums += vec2<f32>(psi(ratio), ratio);
    }
    partial[lid] = sums;
    reduce_partial(lid);
    if (lid == 0u) {
        let penalty = scale * partial[0].x;
        out7[params.penalty_slot] += penalty;
        out7[params.loss_slot] += penalty;
        out7[params.norm_slot] += partial[0].y / f32(params.rows);
    }
}
