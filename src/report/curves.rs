//! Loss-curve plots: one PNG with a line per series, a frame, a light grid,
//! a legend, and min/max labels on both axes drawn with the embedded font.
//!
//! Meant for a quick look during and after training (`metrics.csv` holds the
//! numbers); kept dependency-free so every run can write one.

use std::path::Path;

use image::{Rgb, RgbImage};

use super::draw::{fill_rect, line, rect_outline, save_png};
use super::font::{draw_text, text_height, text_width};
use crate::error::{Error, Result};

pub const CURVES_WIDTH: u32 = 800;
pub const CURVES_HEIGHT: u32 = 400;
/// Text scale: 5×7 glyphs drawn at 2× (10×14 px).
const TEXT_SCALE: u32 = 2;

pub const CURVES_BACKGROUND: Rgb<u8> = Rgb([255, 255, 255]);
pub const CURVES_FRAME: Rgb<u8> = Rgb([40, 40, 40]);
pub const CURVES_GRID: Rgb<u8> = Rgb([228, 228, 228]);
pub const CURVES_TEXT: Rgb<u8> = Rgb([0, 0, 0]);

/// Series colours (matplotlib's tab10), cycled when there are more series.
pub const SERIES_COLORS: [Rgb<u8>; 10] = [
    Rgb([31, 119, 180]),
    Rgb([255, 127, 14]),
    Rgb([44, 160, 44]),
    Rgb([214, 39, 40]),
    Rgb([148, 103, 189]),
    Rgb([140, 86, 75]),
    Rgb([227, 119, 194]),
    Rgb([127, 127, 127]),
    Rgb([188, 189, 34]),
    Rgb([23, 190, 207]),
];

/// A named series of `(step, value)` points.
pub type Series<'a> = (&'a str, &'a [(f64, f64)]);

/// Compact label for a number: integers as such, otherwise ~4 significant
/// digits, scientific notation for very large or small magnitudes.
pub fn format_number(v: f64) -> String {
    if !v.is_finite() {
        return format!("{v}");
    }
    if v == 0.0 {
        return "0".into();
    }
    let a = v.abs();
    if v.fract() == 0.0 && a < 1e9 {
        return format!("{}", v as i64);
    }
    if !(1e-3..1e5).contains(&a) {
        return format!("{v:.2e}");
    }
    let decimals = (3 - a.log10().floor() as i32).clamp(0, 6) as usize;
    let s = format!("{v:.decimals$}");
    let s = if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    };
    if s == "-0" { "0".into() } else { s }
}

/// (min, max) over finite values, or None.
fn finite_range(vals: impl Iterator<Item = f64>) -> Option<(f64, f64)> {
    vals.filter(|v| v.is_finite())
        .fold(None, |acc, v| match acc {
            None => Some((v, v)),
            Some((lo, hi)) => Some((lo.min(v), hi.max(v))),
        })
}

/// Widen a degenerate (lo == hi) range so it can be mapped to pixels.
fn widen(lo: f64, hi: f64) -> (f64, f64) {
    if hi > lo {
        (lo, hi)
    } else {
        let d = if lo == 0.0 { 0.5 } else { lo.abs() * 0.1 };
        (lo - d, hi + d)
    }
}

/// Render the plot at `width × height`. Points with a non-finite step or
/// value are skipped (the line joins the neighbouring finite points).
pub fn loss_curves_rgb(series: &[Series<'_>], width: u32, height: u32) -> Result<RgbImage> {
    if !(200..=16_384).contains(&width) || !(120..=16_384).contains(&height) {
        return Err(Error::Input(format!(
            "loss curve plot must be at least 200×120 (and at most 16384²) pixels, got {width}×{height}"
        )));
    }
    let finite = |p: &&(f64, f64)| p.0.is_finite() && p.1.is_finite();
    let all = || series.iter().flat_map(|(_, pts)| pts.iter().filter(finite));
    let data_y = finite_range(all().map(|p| p.1));
    let (x_lo, x_hi) = widen_opt(finite_range(all().map(|p| p.0)));
    let (y_lo, y_hi) = widen_opt(data_y);

    // Axis labels: the data's min/max value and step (or nothing without data).
    let (y_min_label, y_max_label) = match data_y {
        Some((lo, hi)) => (format_number(lo), format_number(hi)),
        None => ("no data".to_string(), String::new()),
    };
    let th = text_height(TEXT_SCALE) as i64;
    let label_w = text_width(&y_min_label, TEXT_SCALE).max(text_width(&y_max_label, TEXT_SCALE));
    let left = (label_w as i64 + 14).max(40);
    let (top, right) = (10i64, width as i64 - 16);
    let bottom = height as i64 - th - 14;

    let mut img = RgbImage::from_pixel(width, height, CURVES_BACKGROUND);
    // Light grid: 4 interior divisions each way.
    for k in 1..5 {
        let gx = left + (right - left) * k / 5;
        let gy = top + (bottom - top) * k / 5;
        fill_rect(&mut img, gx, top, gx, bottom, CURVES_GRID);
        fill_rect(&mut img, left, gy, right, gy, CURVES_GRID);
    }

    let to_px = |p: &(f64, f64)| {
        let u = (p.0 - x_lo) / (x_hi - x_lo);
        let v = (p.1 - y_lo) / (y_hi - y_lo);
        (
            left as f64 + u * (right - left) as f64,
            bottom as f64 - v * (bottom - top) as f64,
        )
    };
    for (i, (_, pts)) in series.iter().enumerate() {
        let color = SERIES_COLORS[i % SERIES_COLORS.len()];
        let mut prev: Option<(f64, f64)> = None;
        for p in pts.iter().filter(finite) {
            let q = to_px(p);
            let a = prev.unwrap_or(q);
            // Two pixels thick: the line and the one just below it, clipped
            // to the plot area so it never overwrites the frame.
            line(&mut img, a, q, color);
            if q.1 + 1.0 <= bottom as f64 - 1.0 && a.1 + 1.0 <= bottom as f64 - 1.0 {
                line(&mut img, (a.0, a.1 + 1.0), (q.0, q.1 + 1.0), color);
            }
            prev = Some(q);
        }
    }
    rect_outline(&mut img, left, top, right, bottom, CURVES_FRAME);

    // Axis labels: y max at the top, y min at the bottom (right-aligned to
    // the frame); the first and last step under the x axis.
    let s = TEXT_SCALE;
    let ymax_w = text_width(&y_max_label, s) as i64;
    let ymin_w = text_width(&y_min_label, s) as i64;
    draw_text(
        &mut img,
        left - 6 - ymax_w,
        top,
        &y_max_label,
        s,
        CURVES_TEXT,
    );
    draw_text(
        &mut img,
        left - 6 - ymin_w,
        bottom - th + 1,
        &y_min_label,
        s,
        CURVES_TEXT,
    );
    if data_y.is_some() {
        let (xl, xr) = (format_number(x_lo), format_number(x_hi));
        draw_text(&mut img, left, bottom + 6, &xl, s, CURVES_TEXT);
        let xr_w = text_width(&xr, s) as i64;
        draw_text(&mut img, right - xr_w, bottom + 6, &xr, s, CURVES_TEXT);
    }

    // Legend, top right inside the frame: a colour swatch and the name per series.
    if !series.is_empty() {
        let swatch = 18i64;
        let row_h = th + 6;
        let names_w = series
            .iter()
            .map(|(n, _)| text_width(n, s) as i64)
            .max()
            .unwrap_or(0);
        let box_w = 8 + swatch + 6 + names_w + 8;
        let box_h = 6 + row_h * series.len() as i64;
        let (bx1, by0) = (right - 8, top + 8);
        let bx0 = bx1 - box_w;
        fill_rect(&mut img, bx0, by0, bx1, by0 + box_h, CURVES_BACKGROUND);
        rect_outline(&mut img, bx0, by0, bx1, by0 + box_h, CURVES_GRID);
        for (i, (name, _)) in series.iter().enumerate() {
            let color = SERIES_COLORS[i % SERIES_COLORS.len()];
            let y = by0 + 6 + row_h * i as i64;
            let mid = y + th / 2;
            fill_rect(&mut img, bx0 + 8, mid - 1, bx0 + 8 + swatch, mid + 1, color);
            draw_text(&mut img, bx0 + 8 + swatch + 6, y, name, s, CURVES_TEXT);
        }
    }
    Ok(img)
}

fn widen_opt(r: Option<(f64, f64)>) -> (f64, f64) {
    match r {
        Some((lo, hi)) => widen(lo, hi),
        None => (0.0, 1.0),
    }
}

/// Write an 800×400 loss-curve PNG (atomically).
pub fn write_loss_curves(path: impl AsRef<Path>, series: &[Series<'_>]) -> Result<()> {
    save_png(path, &loss_curves_rgb(series, CURVES_WIDTH, CURVES_HEIGHT)?)
}

/// Height of one panel of [`write_stacked_curves`].
pub const PANEL_HEIGHT: u32 = 220;

/// One panel per series, stacked top to bottom (800 × 220 each), written atomically: for
/// metrics on unrelated scales, such as a Parzen log-likelihood and an FID.
pub fn write_stacked_curves(path: impl AsRef<Path>, panels: &[Series<'_>]) -> Result<()> {
    let height = PANEL_HEIGHT * panels.len().max(1) as u32;
    let mut img = RgbImage::from_pixel(CURVES_WIDTH, height, CURVES_BACKGROUND);
    for (i, panel) in panels.iter().enumerate() {
        let rgb = loss_curves_rgb(std::slice::from_ref(panel), CURVES_WIDTH, PANEL_HEIGHT)?;
        image::imageops::replace(&mut img, &rgb, 0, i as i64 * PANEL_HEIGHT as i64);
    }
    save_png(path, &img)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::test_util::temp_dir;
    use crate::report::draw::test_util::{count_color, decode_png};

    #[test]
    fn number_labels() {
        assert_eq!(format_number(0.0), "0");
        assert_eq!(format_number(1500.0), "1500");
        assert_eq!(format_number(-0.812345), "-0.8123");
        assert_eq!(format_number(1.5), "1.5");
        assert_eq!(format_number(12.34567), "12.35");
        assert_eq!(format_number(2.5e-5), "2.50e-5");
        assert_eq!(format_number(123456.7), "1.23e5");
    }

    #[test]
    fn curves_png_has_lines_legend_and_labels() {
        let dir = temp_dir("curves");
        let d: Vec<(f64, f64)> = (0..200)
            .map(|i| (i as f64, (i as f64 / 20.0).sin()))
            .collect();
        let mut g: Vec<(f64, f64)> = (0..200)
            .map(|i| (i as f64, 2.0 - i as f64 / 100.0))
            .collect();
        g[50].1 = f64::NAN;
        g[60].1 = f64::INFINITY;
        let p = dir.join("loss.png");
        write_loss_curves(&p, &[("d_loss", &d), ("g_loss", &g)]).unwrap();
        let img = decode_png(&p, CURVES_WIDTH, CURVES_HEIGHT);
        let c0 = count_color(&img, SERIES_COLORS[0].0);
        let c1 = count_color(&img, SERIES_COLORS[1].0);
        assert!(c0 > 500 && c1 > 500, "series pixels {c0} {c1}");
        let text = count_color(&img, CURVES_TEXT.0);
        assert!(text > 200, "text pixels {text}");
        assert!(count_color(&img, CURVES_FRAME.0) > 1500);
        assert!(count_color(&img, CURVES_GRID.0) > 1000);
        // The orange series rises to y = 2 at step 0: its first point sits on
        // the top edge of the plot, at the frame's left end.
        let top_row_has_orange =
            (0..CURVES_WIDTH).any(|x| img.get_pixel(x, 11) == &SERIES_COLORS[1]);
        assert!(top_row_has_orange);

        // No series at all, or only non-finite values: still a valid plot.
        write_loss_curves(&p, &[]).unwrap();
        let nan = [(0.0, f64::NAN)];
        write_loss_curves(&p, &[("x", &nan)]).unwrap();
        decode_png(&p, CURVES_WIDTH, CURVES_HEIGHT);
        assert!(loss_curves_rgb(&[], 10, 10).is_err());
        std::fs::remove_dir_all(dir).ok();
    }

    #[test]
    fn stacked_curves_draw_one_panel_per_series() {
        let dir = temp_dir("stacked");
        let rising: Vec<(f64, f64)> = (0..50).map(|i| (i as f64, i as f64)).collect();
        // Values only every 10th step, NaN between (as metrics.csv logs evaluations).
        let sparse: Vec<(f64, f64)> = (0..50)
            .map(|i| (i as f64, if i % 10 == 0 { -(i as f64) } else { f64::NAN }))
            .collect();
        let p = dir.join("eval.png");
        write_stacked_curves(&p, &[("FID", &rising), ("Parzen", &sparse)]).unwrap();
        let img = decode_png(&p, CURVES_WIDTH, 2 * PANEL_HEIGHT);
        let blue_rows = |rows: std::ops::Range<u32>| {
            rows.flat_map(|y| (0..CURVES_WIDTH).map(move |x| (x, y)))
                .filter(|&(x, y)| img.get_pixel(x, y) == &SERIES_COLORS[0])
                .count()
        };
        // Each panel has its own line (and legend swatch) in the first colour.
        assert!(blue_rows(0..PANEL_HEIGHT) > 300);
        assert!(blue_rows(PANEL_HEIGHT..2 * PANEL_HEIGHT) > 300);
        std::fs::remove_dir_all(dir).ok();
    }
}
