// The part every matmul kernel shares (appended to matmul.wgsl and matmul_subgroup8.wgsl after
// their operand loads, as common.wgsl is to every kernel): parameters, the bias and output
// bindings, the layout constants and the epilogue. A is [M, K] row-major ([K, M] when TRANS_A);
// B is [K, N] ([N, K] when TRANS_B). Operands are read by load_a / load_b at bindings 3 and 4:
// from storage buffers (matmul_buffers.wgsl) or from r32float textures (matmul_textures.wgsl).

struct Params {
    m: u32,
    n: u32,
    k: u32,
    slope: f32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> bias: array<f32>;
@group(0) @binding(2) var<storage, read_write> c: array<f32>;

override TRANS_A: bool = false;
override TRANS_B: bool = false;
override HAS_BIAS: bool = false;
override ACCUMULATE: bool = false;
override ACTIVATION: u32 = 0u;

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
