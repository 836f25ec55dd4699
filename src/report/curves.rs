//! Metric charts drawn with plotters: panels stacked top to bottom, each with a title,
//! labelled axes with ticks (step on x), a light mesh and a legend, one panel per scale
//! (losses; D(x) and D(G(z)); penalty and gradient norm; each evaluation score).
//!
//! `metrics.csv` holds the numbers; these are for a look during and after training, so they
//! are rewritten (atomically) at every sample step.

use std::path::Path;

use image::RgbImage;
use plotters::prelude::*;

use super::chart_font;
use super::draw::save_png;
use crate::error::{Error, Result};

pub const CURVES_WIDTH: u32 = 900;
/// Height of one panel.
pub const PANEL_HEIGHT: u32 = 260;

/// Series colours (matplotlib's tab10), cycled when a panel has more series.
pub const SERIES_COLORS: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

/// A named series of `(step, value)` points.
pub type Series<'a> = (&'a str, &'a [(f64, f64)]);

/// One chart: a title, what its y axis measures, and its series.
pub struct Panel<'a> {
    pub title: &'a str,
    /// What the x axis measures ("step" for training curves).
    pub x_label: &'a str,
    pub y_label: &'a str,
    pub series: Vec<Series<'a>>,
}

/// The panels of loss_curves.png, each holding the metrics on one scale.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LossPanel {
    /// D and G losses (and the Wasserstein estimate, which is on the critic loss's scale).
    Losses,
    /// Mean D(x) and D(G(z)).
    DiscriminatorOutputs,
    /// wgan-gp: the penalty term and the gradient norm it penalises.
    Penalty,
}

impl LossPanel {
    pub const ALL: [LossPanel; 3] = [
        LossPanel::Losses,
        LossPanel::DiscriminatorOutputs,
        LossPanel::Penalty,
    ];

    pub fn title(self) -> &'static str {
        match self {
            LossPanel::Losses => "Losses",
            LossPanel::DiscriminatorOutputs => "Discriminator outputs (mean)",
            LossPanel::Penalty => "Gradient penalty",
        }
    }

    pub fn y_label(self) -> &'static str {
        match self {
            LossPanel::Losses => "loss",
            LossPanel::DiscriminatorOutputs => "D output",
            LossPanel::Penalty => "value",
        }
    }
}

/// (min, max) over finite values, or None.
fn finite_range(values: impl Iterator<Item = f64>) -> Option<(f64, f64)> {
    values
        .filter(|v| v.is_finite())
        .fold(None, |acc, v| match acc {
            None => Some((v, v)),
            Some((lo, hi)) => Some((lo.min(v), hi.max(v))),
        })
}

/// A drawable range: a degenerate one widened, a margin of 5 % on the value axis.
fn padded(range: Option<(f64, f64)>, margin: f64) -> (f64, f64) {
    let (lo, hi) = range.unwrap_or((0.0, 1.0));
    if hi > lo {
        let pad = (hi - lo) * margin;
        (lo - pad, hi + pad)
    } else {
        let d = if lo == 0.0 { 0.5 } else { lo.abs() * 0.1 };
        (lo - d, hi + d)
    }
}

/// Compact tick label: ~4 significant digits, scientific notation for extreme magnitudes.
pub fn format_number(v: f64) -> String {
    if !v.is_finite() {
        return format!("{v}");
    }
    let a = v.abs();
    if a < 1e-12 {
        return "0".into();
    }
    if v.fract() == 0.0 && a < 1e9 {
        return format!("{}", v as i64);
    }
    if !(1e-3..1e5).contains(&a) {
        return format!("{v:.1e}");
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

fn plot_error(e: impl std::fmt::Display) -> Error {
    Error::Input(format!("drawing a chart: {e}"))
}

/// Draw `panel` into `area`. Points with a non-finite step or value are skipped (the line
/// joins the finite neighbours, as evaluation columns are NaN between evaluations).
fn draw_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    panel: &Panel<'_>,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let finite = |p: &&(f64, f64)| p.0.is_finite() && p.1.is_finite();
    let all = || {
        panel
            .series
            .iter()
            .flat_map(|(_, pts)| pts.iter().filter(finite))
    };
    let has_data = all().next().is_some();
    let x = padded(finite_range(all().map(|p| p.0)), 0.0);
    let y = padded(finite_range(all().map(|p| p.1)), 0.05);
    let title = if has_data {
        panel.title.to_string()
    } else {
        format!("{} (no data yet)", panel.title)
    };
    let mut chart = ChartBuilder::on(area)
        .caption(title, ("sans-serif", 17))
        .margin(8)
        .margin_right(16)
        .x_label_area_size(38)
        .y_label_area_size(72)
        .build_cartesian_2d(x.0..x.1, y.0..y.1)
        .map_err(plot_error)?;
    let label = |v: &f64| format_number(*v);
    chart
        .configure_mesh()
        .light_line_style(RGBColor(235, 235, 235))
        .bold_line_style(RGBColor(215, 215, 215))
        .x_desc(panel.x_label)
        .y_desc(panel.y_label)
        .x_labels(8)
        .y_labels(6)
        .x_label_formatter(&label)
        .y_label_formatter(&label)
        .label_style(("sans-serif", 13))
        .axis_desc_style(("sans-serif", 14))
        .draw()
        .map_err(plot_error)?;
    for (i, (name, points)) in panel.series.iter().enumerate() {
        let color = SERIES_COLORS[i % SERIES_COLORS.len()];
        let points: Vec<(f64, f64)> = points.iter().filter(finite).copied().collect();
        // Sparse series (evaluation scores) also get a marker per point, so a single point shows.
        let markers = points.len() <= 40;
        chart
            .draw_series(LineSeries::new(
                points.iter().copied(),
                color.stroke_width(2),
            ))
            .map_err(plot_error)?
            .label(*name)
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 22, y)], color.stroke_width(3))
            });
        if markers {
            chart
                .draw_series(points.iter().map(|&p| Circle::new(p, 3, color.filled())))
                .map_err(plot_error)?;
        }
    }
    if !panel.series.is_empty() {
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .background_style(WHITE.mix(0.85))
            .border_style(RGBColor(160, 160, 160))
            .label_font(("sans-serif", 13))
            .draw()
            .map_err(plot_error)?;
    }
    Ok(())
}

/// Render `panels` stacked top to bottom, each `width × panel_height`.
pub fn panels_rgb(panels: &[Panel<'_>], width: u32, panel_height: u32) -> Result<RgbImage> {
    if !(300..=8192).contains(&width) || !(150..=4096).contains(&panel_height) {
        return Err(Error::Input(format!(
            "a chart panel must be 300..=8192 × 150..=4096 pixels, got {width}×{panel_height}"
        )));
    }
    chart_font::register();
    let count = panels.len().max(1);
    let height = panel_height * count as u32;
    let mut image = RgbImage::new(width, height);
    {
        let root = BitMapBackend::with_buffer(image.as_mut(), (width, height)).into_drawing_area();
        root.fill(&WHITE).map_err(plot_error)?;
        let areas = root.split_evenly((count, 1));
        for (panel, area) in panels.iter().zip(&areas) {
            draw_panel(area, panel)?;
        }
        root.present().map_err(plot_error)?;
    }
    Ok(image)
}

/// Write the panels as a PNG (atomically), 900 pixels wide and 260 per panel.
pub fn write_panels(path: impl AsRef<Path>, panels: &[Panel<'_>]) -> Result<()> {
    save_png(path, &panels_rgb(panels, CURVES_WIDTH, PANEL_HEIGHT)?)
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
        assert_eq!(format_number(12.34567), "12.35");
        assert_eq!(format_number(2.5e-5), "2.5e-5");
        assert_eq!(format_number(1e-17), "0");
    }

    /// Pixels of `color` in rows `rows` of `img`.
    fn in_rows(img: &RgbImage, rows: std::ops::Range<u32>, color: RGBColor) -> usize {
        rows.flat_map(|y| (0..img.width()).map(move |x| (x, y)))
            .filter(|&(x, y)| img.get_pixel(x, y).0 == [color.0, color.1, color.2])
            .count()
    }

    #[test]
    fn panels_have_lines_legends_and_labels() {
        let dir = temp_dir("curves");
        let d: Vec<(f64, f64)> = (0..200)
            .map(|i| (i as f64, (i as f64 / 20.0).sin()))
            .collect();
        let mut g: Vec<(f64, f64)> = (0..200)
            .map(|i| (i as f64, 2.0 - i as f64 / 100.0))
            .collect();
        g[50].1 = f64::NAN;
        g[60].1 = f64::INFINITY;
        // An evaluation column: a value every 50 steps, NaN between.
        let sparse: Vec<(f64, f64)> = (0..200)
            .map(|i| (i as f64, if i % 50 == 0 { -(i as f64) } else { f64::NAN }))
            .collect();
        let panels = [
            Panel {
                x_label: "step",
                title: "Losses",
                y_label: "loss",
                series: vec![("D loss", &d), ("G loss", &g)],
            },
            Panel {
                x_label: "step",
                title: "FID",
                y_label: "FID",
                series: vec![("FID", &sparse)],
            },
            Panel {
                x_label: "step",
                title: "Empty",
                y_label: "none",
                series: vec![],
            },
        ];
        let p = dir.join("loss.png");
        write_panels(&p, &panels).unwrap();
        let img = decode_png(&p, CURVES_WIDTH, 3 * PANEL_HEIGHT);
        let blue = SERIES_COLORS[0];
        let orange = SERIES_COLORS[1];
        assert!(in_rows(&img, 0..PANEL_HEIGHT, blue) > 500, "D loss line");
        assert!(in_rows(&img, 0..PANEL_HEIGHT, orange) > 500, "G loss line");
        assert!(
            in_rows(&img, PANEL_HEIGHT..2 * PANEL_HEIGHT, blue) > 60,
            "FID points"
        );
        assert_eq!(in_rows(&img, PANEL_HEIGHT..2 * PANEL_HEIGHT, orange), 0);
        assert_eq!(in_rows(&img, 2 * PANEL_HEIGHT..3 * PANEL_HEIGHT, blue), 0);
        // Text (titles, ticks, axis names, legends) is drawn in black, anti-aliased.
        let dark = img.pixels().filter(|p| p.0.iter().all(|&c| c < 60)).count();
        assert!(dark > 2000, "text and axis pixels {dark}");
        assert!(count_color(&img, [255, 255, 255]) > img.len() / 6);
        assert!(panels_rgb(&[], 10, 10).is_err());
        std::fs::remove_dir_all(dir).ok();
    }
}
