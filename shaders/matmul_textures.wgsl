// Matmul operands in r32float textures (appended to a matmul kernel before matmul_common.wgsl),
// filled from the operand tensors by buffer-to-texture copies before every run of the matmul.
// Element i of a flat operand sits at texel (i % 1024, i / 1024) (src/gpu/texture.rs).
//
// Why: on llvmpipe a storage-buffer load with a per-lane address is a loop over the 8 SIMD
// lanes (a branch and a scalar load each); a texel fetch computes the 8 offsets as one vector
// and gathers them without branches.

@group(0) @binding(4) var a_texels: texture_2d<f32>;
@group(0) @binding(5) var b_texels: texture_2d<f32>;

fn texel_of(i: u32) -> vec2<u32> {
    return vec2<u32>(i & 1023u, i >> 10u);
}

fn load_a(row: u32, kk: u32) -> f32 {
    if (TRANS_A) {
        return textureLoad(a_texels, texel_of(kk * shape.m + row), 0).x;
    }
    return textureLoad(a_texels, texel_of(row * shape.k + kk), 0).x;
}

fn load_b(kk: u32, col: u32) -> f32 {
    if (TRANS_B) {
        return textureLoad(b_texels, texel_of(col * shape.k + kk), 0).x;
    }
    return textureLoad(b_texels, texel_of(kk * shape.n + col), 0).x;
}
