// Conditioning of a conditional GAN (Mirza & Osindero 2014; Goodfellow et al. 2014 §7: "adding
// c as input to both G and D"):
//   append_one_hot  out[b] = x[b] followed by the one-hot label of row b, each of its K values
//                   repeated S times (S = 1 for a row of features; S = H·W for a D that takes
//                   [C + K, H, W] images, so the label is K constant channels)
//   take_columns    out[b, j] = x[b, j] for j < cols: the image part of a gradient taken with
//                   respect to [image, label] inputs
//
// Binding numbers follow each wrapper's tensor order.

struct Params {
    rows: u32,
    // append_one_hot: the columns of x (F); take_columns: the columns kept.
    cols: u32,
    // append_one_hot: K classes; take_columns: the input's columns.
    classes: u32,
    // append_one_hot: S repeats of each one-hot value.
    repeat: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> labels: array<u32>;
@group(0) @binding(2) var<storage, read_write> taken: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

const WG: u32 = 256u;

// Bindings: 1 x [rows, F], 2 labels [rows] (u32), 3 out [rows, F + K·S]. A label ≥ K gives an
// all-zero label part (the wrapper's callers only pass labels < K).
@compute @workgroup_size(256)
fn append_one_hot(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let width = params.cols + params.classes * params.repeat;
    let i = flat_index(gid, groups, WG);
    if (i >= params.rows * width) {
        return;
    }
    let b = i / width;
    let j = i % width;
    if (j < params.cols) {
        out[i] = x[b * params.cols + j];
    } else {
        let category = (j - params.cols) / params.repeat;
        out[i] = select(0.0, 1.0, labels[b] == category);
    }
}

// Bindings: 1 x [rows, classes (the input's columns)], 2 out [rows, cols].
@compute @workgroup_size(256)
fn take_columns(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = flat_index(gid, groups, WG);
    if (i >= params.rows * params.cols) {
        return;
    }
    let b = i / params.cols;
    let j = i % params.cols;
    taken[i] = x[b * params.classes + j];
}
