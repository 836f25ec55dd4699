// Shared helpers, appended to every kernel file when it is compiled (see src/shaders.rs).
// Appending (rather than prepending) keeps line numbers in errors equal to the kernel file's own.

// Activation kinds, matching `kernels::Activation`.
const ACT_NONE: u32 = 0u;
const ACT_RELU: u32 = 1u;
const ACT_LEAKY_RELU: u32 = 2u;
const ACT_TANH: u32 = 3u;
const ACT_SIGMOID: u32 = 4u;

// tanh written with exp(-2|x|) so it never overflows: exact ±1 far out, no NaN at ±30 or ±1e4.
fn stable_tanh(x: f32) -> f32 {
    let t = exp(-2.0 * abs(x));
    return sign(x) * (1.0 - t) / (1.0 + t);
}

// The logistic function without overflow for either sign.
fn stable_sigmoid(x: f32) -> f32 {
    let e = exp(-abs(x));
    let s = 1.0 / (1.0 + e);
    return select(e * s, s, x >= 0.0);
}

// log(1 + u) for u in [0, 1], accurate for tiny u (WGSL has no log1p).
fn log1p_small(u: f32) -> f32 {
    if (u < 1e-4) {
        return u * (1.0 - u * (0.5 - u / 3.0));
    }
    return log(1.0 + u);
}

fn activate(x: f32, kind: u32, slope: f32) -> f32 {
    switch kind {
        case 1u: { return max(x, 0.0); }
        case 2u: { return select(slope * x, x, x > 0.0); }
        case 3u: { return stable_tanh(x); }
        case 4u: { return stable_sigmoid(x); }
        default: { return x; }
    }
}

// The derivative expressed through the activation's output y, which is what the forward pass
// keeps (LeakyReLU with slope > 0 and ReLU keep the sign of x in y).
fn activation_grad_from_output(y: f32, kind: u32, slope: f32) -> f32 {
    switch kind {
        case 1u: { return select(0.0, 1.0, y > 0.0); }
        case 2u: { return select(slope, 1.0, y > 0.0); }
        case 3u: { return 1.0 - y * y; }
        case 4u: { return y * (1.0 - y); }
        default: { return 1.0; }
    }
}

// The texel of element i of a flat array in an r32float texture 1,024 texels wide
// (src/gpu/texture.rs).
fn texel_of(i: u32) -> vec2<u32> {
    return vec2<u32>(i & 1023u, i >> 10u);
}

// Flat invocation index for dispatches folded into y (see `workgroups_1d`).
fn flat_index(gid: vec3<u32>, groups: vec3<u32>, size: u32) -> u32 {
    return gid.x + gid.y * groups.x * size;
}

// ---- Counter-based random numbers: Philox4x32-10 (Salmon et al., SC'11, Random123) ----
// A pure function of (counter, key): any invocation can draw its own numbers with no state,
// and the same seed and counter give the same bits on every adapter.

// The high and low 32 bits of a 32×32-bit product (WGSL has no 64-bit integers).
fn mul_hi_lo(a: u32, b: u32) -> vec2<u32> {
    let a_lo = a & 0xFFFFu;
    let a_hi = a >> 16u;
    let b_lo = b & 0xFFFFu;
    let b_hi = b >> 16u;
    let lo_lo = a_lo * b_lo;
    let hi_lo = a_hi * b_lo;
    let lo_hi = a_lo * b_hi;
    let hi_hi = a_hi * b_hi;
    // Cannot overflow: at most 0xFFFF + 0xFFFF + 0xFFFE0001.
    let cross = (lo_lo >> 16u) + (hi_lo & 0xFFFFu) + lo_hi;
    let hi = hi_hi + (hi_lo >> 16u) + (cross >> 16u);
    let lo = (cross << 16u) | (lo_lo & 0xFFFFu);
    return vec2<u32>(hi, lo);
}

fn philox4x32_10(counter: vec4<u32>, key: vec2<u32>) -> vec4<u32> {
    var c = counter;
    var k = key;
    for (var round = 0u; round < 10u; round++) {
        let p0 = mul_hi_lo(0xD2511F53u, c.x);
        let p1 = mul_hi_lo(0xCD9E8D57u, c.z);
        c = vec4<u32>(p1.x ^ c.y ^ k.x, p1.y, p0.x ^ c.w ^ k.y, p0.y);
        k += vec2<u32>(0x9E3779B9u, 0xBB67AE85u);
    }
    return c;
}

// 24 random bits to a float in (0, 1]: never 0, so log() of it is always finite. The top value
// rounds to exactly 1.0 in f32 (k + 0.5 with k = 2^24 − 1 rounds to even); callers that need a
// strict upper bound (dropout's keep test) handle it.
fn bits_to_unit(bits: u32) -> f32 {
    return (f32(bits >> 8u) + 0.5) * (1.0 / 16777216.0);
}

// Two standard normals from two uniforms (Box–Muller).
fn box_muller(u1: f32, u2: f32) -> vec2<f32> {
    let radius = sqrt(-2.0 * log(u1));
    let angle = 6.283185307179586 * u2;
    return radius * vec2<f32>(cos(angle), sin(angle));
}
