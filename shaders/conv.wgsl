// 2-D convolution as im2col + matmul (PyTorch Conv2d / ConvTranspose2d, dilation 1, groups 1).
//
// The image is NCHW [batch, channels, height, width]; the column matrix has one row per output
// position (b, oy, ox) and one column per patch element (c, ky, kx):
//   cols[(b·OH + oy)·OW + ox, (c·KH + ky)·KW + kx] = image[b, c, oy·s − p + ky, ox·s − p + kx].
// col2im is its adjoint and GATHERS: one invocation per image element adds, in a fixed order,
// every column element that im2col would have read from it, so no atomics and the same bits
// every run. rows ↔ NCHW reshuffles and the per-channel sum complete the family.

struct Params {
    batch: u32,
    channels: u32,
    height: u32,
    width: u32,
    kernel_h: u32,
    kernel_w: u32,
    stride: u32,
    padding: u32,
    out_height: u32,
    out_width: u32,
    // Spatial size of one channel (rows/channels kernels) and the element count of the dispatch.
    spatial: u32,
    n: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> input: array<f32>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read_write> output: array<f32>;

override HAS_BIAS: bool = false;
override ACCUMULATE: bool = false;

const WG: u32 = 256u;

var<workgroup> partial: array<f32, WG>;

// One invocation per column element; neighbouring lanes write neighbouring columns.
@compute @workgroup_size(256)
fn im2col(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = flat_index(gid, groups, WG);
    if (i >= params.n) {
        return;
    }
    let patch_len = params.channels * params.kernel_h * params.kernel_w;
    let row = i / patch_len;
    let col = i % patch_len;
    let kx = col % params.kernel_w;
    let ky = (col / params.kernel_w) % params.kernel_h;
    let c = col / (params.kernel_w * params.kernel_h);
    let ox = row % params.out_width;
    let oy = (row / params.out_width) % params.out_height;
    let b = row / (params.out_width * params.out_height);
    // Signed coordinates: padding makes them negative at the top/left edge.
    let y = i32(oy * params.stride + ky) - i32(params.padding);
    let x = i32(ox * params.stride + kx) - i32(params.padding);
    var value = 0.0;
    if (y >= 0 && y < i32(params.height) && x >= 0 && x < i32(params.width)) {
        value = input[((b * params.channels + c) * params.height + u32(y)) * params.width + u32(x)];
    }
    output[i] = value;
}

// One invocation per image element: bias[c] (or 0) + Σ over the (ky, kx) whose output position
// (oy, ox) lands on the grid, in ky-major order.
@compute @workgroup_size(256)
fn col2im(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = flat_index(gid, groups, WG);
    if (i >= params.n) {
        return;
    }
    let x = i % params.width;
    let y = (i / params.width) % params.height;
    let c = (i / (params.width * params.height)) % params.channels;
    let b = i / (params.width * params.height * params.channels);
    let patch_len = params.channels * params.kernel_h * params.kernel_w;
    var sum = 0.0;
    for (var ky = 0u; ky < params.kernel_h; ky++) {
        // oy·s = y + p − ky must be a non-negative multiple of s below OH·s.
        let ty = i32(y + params.padding) - i32(ky);
        if (ty < 0 || u32(ty) % params.stride != 0u) {
            continue;
        }
        let oy = u32(ty) / params.stride;
        if (oy >= params.out_height) {
            continue;
        }
        for (var kx = 0u; kx < params.kernel_w; kx++) {
            let tx = i32(x + params.padding) - i32(kx);
            if (tx < 0 || u32(tx) % params.stride != 0u) {
                continue;
            }
            let ox = u32(tx) / params.stride;
            if (ox >= params.out_width) {
                continue;
            }
            let row = (b * params.out_height + oy) * params.out_width + ox;
            let col = (c * params.kernel_h + ky) * params.kernel_w + kx;
            sum += input[row * patch_len + col];
        }
    }
    if (HAS_BIAS) {
        sum += bias[c];
    }
    output[i] = sum;
}

// out[b, c, p] = rows[b·P + p, c] + bias[c] (or 0); one invocation per NCHW element, so the
// writes are contiguous.
@compute @workgroup_size(256)
fn rows_to_channels(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = flat_index(gid, groups, WG);
    if (i >= params.n) {
        return;
    }
    let p = i % params.spatial;
    let c = (i / params.spatial) % params.channels;
    let b = i / (params.spatial * params.channels);
    var value = input[(b * params.spatial + p) * params.channels + c];
    if (HAS_BIAS) {
        value += bias[c];
    }
    output[i] = value;
}

// rows[b·P + p, c] = x[b, c, p]; one invocation per row element.
@compute @workgroup_size(256)
fn channels_to_rows(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = flat_index(gid, groups, WG);
    if (i >= params.n) {
        return;
    }
    let c = i % params.channels;
    let row = i / params.channels;
    let p = row % params.spatial;
    let b = row / params.spatial;
    output[i] = input[(b * params.channels + c) * params.spatial + p];
}

// out[c] (+)= Σ_b Σ_p x[b, c, p]: one workgroup per channel, 256 strided partial sums added in
// a fixed tree (deterministic).
@compute @workgroup_size(256)
fn channel_sum(@builtin(workgroup_id) group: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    let c = group.x;
    let count = params.batch * params.spatial;
    var sum = 0.0;
    for (var j = lid; j < count; j += WG) {
        let b = j / params.spatial;
        let p = j % params.spatial;
        sum += input[(b * params.channels + c) * params.spatial + p];
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
        var value = partial[0];
        if (ACCUMULATE) {
            value += output[c];
        }
        output[c] = value;
    }
}
