//! Samples from G on a fixed noise batch, drawn the same way at every interval so the grids of
//! one run can be compared: an image grid for image data, a scatter over real points for toys.

use std::path::Path;

use super::collapse::mean_pairwise_distance;
use super::graph::TrainGraph;
use super::prior::Prior;
use super::real_data::SampleShape;
use crate::data::toy::{ModeStats, mode_stats};
use crate::data::toy1d::{FIGURE1_GRID, Figure1Curves, figure1_curves, figure1_grid};
use crate::error::Result;
use crate::gpu::{Dispatch, GpuContext, Recorder, Tensor};
use crate::kernels::data::PixelRange;
use crate::report::curves::{Panel, Series, write_panels};
use crate::report::grid::write_image_grid;
use crate::report::scatter::write_scatter;

/// Images in a grid; points in a scatter: the 2,500 that VEEGAN and PacGAN score mode coverage
/// on, so the scatter shows exactly the samples behind metrics.csv's modes and high_quality.
const GRID_SAMPLES: usize = 64;
const SCATTER_SAMPLES: usize = 2500;
/// A conditional run's class grid: this many samples a class, one row per class.
pub const CLASS_GRID_COLUMNS: usize = 10;

/// G's input for a grid: `count` noise rows and labels, and the grid's columns (None:
/// near-square). A conditional run's class grid has one row per class and `columns` samples a
/// row; column j has the same noise in every row, so a row shows each style in its class.
pub fn grid_input(prior: &Prior, count: usize, seed: u64) -> (Vec<f32>, usize, Option<usize>) {
    match prior.classes {
        None => (prior.host_noise(count, seed), count, None),
        Some(classes) => {
            let columns = CLASS_GRID_COLUMNS;
            let noise = prior.host_noise(columns, seed);
            let count = classes * columns;
            let rows: Vec<f32> = (0..count)
                .flat_map(|i| {
                    let j = i % columns;
                    noise[j * prior.noise_dim..(j + 1) * prior.noise_dim].to_vec()
                })
                .collect();
            let labels: Vec<u32> = (0..count).map(|i| (i / columns) as u32).collect();
            (prior.host_input(&rows, &labels), count, Some(columns))
        }
    }
}

pub struct SampleWriter {
    shape: SampleShape,
    range: PixelRange,
    forward: Vec<Dispatch>,
    output: Tensor,
    count: usize,
    columns: Option<usize>,
    seed: u64,
    /// 1-D toys with a probability D: D's forward pass on the Figure-1 x grid and its logits.
    discriminator_on_grid: Option<(Vec<Dispatch>, Tensor)>,
    data_spread: Option<f64>,
}

/// What a sample step measures besides the picture.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SampleStats {
    /// 2-D toys: mode coverage.
    pub modes: Option<ModeStats>,
    /// 1-D toys: mean |D − D*| over the data's support.
    pub d_star_gap: Option<f64>,
    /// The samples' mean pairwise distance over the data's (images and 2-D toys): near 1 for
    /// a generator as varied as the data, near 0 for a collapsed one.
    pub diversity: Option<f64>,
}

impl SampleWriter {
    /// `data_spread`: the data's mean pairwise distance (`collapse::data_spread`), which
    /// the samples' diversity is measured against (None: not measured).
    pub fn new(
        ctx: &GpuContext,
        graph: &TrainGraph,
        seed: u64,
        data_spread: Option<f64>,
    ) -> Result<SampleWriter> {
        let shape = graph.real.shape.clone();
        let prior = Prior::of(&graph.config);
        let (input, count, columns) = match shape {
            SampleShape::Image { .. } => grid_input(&prior, GRID_SAMPLES, seed),
            SampleShape::Point2d(_) | SampleShape::Point1d(_) => {
                grid_input(&prior, SCATTER_SAMPLES, seed)
            }
        };
        let input = ctx.upload("fixed noise", &[count, prior.input_dim()], &input)?;
        let pass = graph
            .sampling_network()
            .pass(ctx, "samples", &input, count)?;
        // Figure 1's D(x) needs a probability: the BCE losses' sigmoid of D's logit (a
        // Wasserstein critic's value is no probability, and has no D*).
        let discriminator_on_grid = match shape {
            // A packed D (PacGAN) judges sets of examples, whose optimum is not Figure 1's D*.
            SampleShape::Point1d(density)
                if !graph.config.loss.is_wasserstein() && graph.config.pack == 1 =>
            {
                let grid: Vec<f32> = figure1_grid(density).iter().map(|&x| x as f32).collect();
                let grid = ctx.upload("figure 1 x grid", &[grid.len(), 1], &grid)?;
                let d = graph
                    .discriminator
                    .pass(ctx, "figure 1 D", &grid, FIGURE1_GRID)?;
                Some((d.forward.clone(), d.output().clone()))
            }
            _ => None,
        };
        Ok(SampleWriter {
            shape,
            range: graph.config.pixel_range,
            output: pass.output().clone(),
            forward: pass.forward,
            count,
            columns,
            seed,
            discriminator_on_grid,
            data_spread,
        })
    }

    /// Run G on the fixed noise and write samples/step_NNNNNNNNN.png; for a 2-D toy set, also
    /// score the samples' mode coverage; for a 1-D toy set, draw the paper's Figure 1 (p_data,
    /// G's density, D and D*) and measure |D − D*|.
    pub fn write(&self, ctx: &GpuContext, folder: &Path, step: u64) -> Result<SampleStats> {
        let mut recorder = Recorder::new(ctx);
        recorder.record_all(&self.forward);
        if let Some((forward, _)) = &self.discriminator_on_grid {
            recorder.record_all(forward);
        }
        recorder.submit()?;
        let values = ctx.read_f32(&self.output)?;
        let path = sample_path(folder, step);
        if let (SampleShape::Point1d(density), Some((_, logits))) =
            (&self.shape, &self.discriminator_on_grid)
        {
            let d: Vec<f64> = ctx
                .read_f32(logits)?
                .iter()
                .map(|&l| 1.0 / (1.0 + (-(l as f64)).exp()))
                .collect();
            let curves = figure1_curves(*density, &values, &d);
            write_figure1(&path, &curves)?;
            return Ok(SampleStats {
                d_star_gap: Some(curves.d_star_gap),
                ..Default::default()
            });
        }
        write_samples_png(
            &path,
            &values,
            (self.count, self.columns),
            &self.shape,
            self.range,
            self.seed,
        )?;
        let diversity = self
            .data_spread
            .map(|spread| mean_pairwise_distance(&values, self.shape.dim()) / spread.max(1e-12));
        let modes = match self.shape {
            SampleShape::Point2d(set) => {
                let points: Vec<[f32; 2]> = values.chunks_exact(2).map(|p| [p[0], p[1]]).collect();
                Some(mode_stats(&points, set))
            }
            SampleShape::Image { .. } | SampleShape::Point1d(_) => None,
        };
        Ok(SampleStats {
            modes,
            diversity,
            ..Default::default()
        })
    }
}

/// The paper's Figure 1 as curves over x: the data density, G's density (a kernel density
/// estimate of its samples), and when known D(x) and D*(x) = p_data / (p_data + p_g).
pub fn write_figure1(path: &Path, curves: &Figure1Curves) -> Result<()> {
    let points = |ys: &[f64]| -> Vec<(f64, f64)> {
        curves.xs.iter().copied().zip(ys.iter().copied()).collect()
    };
    let (p_data, p_g) = (points(&curves.p_data), points(&curves.p_g));
    let (d, d_star) = (points(&curves.d), points(&curves.d_star));
    let mut series: Vec<Series<'_>> = vec![("p_data(x)", &p_data), ("p_g(x), KDE of G(z)", &p_g)];
    if !curves.d.is_empty() {
        series.push(("D(x)", &d));
        series.push(("D*(x) = p_data / (p_data + p_g)", &d_star));
    }
    let title = if curves.d.is_empty() {
        "data and generator densities".to_string()
    } else {
        format!(
            "densities, D and D* (mean |D - D*| under p_data: {:.3})",
            curves.d_star_gap
        )
    };
    write_panels(
        path,
        &[Panel {
            title: &title,
            x_label: "x",
            y_label: "density, D(x)",
            series,
        }],
    )
}

/// samples/step_NNNNNNNNN.png of `step` in `folder`.
pub fn sample_path(folder: &Path, step: u64) -> std::path::PathBuf {
    folder.join(format!(
        "step_{step:0width$}.png",
        width = super::checkpoint::STEP_DIGITS
    ))
}

/// Generated samples as a PNG: an image grid with pixel values in `range` (the generator's
/// output range) and `columns` tiles a row (None: near-square), or for 2-D toys a scatter over
/// real points drawn with `seed`.
pub fn write_samples_png(
    path: &Path,
    values: &[f32],
    (count, columns): (usize, Option<usize>),
    shape: &SampleShape,
    range: PixelRange,
    seed: u64,
) -> Result<()> {
    match shape {
        SampleShape::Image {
            height,
            width,
            channels,
        } => write_image_grid(
            path,
            values,
            (count, columns),
            *height,
            *width,
            *channels,
            range.bounds(),
        ),
        SampleShape::Point2d(set) => {
            let fake: Vec<[f32; 2]> = values.chunks_exact(2).map(|p| [p[0], p[1]]).collect();
            write_scatter(path, &fake, &set.sample(SCATTER_SAMPLES, seed), 512)
        }
        // Without D (`gan-gpu sample`): the data's and the generator's densities.
        SampleShape::Point1d(density) => {
            let mut curves = figure1_curves(*density, values, &[]);
            curves.d.clear();
            write_figure1(path, &curves)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 2×2 gray image of zeros: black in [0, 1], mid gray in [−1, 1].
    #[test]
    fn grids_follow_the_pixel_range() {
        let dir = std::env::temp_dir().join(format!("gan-gpu-samples-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let shape = SampleShape::Image {
            height: 2,
            width: 2,
            channels: 1,
        };
        let pad = crate::report::grid::GRID_PADDING;
        let first_pixel = |range: PixelRange| {
            let path = dir.join(format!("{range:?}.png"));
            write_samples_png(&path, &[0.0; 4], (1, None), &shape, range, 0).unwrap();
            image::open(&path).unwrap().to_rgb8().get_pixel(pad, pad).0[0]
        };
        assert_eq!(first_pixel(PixelRange::ZeroToOne), 0);
        assert!((127..=128).contains(&first_pixel(PixelRange::MinusOneToOne)));
        std::fs::remove_dir_all(&dir).ok();
    }
}
