//! Random image translations (kernels::augment) on the CPU, with the same Philox draws.

use super::data::multiply_high;
use super::random::{philox4x32_10, seed_key};

/// Each [height·width] image of `input` moved by its (dy, dx) in [−max_shift, max_shift]².
#[allow(clippy::too_many_arguments)]
pub fn shift_images(
    input: &[f64],
    (height, width): (usize, usize),
    max_shift: u32,
    background: f64,
    seed: u64,
    stream: u32,
    step: u32,
) -> Vec<f64> {
    let size = height * width;
    let span = 2 * max_shift + 1;
    let mut out = vec![background; input.len()];
    for (b, (image, shifted)) in input.chunks(size).zip(out.chunks_mut(size)).enumerate() {
        let bits = philox4x32_10([b as u32, stream, step, 3], seed_key(seed));
        let dy = multiply_high(bits[0], span) as i64 - max_shift as i64;
        let dx = multiply_high(bits[1], span) as i64 - max_shift as i64;
        for row in 0..height as i64 {
            for col in 0..width as i64 {
                let (from_row, from_col) = (row - dy, col - dx);
                if (0..height as i64).contains(&from_row) && (0..width as i64).contains(&from_col) {
                    shifted[(row * width as i64 + col) as usize] =
                        image[(from_row * width as i64 + from_col) as usize];
                }
            }
        }
    }
    out
}
