//! Philox4x32-10 in plain Rust (checked against Random123's known-answer vectors) and the fills
//! of `kernels::random` computed from its bits.

/// Philox's multipliers and Weyl key increments (Salmon et al., SC'11).
const M0: u32 = 0xD251_1F53;
const M1: u32 = 0xCD9E_8D57;
const W0: u32 = 0x9E37_79B9;
const W1: u32 = 0xBB67_AE85;

/// Ten rounds of Philox4x32 on `counter` under `key`, with plain 64-bit products.
pub fn philox4x32_10(counter: [u32; 4], key: [u32; 2]) -> [u32; 4] {
    let mut c = counter;
    let mut k = key;
    for _ in 0..10 {
        let p0 = M0 as u64 * c[0] as u64;
        let p1 = M1 as u64 * c[2] as u64;
        let (hi0, lo0) = ((p0 >> 32) as u32, p0 as u32);
        let (hi1, lo1) = ((p1 >> 32) as u32, p1 as u32);
        c = [hi1 ^ c[1] ^ k[0], lo1, hi0 ^ c[3] ^ k[1], lo0];
        k = [k[0].wrapping_add(W0), k[1].wrapping_add(W1)];
    }
    c
}

/// The key of a 64-bit seed, as the kernels build it.
pub fn seed_key(seed: u64) -> [u32; 2] {
    [seed as u32, (seed >> 32) as u32]
}

/// Lane `i % 4` of Philox((i / 4, stream, step, 0), seed): the bits behind output i of every fill.
pub fn bits(i: usize, seed: u64, stream: u32, step: u32) -> u32 {
    philox4x32_10([(i / 4) as u32, stream, step, 0], seed_key(seed))[i % 4]
}

/// The shader's `bits_to_unit`, in the shader's f32 arithmetic: the top 24 bits plus one half,
/// over 2^24. Kept in f32 on purpose: `+ 0.5` rounds for values ≥ 2^23 (0xFFFFFF becomes exactly
/// 1.0), and the GPU and this reference must agree on that to the bit.
pub fn bits_to_unit(bits: u32) -> f32 {
    ((bits >> 8) as f32 + 0.5) * (1.0 / 16_777_216.0)
}

/// Box–Muller: two standard normals from two uniforms in (0, 1].
pub fn box_muller(u1: f64, u2: f64) -> (f64, f64) {
    let radius = (-2.0 * u1.ln()).sqrt();
    let angle = 2.0 * std::f64::consts::PI * u2;
    (radius * angle.cos(), radius * angle.sin())
}

pub fn fill_bits(n: usize, seed: u64, stream: u32, step: u32) -> Vec<u32> {
    (0..n).map(|i| bits(i, seed, stream, step)).collect()
}

pub fn fill_uniform(n: usize, low: f64, high: f64, seed: u64, stream: u32, step: u32) -> Vec<f64> {
    (0..n)
        .map(|i| low + (high - low) * bits_to_unit(bits(i, seed, stream, step)) as f64)
        .collect()
}

pub fn fill_normal(n: usize, mean: f64, std: f64, seed: u64, stream: u32, step: u32) -> Vec<f64> {
    (0..n)
        .map(|i| {
            let block = philox4x32_10([(i / 4) as u32, stream, step, 0], seed_key(seed));
            let lane = i % 4;
            let first = lane & !1; // Box–Muller pairs lanes (0, 1) and (2, 3)
            let u1 = bits_to_unit(block[first]) as f64;
            let u2 = bits_to_unit(block[first + 1]) as f64;
            let (z0, z1) = box_muller(u1, u2);
            mean + std * if lane % 2 == 0 { z0 } else { z1 }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Random123's known-answer vectors for philox4x32_10 (kat_vectors).
    #[test]
    fn philox_matches_random123_known_answers() {
        assert_eq!(
            philox4x32_10([0; 4], [0; 2]),
            [0x6627_e8d5, 0xe169_c58d, 0xbc57_ac4c, 0x9b00_dbd8]
        );
        assert_eq!(
            philox4x32_10([u32::MAX; 4], [u32::MAX; 2]),
            [0x408f_276d, 0x41c8_3b0e, 0xa20b_c7c6, 0x6d54_51fd]
        );
        assert_eq!(
            philox4x32_10(
                [0x243f_6a88, 0x85a3_08d3, 0x1319_8a2e, 0x0370_7344],
                [0xa409_3822, 0x299f_31d0]
            ),
            [0xd16c_fe09, 0x94fd_cceb, 0x5001_e420, 0x2412_6ea1]
        );
    }

    /// Below 2^23 the half is exact; above it f32 rounds k + 0.5 to even, so the top value is
    /// exactly 1.0 (log(1) = 0: still finite in Box–Muller) and the smallest stays above 0.
    #[test]
    fn bits_to_unit_rounds_as_f32_does() {
        assert_eq!(bits_to_unit(0), 0.5 / 16_777_216.0);
        assert_eq!(bits_to_unit(0x7FFF_FF00), 8_388_607.5 / 16_777_216.0);
        assert_eq!(bits_to_unit(0x8000_0000), 0.5);
        assert_eq!(bits_to_unit(u32::MAX), 1.0);
    }
}
