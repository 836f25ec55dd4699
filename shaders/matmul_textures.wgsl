// Matmul operands in r32float textures (appended to a matmul kernel before matmul_common.wgsl),
// filled from the operand tensors by buffer-to-texture copies before the matmul when they are
// not current. Element i of a flat operand sits at texel (i % 1024, i / 1024) (src/gpu/texture.rs),
// A's from texel index shape.a_offset on and B's from shape.b_offset: an operand may be part of
// a larger tensor's texture (a layer's weights in its network's parameter texture).
//
// With MIRROR_C the kernel also stores C into C's own texture (binding 6), so the next matmul
// reading C (the next layer forward, the next input gradient backward) finds it current and
// needs no copy: on llvmpipe a copy costs about as much as a small matmul's launch.
//
// Why: on llvmpipe a storage-buffer load with a per-lane address is a loop over the 8 SIMD
// lanes (a branch and a scalar load each); a texel fetch computes the 8 offsets as one vector
// and gathers them without branches.

@group(0) @binding(4) var a_texels: texture_2d<f32>;
@group(0) @binding(5) var b_texels: texture_2d<f32>;
@group(0) @binding(6) var c_texels: texture_storage_2d<r32float, write>;

override MIRROR_C: bool = false;

fn load_a(row: u32, kk: u32) -> f32 {
    if (TRANS_A) {
        return textureLoad(a_texels, texel_of(shape.a_offset + kk * shape.m + row), 0).x;
    }
    return textureLoad(a_texels, texel_of(shape.a_offset + row * shape.k + kk), 0).x;
}

fn load_b(kk: u32, col: u32) -> f32 {
    if (TRANS_B) {
        return textureLoad(b_texels, texel_of(shape.b_offset + col * shape.k + kk), 0).x;
    }
    return textureLoad(b_texels, texel_of(shape.b_offset + kk * shape.n + col), 0).x;
}

// C[index] = value, in C's texture too when MIRROR_C.
fn mirror_c(index: u32, value: f32) {
    if (MIRROR_C) {
        textureStore(c_texels, texel_of(index), vec4<f32>(value, 0.0, 0.0, 0.0));
    }
}
