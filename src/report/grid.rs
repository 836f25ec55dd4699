//! Sample grids: `n` images laid out in a near-square grid, as PNG.
//!
//! Samples are f32 in layout `[n, channels, height, width]` (row-major,
//! channels first as in PyTorch: how a generator's output and a loaded
//! `ImageFolder` are laid out). `value_range = (lo, hi)` maps linearly to
//! 0..=255 with clamping, e.g. `(-1.0, 1.0)` for a tanh generator or
//! `(0.0, 1.0)` for a sigmoid one. A NaN shows as a pure red pixel so a
//! diverged generator is obvious in the picture.

use std::path::Path;

use image::{Rgb, RgbImage};

use super::draw::save_png;
use crate::error::{Error, Result};

/// Padding between and around tiles, in pixels.
pub const GRID_PADDING: u32 = 2;
/// Colour of the padding: mid gray, distinct from both black and white
/// backgrounds so tile borders are visible for MNIST-like and photo data.
pub const GRID_PAD_COLOR: Rgb<u8> = Rgb([128, 128, 128]);
/// Colour of a pixel with a NaN channel.
pub const NAN_COLOR: Rgb<u8> = Rgb([255, 0, 0]);

/// Grid shape (columns, rows) for `n` tiles: columns = ⌈√n⌉, rows = ⌈n / columns⌉.
pub fn grid_shape(n: usize) -> (usize, usize) {
    let mut cols = (n as f64).sqrt().ceil() as usize;
    // Guard against float rounding for perfect squares of large n.
    while cols > 1 && (cols - 1) * (cols - 1) >= n {
        cols -= 1;
    }
    let cols = cols.max(1);
    (cols, n.div_ceil(cols).max(1))
}

/// Render the grid as an RGB image (grayscale samples are replicated), near-square.
pub fn grid_rgb(
    samples: &[f32],
    n: usize,
    height: usize,
    width: usize,
    channels: usize,
    value_range: (f32, f32),
) -> Result<RgbImage> {
    grid_rgb_columns(
        samples,
        (n, grid_shape(n).0),
        height,
        width,
        channels,
        value_range,
    )
}

/// Render the grid with `columns` tiles a row (a conditional run's class grid: one row per
/// class).
pub fn grid_rgb_columns(
    samples: &[f32],
    (n, columns): (usize, usize),
    height: usize,
    width: usize,
    channels: usize,
    value_range: (f32, f32),
) -> Result<RgbImage> {
    let (lo, hi) = value_range;
    if columns == 0 {
        return Err(Error::Input(
            "image grid: columns must be at least 1".into(),
        ));
    }
    if n == 0 || height == 0 || width == 0 {
        return Err(Error::Input(format!(
            "image grid: n, height and width must be non-zero (got n={n}, {height}×{width})"
        )));
    }
    if channels != 1 && channels != 3 {
        return Err(Error::Input(format!(
            "image grid: channels must be 1 or 3, got {channels}"
        )));
    }
    if !(lo.is_finite() && hi.is_finite() && lo < hi) {
        return Err(Error::Input(format!(
            "image grid: value range must be finite with lo < hi, got ({lo}, {hi})"
        )));
    }
    let expected = n
        .checked_mul(height)
        .and_then(|v| v.checked_mul(width))
        .and_then(|v| v.checked_mul(channels));
    if expected != Some(samples.len()) {
        return Err(Error::Input(format!(
            "image grid: {} sample values, expected n×h×w×c = {n}×{height}×{width}×{channels}",
            samples.len()
        )));
    }
    let (cols, rows) = (columns, n.div_ceil(columns));
    let pad = GRID_PADDING as usize;
    let img_w = cols * width + (cols + 1) * pad;
    let img_h = rows * height + (rows + 1) * pad;
    if img_w > u32::MAX as usize / 4 || img_h > u32::MAX as usize / 4 {
        return Err(Error::Input(format!(
            "image grid: {img_w}×{img_h} pixels is too large"
        )));
    }
    let mut img = RgbImage::from_pixel(img_w as u32, img_h as u32, GRID_PAD_COLOR);
    let scale = 255.0 / (hi - lo);
    let to_u8 = |v: f32| ((v - lo) * scale).round().clamp(0.0, 255.0) as u8;
    let tile = height * width * channels;
    for (i, s) in samples.chunks_exact(tile).enumerate() {
        let (gx, gy) = (i % cols, i / cols);
        let (x0, y0) = (pad + gx * (width + pad), pad + gy * (height + pad));
        for y in 0..height {
            for x in 0..width {
                let p: Vec<f32> = (0..channels)
                    .map(|c| s[(c * height + y) * width + x])
                    .collect();
                let px = if p.iter().any(|v| v.is_nan()) {
                    NAN_COLOR
                } else if channels == 1 {
                    let g = to_u8(p[0]);
                    Rgb([g, g, g])
                } else {
                    Rgb([to_u8(p[0]), to_u8(p[1]), to_u8(p[2])])
                };
                img.put_pixel((x0 + x) as u32, (y0 + y) as u32, px);
            }
        }
    }
    Ok(img)
}

/// Write the grid of [`grid_rgb_columns`] as a PNG (atomically); `columns` None: near-square.
pub fn write_image_grid(
    path: impl AsRef<Path>,
    samples: &[f32],
    (n, columns): (usize, Option<usize>),
    height: usize,
    width: usize,
    channels: usize,
    value_range: (f32, f32),
) -> Result<()> {
    let columns = columns.unwrap_or(grid_shape(n).0);
    let img = grid_rgb_columns(samples, (n, columns), height, width, channels, value_range)?;
    save_png(path, &img)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::test_util::temp_dir;
    use crate::report::draw::test_util::decode_png;

    #[test]
    fn shape_is_near_square() {
        assert_eq!(grid_shape(1), (1, 1));
        assert_eq!(grid_shape(2), (2, 1));
        assert_eq!(grid_shape(10), (4, 3));
        assert_eq!(grid_shape(64), (8, 8));
        assert_eq!(grid_shape(65), (9, 8));
        assert_eq!(grid_shape(10_000), (100, 100));
    }

    #[test]
    fn gray_grid_png_has_expected_size_and_values() {
        let dir = temp_dir("grid");
        let (n, h, w) = (10, 3, 4);
        // Image i is filled with value (i / 9) * 2 - 1 in [-1, 1]; pixel
        // (0,0) of image 0 is an out-of-range 5.0 to test clamping.
        let mut s: Vec<f32> = (0..n)
            .flat_map(|i| std::iter::repeat_n(i as f32 / 9.0 * 2.0 - 1.0, h * w))
            .collect();
        s[1] = 5.0;
        s[2] = f32::NAN;
        let p = dir.join("grid.png");
        write_image_grid(&p, &s, (n, None), h, w, 1, (-1.0, 1.0)).unwrap();
        let (cols, rows) = (4u32, 3u32);
        let img = decode_png(&p, cols * 4 + 5 * 2, rows * 3 + 4 * 2);
        assert_eq!(img.get_pixel(0, 0), &GRID_PAD_COLOR);
        assert_eq!(img.get_pixel(2, 2).0, [0, 0, 0]); // image 0 = -1
        assert_eq!(img.get_pixel(3, 2).0, [255, 255, 255]); // clamped 5.0
        assert_eq!(img.get_pixel(4, 2), &NAN_COLOR);
        // Image 9 (value +1) is the second tile of the third row.
        let (x, y) = (2 + (4 + 2), 2 + 2 * (3 + 2));
        assert_eq!(img.get_pixel(x, y).0, [255, 255, 255]);
        // Image 4: (4/9)*2-1 = -1/9 -> 255 * 4/9 = 113.3 -> 113.
        assert_eq!(img.get_pixel(2, 2 + 3 + 2).0, [113, 113, 113]);
        // The unused last tile stays padding colour.
        assert_eq!(img.get_pixel(2 + 3 * 6, 2 + 2 * 5), &GRID_PAD_COLOR);
        std::fs::remove_dir_all(dir).ok();
    }

    #[test]
    fn rgb_grid_and_bad_arguments() {
        let s = [1.0f32, 0.0, 0.5, 0.0, 1.0, 0.0];
        let img = grid_rgb(&s, 2, 1, 1, 3, (0.0, 1.0)).unwrap();
        assert_eq!((img.width(), img.height()), (2 + 3 * 2, 1 + 2 * 2));
        assert_eq!(img.get_pixel(2, 2).0, [255, 0, 128]);
        assert_eq!(img.get_pixel(5, 2).0, [0, 255, 0]);
        assert!(grid_rgb(&s, 3, 1, 1, 3, (0.0, 1.0)).is_err());
        assert!(grid_rgb(&s, 2, 1, 1, 3, (1.0, 1.0)).is_err());
        assert!(grid_rgb(&s, 4, 1, 2, 1, (0.0, 1.0)).is_err());
        assert!(grid_rgb(&s, 6, 1, 1, 1, (0.0, 1.0)).is_ok());
        assert!(grid_rgb(&[], 0, 1, 1, 1, (0.0, 1.0)).is_err());
    }

    /// A class grid: 3 classes × 2 columns of 1×1 tiles, tile i of value i / 5, lands row by
    /// row (tile i at column i % 2, row i / 2).
    #[test]
    fn grids_with_given_columns_fill_row_by_row() {
        let s: Vec<f32> = (0..6).map(|i| i as f32 / 5.0).collect();
        let img = grid_rgb_columns(&s, (6, 2), 1, 1, 1, (0.0, 1.0)).unwrap();
        assert_eq!((img.width(), img.height()), (2 + 3 * 2, 3 + 4 * 2));
        for i in 0..6u32 {
            let (x, y) = (2 + (i % 2) * 3, 2 + (i / 2) * 3);
            let expected = (i as f32 / 5.0 * 255.0).round() as u8;
            assert_eq!(img.get_pixel(x, y).0, [expected; 3], "tile {i}");
        }
        assert!(grid_rgb_columns(&s, (6, 0), 1, 1, 1, (0.0, 1.0)).is_err());
    }

    #[test]
    fn rgb_samples_are_channels_first() {
        // One 1×2 image: R plane [1, 0], G plane [0, 1], B plane [0.5, 0].
        let s = [1.0f32, 0.0, 0.0, 1.0, 0.5, 0.0];
        let img = grid_rgb(&s, 1, 1, 2, 3, (0.0, 1.0)).unwrap();
        assert_eq!(img.get_pixel(2, 2).0, [255, 0, 128]);
        assert_eq!(img.get_pixel(3, 2).0, [0, 255, 0]);
    }
}
