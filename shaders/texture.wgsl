// Copies a tensor (a storage-buffer view) into an r32float storage texture: element i to texel
// (i % 1024, i / 1024), the layout of src/gpu/texture.rs. Kernels that read operands through
// textureLoad (matmul_textures.wgsl) run after it. Dispatched with `workgroups_1d(len, 64)`.

struct Params {
    len: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> source: array<f32>;
@group(0) @binding(2) var texels: texture_storage_2d<r32float, write>;

@compute @workgroup_size(64)
fn copy_to_texture(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = gid.x + gid.y * (groups.x * 64u);
    if (i >= params.len) {
        return;
    }
    textureStore(texels, vec2<u32>(i & 1023u, i >> 10u), vec4<f32>(source[i], 0.0, 0.0, 0.0));
}
