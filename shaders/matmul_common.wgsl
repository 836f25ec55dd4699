// The part every matmul kernel shares (appended to matmul.wgsl and matmul_subgroup8.wgsl after
// their operand loads, as common.wgsl is to every kernel): parameters, the bias, output and
// column-sum bindings, the layout constants and the epilogue. A is [M, K] row-major ([K, M] when
// TRANS_A); B is [K, N] ([N, K] when TRANS_B). Operands are read by load_a / load_b at bindings
// 4 and 5: from storage buffers (matmul_buffers.wgsl) or r32float textures (matmul_textures.wgsl),
// which also defines mirror_c (C's texture copy, or nothing).
//
// Two fusions save a dispatch each per layer of a backward pass:
// * ONES_ROW (with TRANS_A, the weight gradient dW = Xᵀ·dY): op(A) gets an extra row of ones,
//   so C gets an extra row 1ᵀ·dY, the column sums of dY: the bias gradient. That row is stored
//   in `row_sums` (the bias gradient is not contiguous with dW in the flat gradient buffer).
//   The subgroup kernels sum the same columns in their k loop instead, with no row of ones
//   (src/kernels/matmul_subgroup8_gen.rs); both store the sums through store_row's row M.
// * GATE (the input gradient dX = dY·Wᵀ): C is multiplied elementwise by f'(gate), gate being
//   the previous layer's output [M, N] bound in place of the bias and ACTIVATION that layer's
//   activation, so dX leaves the kernel already through that activation's backward.

struct Params {
    m: u32,
    n: u32,
    k: u32,
    slope: f32,
    // Texture operands only: where A and B start in their textures (matmul_textures.wgsl).
    a_offset: u32,
    b_offset: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> bias: array<f32>;
@group(0) @binding(2) var<storage, read_write> c: array<f32>;
@group(0) @binding(3) var<storage, read_write> row_sums: array<f32>;

// `params`, copied once at the top of every entry point by read_params() and read from here:
// on llvmpipe a uniform read inside a loop or a branch is one scalar load per SIMD lane, and
// the operand loads need M, N or K for every element (hoisting them took the toy MLP's
// matmuls from 24 to 17 ms an iteration). At the top, before any branch, it is one load.
var<private> shape: Params;

fn read_params() {
    shape = params;
}

override TRANS_A: bool = false;
override TRANS_B: bool = false;
override HAS_BIAS: bool = false;
override ACCUMULATE: bool = false;
override ACTIVATION: u32 = 0u;
override ONES_ROW: bool = false;
override GATE: bool = false;

// Rows of op(A) and C, counting the row of ones.
fn rows_total() -> u32 {
    return shape.m + select(0u, 1u, ONES_ROW);
}

// op(A)[row, kk], with the row of ones after the last row when ONES_ROW.
fn load_a_or_one(row: u32, kk: u32) -> f32 {
    if (ONES_ROW && row >= shape.m) {
        return 1.0;
    }
    return load_a(row, kk);
}

// Stores one row of a tile: values[j] belongs at column first_col + j·col_stride. Rows and
// columns past the end are skipped; bias, accumulation, the activation or the gate are fused
// here, and the row of ones' sums go to row_sums.
fn store_row(row: u32, first_col: u32, col_stride: u32, values: vec4<f32>) {
    if (row >= rows_total()) {
        return;
    }
    let sums_row = ONES_ROW && row == shape.m;
    for (var j = 0u; j < 4u; j++) {
        let col = first_col + j * col_stride;
        if (col < shape.n) {
            var v = values[j];
            if (sums_row) {
                if (ACCUMULATE) {
                    v += row_sums[col];
                }
                row_sums[col] = v;
                continue;
            }
            if (HAS_BIAS) {
                v += bias[col];
            }
            let index = row * shape.n + col;
            if (ACCUMULATE) {
                v += c[index];
            }
            var out: f32;
            if (GATE) {
                out = v * activation_grad_from_output(bias[index], ACTIVATION, shape.slope);
            } else {
                out = activate(v, ACTIVATION, shape.slope);
            }
            c[index] = out;
            mirror_c(index, out);
        }
    }
}
