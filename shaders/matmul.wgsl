// C = op(A) · op(B) (+ bias) (then activation), or C += op(A) · op(B), for any M, N, K.
//
// The three layouts training needs come from one source via pipeline constants, so the
// compiler specialises each: Y = X·W (NN), dX = dY·Wᵀ (TRANS_B), dW = Xᵀ·dY (TRANS_A).
// Operand loads (matmul_buffers.wgsl or matmul_textures.wgsl), layout constants and the
// epilogue (matmul_common.wgsl) are appended.
//
// Each invocation owns a 4×4 register tile whose columns are WG_X apart and whose rows are
// WG_Y apart, so neighbouring invocations (SIMD lanes on CPU adapters such as llvmpipe) touch
// neighbouring columns: B loads are contiguous across lanes and A loads are shared by a row.
// No workgroup memory and no barriers: those cost a coroutine switch per invocation on llvmpipe.

override WG_X: u32 = 8u;
override WG_Y: u32 = 8u;

@compute @workgroup_size(WG_X, WG_Y, 1)
fn matmul(@builtin(workgroup_id) group: vec3<u32>, @builtin(local_invocation_id) local: vec3<u32>) {
    read_params();
    let first_col = group.x * WG_X * 4u + local.x;
    let first_row = group.y * WG_Y * 4u + local.y;
    // Out-of-range rows/columns load a valid element (clamped) and are never stored.
    var rows: vec4<u32>;
    var cols: vec4<u32>;
    for (var i = 0u; i < 4u; i++) {
        rows[i] = min(first_row + i * WG_Y, rows_total() - 1u);
        cols[i] = min(first_col + i * WG_X, shape.n - 1u);
    }

    var acc0 = vec4<f32>(0.0);
    var acc1 = vec4<f32>(0.0);
    var acc2 = vec4<f32>(0.0);
    var acc3 = vec4<f32>(0.0);
    for (var kk = 0u; kk < shape.k; kk++) {
        let bv = vec4<f32>(load_b(kk, cols[0]), load_b(kk, cols[1]), load_b(kk, cols[2]), load_b(kk, cols[3]));
        acc0 += load_a_or_one(rows[0], kk) * bv;
        acc1 += load_a_or_one(rows[1], kk) * bv;
        acc2 += load_a_or_one(rows[2], kk) * bv;
        acc3 += load_a_or_one(rows[3], kk) * bv;
    }

    store_row(first_row, first_col, WG_X, acc0);
    store_row(first_row + WG_Y, first_col, WG_X, acc1);
    store_row(first_row + 2u * WG_Y, first_col, WG_X, acc2);
    store_row(first_row + 3u * WG_Y, first_col, WG_X, acc3);
}
