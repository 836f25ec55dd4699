// The part both matmul kernels share (appended to matmul.wgsl and matmul_subgroup8.wgsl, as
// common.wgsl is to every kernel): parameters, bindings, the layout constants, operand loads and
// the epilogue. A is [M, K] row-major ([K, M] when TRANS_A); B is [K, N] ([N, K] when TRANS_B).

struct Params {
    m: u32,
    n: u32,
    k: u32,
    slope: f32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> c: array<f32>;

override TRANS_A: bool = false;
override TRANS_B: bool = false;
override HAS_BIAS: bool = false;
override ACCUMULATE: bool = false;
override ACTIVATION: u32 = 0u;

fn load_a(row: u32, kk: u32) -> f32 {
    if (TRANS_A) {
        return a[kk * params.m + row];
    }
    return a[row * params.k + kk];
}

fn load_b(kk: u32, col: u32) -> f32 {
    if (TRANS_B) {
        return b[col * params.k + kk];
    }
    return b[kk * params.n + col];
}

// Stores one row of a tile: values[j] belongs at column first_col + j·col_stride. Rows and
// columns past the end are skipped; bias, accumulation and the activation are fused here.
fn store_row(row: u32, first_col: u32, col_stride: u32, values: vec4<f32>) {
    if (row >= params.m) {
        return;
    }
    for (var j = 0u; j < 4u; j++) {
        let col = first_col + j * col_stride;
        if (col < params.n) {
            var v = values[j];
            if (HAS_BIAS) {
                v += bias[col];
            }
            let index = row * params.n + col;
            if (ACCUMULATE) {
                v += c[index];
            }
            c[index] = activate(v, ACTIVATION, params.slope);
        }
    }
}
