//! 2-D scatter plots of generated vs real points (the toy-set figures).
//!
//! The axis range is fixed by the *real* points (their extent plus a 10 %
//! margin, same scale on both axes so rings stay round), not by the fakes:
//! successive plots of one run then share axes and can be flipped through,
//! and a generator that explodes does not shrink the real data to a dot.
//! Fake points outside the range are clipped.

use std::path::Path;

use image::{Rgb, RgbImage};

use super::draw::{disc, rect_outline, save_png};
use crate::error::{Error, Result};

pub const SCATTER_BACKGROUND: Rgb<u8> = Rgb([255, 255, 255]);
/// Real data: light blue.
pub const REAL_COLOR: Rgb<u8> = Rgb([140, 190, 240]);
/// Generated data: orange-red, drawn over the real points.
pub const FAKE_COLOR: Rgb<u8> = Rgb([230, 85, 13]);
pub const FRAME_COLOR: Rgb<u8> = Rgb([60, 60, 60]);

/// The square data range `(x_min, x_max, y_min, y_max)` used for a plot:
/// the extent of the finite `real` points (or of `fake` when there are no
/// real points, or [-1, 1]² when neither has any), centred, with a 10 % margin.
pub fn plot_range(fake: &[[f32; 2]], real: &[[f32; 2]]) -> (f64, f64, f64, f64) {
    let extent = |pts: &[[f32; 2]]| {
        let mut e = [
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::INFINITY,
            f64::NEG_INFINITY,
        ];
        for p in pts.iter().filter(|p| p[0].is_finite() && p[1].is_finite()) {
            e[0] = e[0].min(p[0] as f64);
            e[1] = e[1].max(p[0] as f64);
            e[2] = e[2].min(p[1] as f64);
            e[3] = e[3].max(p[1] as f64);
        }
        (e[0] <= e[1]).then_some(e)
    };
    let e = extent(real)
        .or_else(|| extent(fake))
        .unwrap_or([-1.0, 1.0, -1.0, 1.0]);
    let (cx, cy) = ((e[0] + e[1]) / 2.0, (e[2] + e[3]) / 2.0);
    let mut half = (e[1] - e[0]).max(e[3] - e[2]) / 2.0;
    if half <= 1e-12 || !half.is_finite() {
        half = 1.0; // a single point (or overflow): a unit window around it
    }
    half *= 1.1;
    (cx - half, cx + half, cy - half, cy + half)
}

/// Render the scatter plot as a `size_px × size_px` image.
pub fn scatter_rgb(fake: &[[f32; 2]], real: &[[f32; 2]], size_px: u32) -> Result<RgbImage> {
    if !(32..=16_384).contains(&size_px) {
        return Err(Error::Input(format!(
            "scatter plot size must be in 32..=16384 pixels, got {size_px}"
        )));
    }
    let (x0, x1, y0, y1) = plot_range(fake, real);
    let mut img = RgbImage::from_pixel(size_px, size_px, SCATTER_BACKGROUND);
    let s = size_px as f64;
    let inset = (s * 0.03).round().max(2.0);
    let (left, right) = (inset, s - 1.0 - inset);
    let (top, bottom) = (inset, s - 1.0 - inset);
    let radius = (s / 250.0).max(1.0);
    // Data -> pixel; y grows upwards in the data, downwards in the image.
    let to_px = |p: &[f32; 2]| {
        let u = (p[0] as f64 - x0) / (x1 - x0);
        let v = (p[1] as f64 - y0) / (y1 - y0);
        (left + u * (right - left), bottom - v * (bottom - top))
    };
    let inside = |p: &[f32; 2]| {
        let (x, y) = (p[0] as f64, p[1] as f64);
        x.is_finite() && y.is_finite() && x >= x0 && x <= x1 && y >= y0 && y <= y1
    };
    for (pts, color) in [(real, REAL_COLOR), (fake, FAKE_COLOR)] {
        for p in pts.iter().filter(|p| inside(p)) {
            let (px, py) = to_px(p);
            disc(&mut img, px, py, radius, color);
        }
    }
    // Frame drawn last so points never cover it.
    rect_outline(
        &mut img,
        left as i64 - 1,
        top as i64 - 1,
        right as i64 + 1,
        bottom as i64 + 1,
        FRAME_COLOR,
    );
    Ok(img)
}

/// Write the scatter plot of [`scatter_rgb`] as a PNG (atomically).
pub fn write_scatter(
    path: impl AsRef<Path>,
    fake: &[[f32; 2]],
    real: &[[f32; 2]],
    size_px: u32,
) -> Result<()> {
    save_png(path, &scatter_rgb(fake, real, size_px)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::ToySet;
    use crate::error::test_util::temp_dir;
    use crate::report::draw::test_util::{count_color, decode_png};

    #[test]
    fn range_follows_real_points_with_margin() {
        let real = [[0.0, 0.0], [2.0, 1.0]];
        let (x0, x1, y0, y1) = plot_range(&[[100.0, 100.0]], &real);
        assert!((x0 - -0.1).abs() < 1e-9 && (x1 - 2.1).abs() < 1e-9);
        assert!((y0 - -0.6).abs() < 1e-9 && (y1 - 1.6).abs() < 1e-9);
        assert_eq!(plot_range(&[], &[]), (-1.1, 1.1, -1.1, 1.1));
        let (a, b, ..) = plot_range(&[], &[[3.0, 3.0], [f32::NAN, 0.0]]);
        assert!((a - 1.9).abs() < 1e-9 && (b - 4.1).abs() < 1e-9);
    }

    #[test]
    fn scatter_png_draws_real_fake_and_frame() {
        let dir = temp_dir("scatter");
        let real = ToySet::Ring8.sample(500, 3);
        // Fakes: one cluster at the origin plus one far outside (clipped).
        let mut fake = vec![[0.0f32, 0.0]; 50];
        fake.push([50.0, 50.0]);
        let p = dir.join("scatter.png");
        write_scatter(&p, &fake, &real, 300).unwrap();
        let img = decode_png(&p, 300, 300);
        assert!(count_color(&img, REAL_COLOR.0) > 100);
        let fake_px = count_color(&img, FAKE_COLOR.0);
        assert!(fake_px > 0);
        // The origin is the centre of the ring's range, i.e. mid-image, so
        // all fake pixels are near the centre: the far point was clipped.
        for (x, y, px) in img.enumerate_pixels() {
            if *px == FAKE_COLOR {
                assert!(
                    (x as i32 - 150).abs() < 6 && (y as i32 - 150).abs() < 6,
                    "({x},{y})"
                );
            }
        }
        // Frame on all four sides, background in the corner.
        assert_eq!(img.get_pixel(150, 8), &FRAME_COLOR);
        assert_eq!(img.get_pixel(8, 150), &FRAME_COLOR);
        assert_eq!(img.get_pixel(0, 0), &SCATTER_BACKGROUND);
        assert!(write_scatter(dir.join("tiny.png"), &fake, &real, 4).is_err());
        std::fs::remove_dir_all(dir).ok();
    }
}
