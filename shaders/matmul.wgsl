// C = op(A) · op(B) (+ bias) (then activation), or C += op(A) · op(B), for any M, N, K.
//
// The three layouts training needs come from one source via pipeline constants, so the
// compiler specialises each: Y = X·W (NN), dX = dY·Wᵀ (TRANS_B), dW = Xᵀ·dY (TRANS_A).
// A is [M, K] row-major ([K, M] when TRANS_A); B is [K, N] ([N, K] when TRANS_B).
//
// Each invocation owns a 4×4 register tile whose columns are WG_X apart and whose rows are
// WG_Y apart, so neighbouring invocations (SIMD lanes on CPU adapters such as llvmpipe) touch
// neighbouring columns: B loads are contiguous across lanes and A loads are shared by a row.
// No workgroup memory and no barriers: those cost a coroutine switch per invocation on llvmpipe.

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
override WG_X: u32 = 8u;
override WG_Y: u32 = 8u;

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

@compute @workgroup_size(WG_X, WG_Y, 1)
fn matmul(@builtin(workgroup_id) group: vec3<u32>, @builtin(local_invocation_id) local: vec3<u32>) {
    let first_col = group.x * WG_X * 4u + local.x;
    let first_row = group.y * WG_Y * 4u + local.y;
    // Out-of-range rows/columns load a valid element (clamped) and are never stored.
    var rows: vec4<u32>;
    var cols: vec4<u32>;
    for (var i = 0u; i < 4u; i++) {
        rows[i] = min(first_row + i * WG_Y, params.m - 1u);
        cols[i] = min(first_col + i * WG_X, params.n - 1u);
    }

    var acc0 = vec4<f32>(0.0);
    var acc1 = vec4<f32>(0.0);
    var acc2 = vec4<f32>(0.0);
    var acc3 = vec4<f32>(0.0);
    for (var kk = 0u; kk < params.k; kk++) {
        let bv = vec4<f32>(load_b(kk, cols[0]), load_b(kk, cols[1]), load_b(kk, cols[2]), load_b(kk, cols[3]));
        acc0 += load_a(rows[0], kk) * bv;
        acc1 += load_a(rows[1], kk) * bv;
        acc2 += load_a(rows[2], kk) * bv;
        acc3 += load_a(rows[3], kk) * bv;
    }

    store_row(first_row, first_col, acc0);
    store_row(first_row + WG_Y, first_col, acc1);
    store_row(first_row + 2u * WG_Y, first_col, acc2);
    store_row(first_row + 3u * WG_Y, first_col, acc3);
}

fn store_row(row: u32, first_col: u32, values: vec4<f32>) {
    if (row >= params.m) {
        return;
    }
    for (var j = 0u; j < 4u; j++) {
        let col = first_col + j * WG_X;
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
