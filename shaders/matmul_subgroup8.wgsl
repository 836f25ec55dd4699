// (Subgroup builtins need wgpu::Features::SUBGROUP; naga does not take `enable subgroups;` yet.)
// C = op(A) · op(B) (+ bias) (then activation), or C += op(A) · op(B), for any M, N, K, on
// adapters whose subgroups are exactly 8 invocations wide (llvmpipe and other CPU adapters).
// Same layouts, constants and bindings as matmul.wgsl (both get their operand loads, from
// matmul_buffers.wgsl or matmul_textures.wgsl, and matmul_common.wgsl appended);
// src/kernels/matmul.rs picks the kernel.
//
// Why a second kernel: llvmpipe runs 8 invocations as the lanes of one SIMD register, and a
// storage load inside a loop becomes a loop over the lanes, one scalar load each, so loads and
// not multiply-adds set the speed. In matmul.wgsl every lane loads the same A element (a lane
// loop for one value). Here the lanes share one 16-row × 32-column tile: per 8 values of k,
// lane i fetches 16 distinct elements of the 16×8 block of A (along A's contiguous direction)
// and subgroupBroadcast, a register shuffle, hands each to every lane. Per 8 values of k a lane
// makes 16 A and 32 B loads for 512 multiply-adds; matmul.wgsl makes 64 loads for 128.
// Measured on llvmpipe (CPU time per run, one session): 4–5× fewer than matmul.wgsl, 1.4× fewer
// than 8 rows; 32 rows gained 15 % more at twice the code, not taken.
//
// Lane i owns columns i, i + 8, i + 16, i + 24 of the tile and all 16 rows. The body is
// unrolled by hand (generated): subgroupBroadcast needs a constant lane index.


// A[row, k] for this lane's k, or 0 past the end of K (so the products vanish).
fn lane_a(row: u32, kk: u32, k_in_range: bool) -> f32 {
    return select(0.0, load_a(min(row, params.m - 1u), min(kk, params.k - 1u)), k_in_range);
}

@compute @workgroup_size(8, 1, 1)
fn matmul_subgroup8(@builtin(workgroup_id) group: vec3<u32>, @builtin(subgroup_invocation_id) lane: u32) {
    let first_row = group.y * 16u;
    let first_col = group.x * 32u + lane;
    let last_k = params.k - 1u;
    // Out-of-range columns load a valid element (clamped) and are never stored.
    var cols: vec4<u32>;
    for (var j = 0u; j < 4u; j++) {
        cols[j] = min(first_col + j * 8u, params.n - 1u);
    }
    var acc0 = vec4<f32>(0.0);
    var acc1 = vec4<f32>(0.0);
    var acc2 = vec4<f32>(0.0);
    var acc3 = vec4<f32>(0.0);
    var acc4 = vec4<f32>(0.0);
    var acc5 = vec4<f32>(0.0);
    var acc6 = vec4<f32>(0.0);
    var acc7 = vec4<f32>(0.0);
    var acc8 = vec4<f32>(0.0);
    var acc9 = vec4<f32>(0.0);
    var acc10 = vec4<f32>(0.0);
    var acc11 = vec4<f32>(0.0);
    var acc12 = vec4<f32>(0.0);
    var acc13 = vec4<f32>(0.0);
    var acc14 = vec4<f32>(0.0);
    var acc15 = vec4<f32>(0.0);
    for (var k0 = 0u; k0 < params.k; k0 += 8u) {
        // Lane i fetches elements of the block A[rows, k0..k0+8] along A's contiguous direction:
        // a_r = A[row r, k0 + i] normally; a_(t+8h) = A[row 8h + i, k0 + t] when A is transposed.
        var a0: f32;
        var a1: f32;
        var a2: f32;
        var a3: f32;
        var a4: f32;
        var a5: f32;
        var a6: f32;
        var a7: f32;
        var a8: f32;
        var a9: f32;
        var a10: f32;
        var a11: f32;
        var a12: f32;
        var a13: f32;
        var a14: f32;
        var a15: f32;
        if (TRANS_A) {
            let row0 = min(first_row + 0u + lane, params.m - 1u);
            a0 = select(0.0, load_a(row0, min(k0 + 0u, last_k)), k0 + 0u < params.k);
            a1 = select(0.0, load_a(row0, min(k0 + 1u, last_k)), k0 + 1u < params.k);
            a2 = select(0.0, load_a(row0, min(k0 + 2u, last_k)), k0 + 2u < params.k);
            a3 = select(0.0, load_a(row0, min(k0 + 3u, last_k)), k0 + 3u < params.k);
            a4 = select(0.0, load_a(row0, min(k0 + 4u, last_k)), k0 + 4u < params.k);
            a5 = select(0.0, load_a(row0, min(k0 + 5u, last_k)), k0 + 5u < params.k);
            a6 = select(0.0, load_a(row0, min(k0 + 6u, last_k)), k0 + 6u < params.k);
            a7 = select(0.0, load_a(row0, min(k0 + 7u, last_k)), k0 + 7u < params.k);
            let row1 = min(first_row + 8u + lane, params.m - 1u);
            a8 = select(0.0, load_a(row1, min(k0 + 0u, last_k)), k0 + 0u < params.k);
            a9 = select(0.0, load_a(row1, min(k0 + 1u, last_k)), k0 + 1u < params.k);
            a10 = select(0.0, load_a(row1, min(k0 + 2u, last_k)), k0 + 2u < params.k);
            a11 = select(0.0, load_a(row1, min(k0 + 3u, last_k)), k0 + 3u < params.k);
            a12 = select(0.0, load_a(row1, min(k0 + 4u, last_k)), k0 + 4u < params.k);
            a13 = select(0.0, load_a(row1, min(k0 + 5u, last_k)), k0 + 5u < params.k);
            a14 = select(0.0, load_a(row1, min(k0 + 6u, last_k)), k0 + 6u < params.k);
            a15 = select(0.0, load_a(row1, min(k0 + 7u, last_k)), k0 + 7u < params.k);
        } else {
            let kk = k0 + lane;
            let k_in_range = kk < params.k;
            a0 = lane_a(first_row + 0u, kk, k_in_range);
            a1 = lane_a(first_row + 1u, kk, k_in_range);
            a2 = lane_a(first_row + 2u, kk, k_in_range);
            a3 = lane_a(first_row + 3u, kk, k_in_range);
            a4 = lane_a(first_row + 4u, kk, k_in_range);
            a5 = lane_a(first_row + 5u, kk, k_in_range);
            a6 = lane_a(first_row + 6u, kk, k_in_range);
            a7 = lane_a(first_row + 7u, kk, k_in_range);
            a8 = lane_a(first_row + 8u, kk, k_in_range);
            a9 = lane_a(first_row + 9u, kk, k_in_range);
            a10 = lane_a(first_row + 10u, kk, k_in_range);
            a11 = lane_a(first_row + 11u, kk, k_in_range);
            a12 = lane_a(first_row + 12u, kk, k_in_range);
            a13 = lane_a(first_row + 13u, kk, k_in_range);
            a14 = lane_a(first_row + 14u, kk, k_in_range);
            a15 = lane_a(first_row + 15u, kk, k_in_range);
        }
        // Block t: every lane adds A[rows, k0 + t] ⊗ B[k0 + t, its columns]; subgroupBroadcast
        // takes A[row, k0 + t] from the lane that loaded it (a register shuffle on llvmpipe).
        {
            let kb = min(k0 + 0u, last_k);
            let bv = vec4<f32>(load_b(kb, cols[0]), load_b(kb, cols[1]), load_b(kb, cols[2]), load_b(kb, cols[3]));
            acc0 += select(subgroupBroadcast(a0, 0u), subgroupBroadcast(a0, 0u), TRANS_A) * bv;
            acc1 += select(subgroupBroadcast(a1, 0u), subgroupBroadcast(a0, 1u), TRANS_A) * bv;
            acc2 += select(subgroupBroadcast(a2, 0u), subgroupBroadcast(a0, 2u), TRANS_A) * bv;
            acc3 += select(subgroupBroadcast(a3, 0u), subgroupBroadcast(a0, 3u), TRANS_A) * bv;
            acc4 += select(subgroupBroadcast(a4, 0u), subgroupBroadcast(a0, 4u), TRANS_A) * bv;
            acc5 += select(subgroupBroadcast(a5, 0u), subgroupBroadcast(a0, 5u), TRANS_A) * bv;
            acc6 += select(subgroupBroadcast(a6, 0u), subgroupBroadcast(a0, 6u), TRANS_A) * bv;
            acc7 += select(subgroupBroadcast(a7, 0u), subgroupBroadcast(a0, 7u), TRANS_A) * bv;
            acc8 += select(subgroupBroadcast(a8, 0u), subgroupBroadcast(a8, 0u), TRANS_A) * bv;
            acc9 += select(subgroupBroadcast(a9, 0u), subgroupBroadcast(a8, 1u), TRANS_A) * bv;
            acc10 += select(subgroupBroadcast(a10, 0u), subgroupBroadcast(a8, 2u), TRANS_A) * bv;
            acc11 += select(subgroupBroadcast(a11, 0u), subgroupBroadcast(a8, 3u), TRANS_A) * bv;
            acc12 += select(subgroupBroadcast(a12, 0u), subgroupBroadcast(a8, 4u), TRANS_A) * bv;
            acc13 += select(subgroupBroadcast(a13, 0u), subgroupBroadcast(a8, 5u), TRANS_A) * bv;
            acc14 += select(subgroupBroadcast(a14, 0u), subgroupBroadcast(a8, 6u), TRANS_A) * bv;
            acc15 += select(subgroupBroadcast(a15, 0u), subgroupBroadcast(a8, 7u), TRANS_A) * bv;
        }
        {
            let kb = min(k0 + 1u, last_k);
            let bv = vec4<f32>(load_b(kb, cols[0]), load_b(kb, cols[1]), load_b(kb, cols[2]), load_b(kb, cols[3]));
            acc0 += select(subgroupBroadcast(a0, 1u), subgroupBroadcast(a1, 0u), TRANS_A) * bv;
            acc1 += select(subgroupBroadcast(a1, 1u), subgroupBroadcast(a1, 1u), TRANS_A) * bv;
            acc2 += select(subgroupBroadcast(a2, 1u), subgroupBroadcast(a1, 2u), TRANS_A) * bv;
            acc3 += select(subgroupBroadcast(a3, 1u), subgroupBroadcast(a1, 3u), TRANS_A) * bv;
            acc4 += select(subgroupBroadcast(a4, 1u), subgroupBroadcast(a1, 4u), TRANS_A) * bv;
            acc5 += select(subgroupBroadcast(a5, 1u), subgroupBroadcast(a1, 5u), TRANS_A) * bv;
            acc6 += select(subgroupBroadcast(a6, 1u), subgroupBroadcast(a1, 6u), TRANS_A) * bv;
            acc7 += select(subgroupBroadcast(a7, 1u), subgroupBroadcast(a1, 7u), TRANS_A) * bv;
            acc8 += select(subgroupBroadcast(a8, 1u), subgroupBroadcast(a9, 0u), TRANS_A) * bv;
            acc9 += select(subgroupBroadcast(a9, 1u), subgroupBroadcast(a9, 1u), TRANS_A) * bv;
            acc10 += select(subgroupBroadcast(a10, 1u), subgroupBroadcast(a9, 2u), TRANS_A) * bv;
            acc11 += select(subgroupBroadcast(a11, 1u), subgroupBroadcast(a9, 3u), TRANS_A) * bv;
            acc12 += select(subgroupBroadcast(a12, 1u), subgroupBroadcast(a9, 4u), TRANS_A) * bv;
            acc13 += select(subgroupBroadcast(a13, 1u), subgroupBroadcast(a9, 5u), TRANS_A) * bv;
            acc14 += select(subgroupBroadcast(a14, 1u), subgroupBroadcast(a9, 6u), TRANS_A) * bv;
            acc15 += select(subgroupBroadcast(a15, 1u), subgroupBroadcast(a9, 7u), TRANS_A) * bv;
        }
        {
            let kb = min(k0 + 2u, last_k);
            let bv = vec4<f32>(load_b(kb, cols[0]), load_b(kb, cols[1]), load_b(kb, cols[2]), load_b(kb, cols[3]));
            acc0 += select(subgroupBroadcast(a0, 2u), subgroupBroadcast(a2, 0u), TRANS_A) * bv;
            acc1 += select(subgroupBroadcast(a1, 2u), subgroupBroadcast(a2, 1u), TRANS_A) * bv;
            acc2 += select(subgroupBroadcast(a2, 2u), subgroupBroadcast(a2, 2u), TRANS_A) * bv;
            acc3 += select(subgroupBroadcast(a3, 2u), subgroupBroadcast(a2, 3u), TRANS_A) * bv;
            acc4 += select(subgroupBroadcast(a4, 2u), subgroupBroadcast(a2, 4u), TRANS_A) * bv;
            acc5 += select(subgroupBroadcast(a5, 2u), subgroupBroadcast(a2, 5u), TRANS_A) * bv;
            acc6 += select(subgroupBroadcast(a6, 2u), subgroupBroadcast(a2, 6u), TRANS_A) * bv;
            acc7 += select(subgroupBroadcast(a7, 2u), subgroupBroadcast(a2, 7u), TRANS_A) * bv;
            acc8 += select(subgroupBroadcast(a8, 2u), subgroupBroadcast(a10, 0u), TRANS_A) * bv;
            acc9 += select(subgroupBroadcast(a9, 2u), subgroupBroadcast(a10, 1u), TRANS_A) * bv;
            acc10 += select(subgroupBroadcast(a10, 2u), subgroupBroadcast(a10, 2u), TRANS_A) * bv;
            acc11 += select(subgroupBroadcast(a11, 2u), subgroupBroadcast(a10, 3u), TRANS_A) * bv;
            acc12 += select(subgroupBroadcast(a12, 2u), subgroupBroadcast(a10, 4u), TRANS_A) * bv;
            acc13 += select(subgroupBroadcast(a13, 2u), subgroupBroadcast(a10, 5u), TRANS_A) * bv;
            acc14 += select(subgroupBroadcast(a14, 2u), subgroupBroadcast(a10, 6u), TRANS_A) * bv;
            acc15 += select(subgroupBroadcast(a15, 2u), subgroupBroadcast(a10, 7u), TRANS_A) * bv;
        }
        {
            let kb = min(k0 + 3u, last_k);
            let bv = vec4<f32>(load_b(kb, cols[0]), load_b(kb, cols[1]), load_b(kb, cols[2]), load_b(kb, cols[3]));
            acc0 += select(subgroupBroadcast(a0, 3u), subgroupBroadcast(a3, 0u), TRANS_A) * bv;
            acc1 += select(subgroupBroadcast(a1, 3u), subgroupBroadcast(a3, 1u), TRANS_A) * bv;
            acc2 += select(subgroupBroadcast(a2, 3u), subgroupBroadcast(a3, 2u), TRANS_A) * bv;
            acc3 += select(subgroupBroadcast(a3, 3u), subgroupBroadcast(a3, 3u), TRANS_A) * bv;
            acc4 += select(subgroupBroadcast(a4, 3u), subgroupBroadcast(a3, 4u), TRANS_A) * bv;
            acc5 += select(subgroupBroadcast(a5, 3u), subgroupBroadcast(a3, 5u), TRANS_A) * bv;
            acc6 += select(subgroupBroadcast(a6, 3u), subgroupBroadcast(a3, 6u), TRANS_A) * bv;
            acc7 += select(subgroupBroadcast(a7, 3u), subgroupBroadcast(a3, 7u), TRANS_A) * bv;
            acc8 += select(subgroupBroadcast(a8, 3u), subgroupBroadcast(a11, 0u), TRANS_A) * bv;
            acc9 += select(subgroupBroadcast(a9, 3u), subgroupBroadcast(a11, 1u), TRANS_A) * bv;
            acc10 += select(subgroupBroadcast(a10, 3u), subgroupBroadcast(a11, 2u), TRANS_A) * bv;
            acc11 += select(subgroupBroadcast(a11, 3u), subgroupBroadcast(a11, 3u), TRANS_A) * bv;
            acc12 += select(subgroupBroadcast(a12, 3u), subgroupBroadcast(a11, 4u), TRANS_A) * bv;
            acc13 += select(subgroupBroadcast(a13, 3u), subgroupBroadcast(a11, 5u), TRANS_A) * bv;
            acc14 += select(subgroupBroadcast(a14, 3u), subgroupBroadcast(a11, 6u), TRANS_A) * bv;
            acc15 += select(subgroupBroadcast(a15, 3u), subgroupBroadcast(a11, 7u), TRANS_A) * bv;
        }
        {
            let kb = min(k0 + 4u, last_k);
            let bv = vec4<f32>(load_b(kb, cols[0]), load_b(kb, cols[1]), load_b(kb, cols[2]), load_b(kb, cols[3]));
            acc0 += select(subgroupBroadcast(a0, 4u), subgroupBroadcast(a4, 0u), TRANS_A) * bv;
            acc1 += select(subgroupBroadcast(a1, 4u), subgroupBroadcast(a4, 1u), TRANS_A) * bv;
            acc2 += select(subgroupBroadcast(a2, 4u), subgroupBroadcast(a4, 2u), TRANS_A) * bv;
            acc3 += select(subgroupBroadcast(a3, 4u), subgroupBroadcast(a4, 3u), TRANS_A) * bv;
            acc4 += select(subgroupBroadcast(a4, 4u), subgroupBroadcast(a4, 4u), TRANS_A) * bv;
            acc5 += select(subgroupBroadcast(a5, 4u), subgroupBroadcast(a4, 5u), TRANS_A) * bv;
            acc6 += select(subgroupBroadcast(a6, 4u), subgroupBroadcast(a4, 6u), TRANS_A) * bv;
            acc7 += select(subgroupBroadcast(a7, 4u), subgroupBroadcast(a4, 7u), TRANS_A) * bv;
            acc8 += select(subgroupBroadcast(a8, 4u), subgroupBroadcast(a12, 0u), TRANS_A) * bv;
            acc9 += select(subgroupBroadcast(a9, 4u), subgroupBroadcast(a12, 1u), TRANS_A) * bv;
            acc10 += select(subgroupBroadcast(a10, 4u), subgroupBroadcast(a12, 2u), TRANS_A) * bv;
            acc11 += select(subgroupBroadcast(a11, 4u), subgroupBroadcast(a12, 3u), TRANS_A) * bv;
            acc12 += select(subgroupBroadcast(a12, 4u), subgroupBroadcast(a12, 4u), TRANS_A) * bv;
            acc13 += select(subgroupBroadcast(a13, 4u), subgroupBroadcast(a12, 5u), TRANS_A) * bv;
            acc14 += select(subgroupBroadcast(a14, 4u), subgroupBroadcast(a12, 6u), TRANS_A) * bv;
            acc15 += select(subgroupBroadcast(a15, 4u), subgroupBroadcast(a12, 7u), TRANS_A) * bv;
        }
        {
            let kb = min(k0 + 5u, last_k);
            let bv = vec4<f32>(load_b(kb, cols[0]), load_b(kb, cols[1]), load_b(kb, cols[2]), load_b(kb, cols[3]));
            acc0 += select(subgroupBroadcast(a0, 5u), subgroupBroadcast(a5, 0u), TRANS_A) * bv;
            acc1 += select(subgroupBroadcast(a1, 5u), subgroupBroadcast(a5, 1u), TRANS_A) * bv;
            acc2 += select(subgroupBroadcast(a2, 5u), subgroupBroadcast(a5, 2u), TRANS_A) * bv;
            acc3 += select(subgroupBroadcast(a3, 5u), subgroupBroadcast(a5, 3u), TRANS_A) * bv;
            acc4 += select(subgroupBroadcast(a4, 5u), subgroupBroadcast(a5, 4u), TRANS_A) * bv;
            acc5 += select(subgroupBroadcast(a5, 5u), subgroupBroadcast(a5, 5u), TRANS_A) * bv;
            acc6 += select(subgroupBroadcast(a6, 5u), subgroupBroadcast(a5, 6u), TRANS_A) * bv;
            acc7 += select(subgroupBroadcast(a7, 5u), subgroupBroadcast(a5, 7u), TRANS_A) * bv;
            acc8 += select(subgroupBroadcast(a8, 5u), subgroupBroadcast(a13, 0u), TRANS_A) * bv;
            acc9 += select(subgroupBroadcast(a9, 5u), subgroupBroadcast(a13, 1u), TRANS_A) * bv;
            acc10 += select(subgroupBroadcast(a10, 5u), subgroupBroadcast(a13, 2u), TRANS_A) * bv;
            acc11 += select(subgroupBroadcast(a11, 5u), subgroupBroadcast(a13, 3u), TRANS_A) * bv;
            acc12 += select(subgroupBroadcast(a12, 5u), subgroupBroadcast(a13, 4u), TRANS_A) * bv;
            acc13 += select(subgroupBroadcast(a13, 5u), subgroupBroadcast(a13, 5u), TRANS_A) * bv;
            acc14 += select(subgroupBroadcast(a14, 5u), subgroupBroadcast(a13, 6u), TRANS_A) * bv;
            acc15 += select(subgroupBroadcast(a15, 5u), subgroupBroadcast(a13, 7u), TRANS_A) * bv;
        }
        {
            let kb = min(k0 + 6u, last_k);
            let bv = vec4<f32>(load_b(kb, cols[0]), load_b(kb, cols[1]), load_b(kb, cols[2]), load_b(kb, cols[3]));
            acc0 += select(subgroupBroadcast(a0, 6u), subgroupBroadcast(a6, 0u), TRANS_A) * bv;
            acc1 += select(subgroupBroadcast(a1, 6u), subgroupBroadcast(a6, 1u), TRANS_A) * bv;
            acc2 += select(subgroupBroadcast(a2, 6u), subgroupBroadcast(a6, 2u), TRANS_A) * bv;
            acc3 += select(subgroupBroadcast(a3, 6u), subgroupBroadcast(a6, 3u), TRANS_A) * bv;
            acc4 += select(subgroupBroadcast(a4, 6u), subgroupBroadcast(a6, 4u), TRANS_A) * bv;
            acc5 += select(subgroupBroadcast(a5, 6u), subgroupBroadcast(a6, 5u), TRANS_A) * bv;
            acc6 += select(subgroupBroadcast(a6, 6u), subgroupBroadcast(a6, 6u), TRANS_A) * bv;
            acc7 += select(subgroupBroadcast(a7, 6u), subgroupBroadcast(a6, 7u), TRANS_A) * bv;
            acc8 += select(subgroupBroadcast(a8, 6u), subgroupBroadcast(a14, 0u), TRANS_A) * bv;
            acc9 += select(subgroupBroadcast(a9, 6u), subgroupBroadcast(a14, 1u), TRANS_A) * bv;
            acc10 += select(subgroupBroadcast(a10, 6u), subgroupBroadcast(a14, 2u), TRANS_A) * bv;
            acc11 += select(subgroupBroadcast(a11, 6u), subgroupBroadcast(a14, 3u), TRANS_A) * bv;
            acc12 += select(subgroupBroadcast(a12, 6u), subgroupBroadcast(a14, 4u), TRANS_A) * bv;
            acc13 += select(subgroupBroadcast(a13, 6u), subgroupBroadcast(a14, 5u), TRANS_A) * bv;
            acc14 += select(subgroupBroadcast(a14, 6u), subgroupBroadcast(a14, 6u), TRANS_A) * bv;
            acc15 += select(subgroupBroadcast(a15, 6u), subgroupBroadcast(a14, 7u), TRANS_A) * bv;
        }
        {
            let kb = min(k0 + 7u, last_k);
            let bv = vec4<f32>(load_b(kb, cols[0]), load_b(kb, cols[1]), load_b(kb, cols[2]), load_b(kb, cols[3]));
            acc0 += select(subgroupBroadcast(a0, 7u), subgroupBroadcast(a7, 0u), TRANS_A) * bv;
            acc1 += select(subgroupBroadcast(a1, 7u), subgroupBroadcast(a7, 1u), TRANS_A) * bv;
            acc2 += select(subgroupBroadcast(a2, 7u), subgroupBroadcast(a7, 2u), TRANS_A) * bv;
            acc3 += select(subgroupBroadcast(a3, 7u), subgroupBroadcast(a7, 3u), TRANS_A) * bv;
            acc4 += select(subgroupBroadcast(a4, 7u), subgroupBroadcast(a7, 4u), TRANS_A) * bv;
            acc5 += select(subgroupBroadcast(a5, 7u), subgroupBroadcast(a7, 5u), TRANS_A) * bv;
            acc6 += select(subgroupBroadcast(a6, 7u), subgroupBroadcast(a7, 6u), TRANS_A) * bv;
            acc7 += select(subgroupBroadcast(a7, 7u), subgroupBroadcast(a7, 7u), TRANS_A) * bv;
            acc8 += select(subgroupBroadcast(a8, 7u), subgroupBroadcast(a15, 0u), TRANS_A) * bv;
            acc9 += select(subgroupBroadcast(a9, 7u), subgroupBroadcast(a15, 1u), TRANS_A) * bv;
            acc10 += select(subgroupBroadcast(a10, 7u), subgroupBroadcast(a15, 2u), TRANS_A) * bv;
            acc11 += select(subgroupBroadcast(a11, 7u), subgroupBroadcast(a15, 3u), TRANS_A) * bv;
            acc12 += select(subgroupBroadcast(a12, 7u), subgroupBroadcast(a15, 4u), TRANS_A) * bv;
            acc13 += select(subgroupBroadcast(a13, 7u), subgroupBroadcast(a15, 5u), TRANS_A) * bv;
            acc14 += select(subgroupBroadcast(a14, 7u), subgroupBroadcast(a15, 6u), TRANS_A) * bv;
            acc15 += select(subgroupBroadcast(a15, 7u), subgroupBroadcast(a15, 7u), TRANS_A) * bv;
        }
    }
    store_row(first_row + 0u, first_col, 8u, acc0);
    store_row(first_row + 1u, first_col, 8u, acc1);
    store_row(first_row + 2u, first_col, 8u, acc2);
    store_row(first_row + 3u, first_col, 8u, acc3);
    store_row(first_row + 4u, first_col, 8u, acc4);
    store_row(first_row + 5u, first_col, 8u, acc5);
    store_row(first_row + 6u, first_col, 8u, acc6);
    store_row(first_row + 7u, first_col, 8u, acc7);
    store_row(first_row + 8u, first_col, 8u, acc8);
    store_row(first_row + 9u, first_col, 8u, acc9);
    store_row(first_row + 10u, first_col, 8u, acc10);
    store_row(first_row + 11u, first_col, 8u, acc11);
    store_row(first_row + 12u, first_col, 8u, acc12);
    store_row(first_row + 13u, first_col, 8u, acc13);
    store_row(first_row + 14u, first_col, 8u, acc14);
    store_row(first_row + 15u, first_col, 8u, acc15);
}
