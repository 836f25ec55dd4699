// Random numbers from Philox4x32-10 (in common.wgsl) and the step counter they read.
//
// Output i uses lane i % 4 of Philox(counter = (i / 4, stream, step, 0), key = (seed low, seed
// high)), where `step` is counter[0] read at run time: one Philox call per invocation serves four
// outputs, the same seed and step give the same numbers on every adapter, and training changes
// the numbers by incrementing the counter on the GPU, never by writing from the host.
// The fourth counter word is a domain tag: 0 here (and in dropout and with-replacement indices),
// 1 for the shuffle's Feistel keys and 2 for mixture samples (shaders/data.wgsl).
//
// Binding numbers follow each wrapper's tensor order, so a slot is declared several times with
// different names and element types; no entry point uses two declarations of one slot.

struct Params {
    // Number of outputs.
    n: u32,
    seed_lo: u32,
    seed_hi: u32,
    stream: u32,
    // fill_uniform: low, high; fill_normal: mean, std.
    a: f32,
    b: f32,
}

@group(0) @binding(0) var<uniform> params: Params;

// Slot 1: the output, or the counter itself for increment_counter.
@group(0) @binding(1) var<storage, read_write> step_counter: array<u32>;
@group(0) @binding(1) var<storage, read_write> out_bits: array<u32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
// Slot 2: the step counter the fills read (a u32 tensor of length 1).
@group(0) @binding(2) var<storage, read> counter: array<u32>;

// counter[0] += 1. One invocation: dispatched once per training step (and once per Adam step on
// Adam's own counter), so every later kernel in the step sees the new value.
@compute @workgroup_size(1)
fn increment_counter() {
    step_counter[0] = step_counter[0] + 1u;
}

fn block_bits(block: u32) -> vec4<u32> {
    return philox4x32_10(vec4<u32>(block, params.stream, counter[0], 0u), vec2<u32>(params.seed_lo, params.seed_hi));
}

// The raw Philox bits (tests compare them bit for bit with the CPU reference).
@compute @workgroup_size(256)
fn fill_bits(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let block = flat_index(gid, groups, 256u);
    let first = block * 4u;
    if (first >= params.n) {
        return;
    }
    let bits = block_bits(block);
    for (var lane = 0u; lane < 4u; lane++) {
        if (first + lane < params.n) {
            out_bits[first + lane] = bits[lane];
        }
    }
}

// low + (high − low)·u with u = bits_to_unit(bits).
@compute @workgroup_size(256)
fn fill_uniform(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let block = flat_index(gid, groups, 256u);
    let first = block * 4u;
    if (first >= params.n) {
        return;
    }
    let bits = block_bits(block);
    let span = params.b - params.a;
    for (var lane = 0u; lane < 4u; lane++) {
        if (first + lane < params.n) {
            out[first + lane] = params.a + span * bits_to_unit(bits[lane]);
        }
    }
}

// mean + std·z, z from Box–Muller on lanes (0, 1) and (2, 3).
@compute @workgroup_size(256)
fn fill_normal(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let block = flat_index(gid, groups, 256u);
    let first = block * 4u;
    if (first >= params.n) {
        return;
    }
    let bits = block_bits(block);
    let z01 = box_muller(bits_to_unit(bits.x), bits_to_unit(bits.y));
    let z23 = box_muller(bits_to_unit(bits.z), bits_to_unit(bits.w));
    let z = vec4<f32>(z01, z23);
    for (var lane = 0u; lane < 4u; lane++) {
        if (first + lane < params.n) {
            out[first + lane] = params.a + params.b * z[lane];
        }
    }
}
