//! Samples from G on a fixed noise batch, drawn the same way at every interval so the grids of
//! one run can be compared: an image grid for image data, a scatter over real points for toys.

use std::path::Path;

use super::graph::TrainGraph;
use super::real_data::SampleShape;
use crate::data::SplitMix64;
use crate::data::toy::{ModeStats, mode_stats};
use crate::error::Result;
use crate::gpu::{Dispatch, GpuContext, Recorder, Tensor};
use crate::kernels::data::PixelRange;
use crate::report::grid::write_image_grid;
use crate::report::scatter::write_scatter;

/// Images in a grid; points in a scatter: the 2,500 that VEEGAN and PacGAN score mode coverage
/// on, so the scatter shows exactly the samples behind metrics.csv's modes and high_quality.
const GRID_SAMPLES: usize = 64;
const SCATTER_SAMPLES: usize = 2500;

/// Standard-normal noise [n, dim] from a host generator (setup only, reproducible by seed).
pub fn fixed_noise(n: usize, dim: usize, seed: u64) -> Vec<f32> {
    let mut rng = SplitMix64::new(seed ^ 0x005A_4D50_4C45);
    (0..n * dim).map(|_| rng.next_normal() as f32).collect()
}

pub struct SampleWriter {
    shape: SampleShape,
    range: PixelRange,
    forward: Vec<Dispatch>,
    output: Tensor,
    count: usize,
    seed: u64,
}

impl SampleWriter {
    pub fn new(ctx: &GpuContext, graph: &TrainGraph, seed: u64) -> Result<SampleWriter> {
        let shape = graph.real.shape.clone();
        let count = match shape {
            SampleShape::Image { .. } => GRID_SAMPLES,
            SampleShape::Point2d(_) => SCATTER_SAMPLES,
        };
        let dim = graph.config.noise_dim;
        let noise = ctx.upload("fixed noise", &[count, dim], &fixed_noise(count, dim, seed))?;
        let pass = graph.generator.pass(ctx, "samples", &noise, count)?;
        Ok(SampleWriter {
            shape,
            range: graph.config.pixel_range,
            output: pass.output().clone(),
            forward: pass.forward,
            count,
            seed,
        })
    }

    /// Run G on the fixed noise and write samples/step_NNNNNNNNN.png; for a 2-D toy set, also
    /// score the samples' mode coverage.
    pub fn write(&self, ctx: &GpuContext, folder: &Path, step: u64) -> Result<Option<ModeStats>> {
        let mut recorder = Recorder::new(ctx);
        recorder.record_all(&self.forward);
        recorder.submit()?;
        let values = ctx.read_f32(&self.output)?;
        let path = sample_path(folder, step);
        write_samples_png(
            &path,
            &values,
            self.count,
            &self.shape,
            self.range,
            self.seed,
        )?;
        Ok(match self.shape {
            SampleShape::Point2d(set) => {
                let points: Vec<[f32; 2]> = values.chunks_exact(2).map(|p| [p[0], p[1]]).collect();
                Some(mode_stats(&points, set))
            }
            SampleShape::Image { .. } => None,
        })
    }
}

/// samples/step_NNNNNNNNN.png of `step` in `folder`.
pub fn sample_path(folder: &Path, step: u64) -> std::path::PathBuf {
    folder.join(format!(
        "step_{step:0width$}.png",
        width = super::checkpoint::STEP_DIGITS
    ))
}

/// Generated samples as a PNG: an image grid with pixel values in `range` (the generator's
/// output range), or for 2-D toys a scatter over real points drawn with `seed`.
pub fn write_samples_png(
    path: &Path,
    values: &[f32],
    count: usize,
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
            count,
            *height,
            *width,
            *channels,
            range.bounds(),
        ),
        SampleShape::Point2d(set) => {
            let fake: Vec<[f32; 2]> = values.chunks_exact(2).map(|p| [p[0], p[1]]).collect();
            write_scatter(path, &fake, &set.sample(SCATTER_SAMPLES, seed), 512)
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
            write_samples_png(&path, &[0.0; 4], 1, &shape, range, 0).unwrap();
            image::open(&path).unwrap().to_rgb8().get_pixel(pad, pad).0[0]
        };
        assert_eq!(first_pixel(PixelRange::ZeroToOne), 0);
        assert!((127..=128).contains(&first_pixel(PixelRange::MinusOneToOne)));
        std::fs::remove_dir_all(&dir).ok();
    }
}
