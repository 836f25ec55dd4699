// Matmul operands in storage buffers (appended to a matmul kernel before matmul_common.wgsl).
// A[row, kk] and B[kk, col] in the layout the constants TRANS_A / TRANS_B give.

@group(0) @binding(4) var<storage, read> a: array<f32>;
@group(0) @binding(5) var<storage, read> b: array<f32>;

fn load_a(row: u32, kk: u32) -> f32 {
    if (TRANS_A) {
        return a[kk * shape.m + row];
    }
    return a[row * shape.k + kk];
}

fn load_b(kk: u32, col: u32) -> f32 {
    if (TRANS_B) {
        return b[col * shape.k + kk];
    }
    return b[kk * shape.n + col];
}

// Operands in buffers leave no texture mirror of C.
fn mirror_c(index: u32, value: f32) {}
