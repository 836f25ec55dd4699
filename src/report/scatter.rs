//! 2-D scatter plots of generated vs real points (the toy-set figures).
//!
//! The axis range is fixed by the *real* points (their extent plus a 10 %
//! margin, same scale on both axes so rings stay round), not by the fakes:
//! successive plots of one run then share axes and can be flipped through,
//! and a generator that explodes does not shrink the real data to a dot.
//! Fake points outside the range are clipped. Drawn with plotters: ticks on both axes and a
//! legend naming the real and the generated points.

use std::path::Path;

use image::{Rgb, RgbImage};

use plotters::prelude::*;

use super::chart_font;
use super::draw::save_png;
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

/// Render the scatter plot as a `size_px × size_px` image: real points under generated ones,
/// axes with ticks on the same scale both ways, and a legend (drawn with plotters).
pub fn scatter_rgb(fake: &[[f32; 2]], real: &[[f32; 2]], size_px: u32) -> Result<RgbImage> {
    if !(128..=16_384).contains(&size_px) {
        return Err(Error::Input(format!(
            "scatter plot size must be in 128..=16384 pixels, got {size_px}"
        )));
    }
    let (x0, x1, y0, y1) = plot_range(fake, real);
    let inside = |p: &&[f32; 2]| {
        let (x, y) = (p[0] as f64, p[1] as f64);
        x.is_finite() && y.is_finite() && x >= x0 && x <= x1 && y >= y0 && y <= y1
    };
    let fail = |e: &dyn std::fmt::Display| Error::Input(format!("drawing the scatter plot: {e}"));
    let radius = ((size_px as f64 / 250.0).max(1.0)).round() as i32;
    let rgb = |c: Rgb<u8>| RGBColor(c.0[0], c.0[1], c.0[2]);
    chart_font::register();
    let mut img = RgbImage::from_pixel(size_px, size_px, SCATTER_BACKGROUND);
    {
        let root = BitMapBackend::with_buffer(img.as_mut(), (size_px, size_px)).into_drawing_area();
        // Equal label areas on the left and bottom keep the plot square, so rings stay round.
        let labels = (size_px / 10).clamp(28, 60);
        let mut chart = ChartBuilder::on(&root)
            .margin(10)
            .x_label_area_size(labels)
            .y_label_area_size(labels)
            .build_cartesian_2d(x0..x1, y0..y1)
            .map_err(|e| fail(&e))?;
        chart
            .configure_mesh()
            .light_line_style(RGBColor(240, 240, 240))
            .bold_line_style(RGBColor(222, 222, 222))
            .axis_style(rgb(FRAME_COLOR))
            .x_labels(7)
            .y_labels(7)
            .label_style(("sans-serif", 12))
            .draw()
            .map_err(|e| fail(&e))?;
        for (points, color, name) in [(real, REAL_COLOR, "real"), (fake, FAKE_COLOR, "generated")] {
            let color = rgb(color);
            chart
                .draw_series(
                    points
                        .iter()
                        .filter(inside)
                        .map(|p| Circle::new((p[0] as f64, p[1] as f64), radius, color.filled())),
                )
                .map_err(|e| fail(&e))?
                .label(name)
                .legend(move |(x, y)| Circle::new((x + 6, y), 4, color.filled()));
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .background_style(WHITE.mix(0.85))
            .border_style(RGBColor(160, 160, 160))
            .label_font(("sans-serif", 12))
            .draw()
            .map_err(|e| fail(&e))?;
        root.present().map_err(|e| fail(&e))?;
    }
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
    fn scatter_png_draws_real_fake_axes_and_legend() {
        let dir = temp_dir("scatter");
        let real = ToySet::Ring8.sample(500, 3);
        // Fakes: one cluster at the origin plus one far outside (clipped).
        let mut fake = vec![[0.0f32, 0.0]; 50];
        fake.push([50.0, 50.0]);
        let p = dir.join("scatter.png");
        write_scatter(&p, &fake, &real, 400).unwrap();
        let img = decode_png(&p, 400, 400);
        assert!(count_color(&img, REAL_COLOR.0) > 300);
        // Generated pixels below the legend (top quarter) sit in one small cluster: the
        // far point was clipped.
        let fakes: Vec<(u32, u32)> = img
            .enumerate_pixels()
            .filter(|(_, y, px)| *y > 100 && **px == FAKE_COLOR)
            .map(|(x, y, _)| (x, y))
            .collect();
        assert!(fakes.len() > 10, "{}", fakes.len());
        let (xs, ys): (Vec<u32>, Vec<u32>) = fakes.iter().copied().unzip();
        let spread = |v: &[u32]| v.iter().max().unwrap() - v.iter().min().unwrap();
        assert!(spread(&xs) < 12 && spread(&ys) < 12, "{fakes:?}");
        // The legend names both sets in the top right: a generated swatch there.
        assert!(
            img.enumerate_pixels()
                .any(|(x, y, px)| y < 100 && x > 250 && *px == FAKE_COLOR)
        );
        // Tick labels: dark text pixels in the left label area.
        let dark = img
            .enumerate_pixels()
            .filter(|(x, _, px)| *x < 40 && px.0.iter().all(|&c| c < 90))
            .count();
        assert!(dark > 50, "{dark}");
        assert!(write_scatter(dir.join("tiny.png"), &fake, &real, 4).is_err());
        std::fs::remove_dir_all(dir).ok();
    }
}
