//! samples/progress.gif: the fixed-noise sample grid of every sample step as one animation,
//! each frame labelled with its step, rewritten (atomically) at each sample step.
//!
//! Frames are kept in memory between sample steps, each quantised to its GIF palette once (the
//! costly part), so rewriting the file only re-packs them; a resumed run starts from the grids
//! already in samples/. At most `MAX_FRAMES` are kept: past that every other older frame is
//! dropped, so a long run still animates its whole history in a file of bounded size.

use std::path::Path;

use image::{Rgb, RgbImage};
use plotters::prelude::*;

use super::chart_font;
use super::run_dir::write_atomic;
use crate::error::{Error, Result};

/// The animation's file name in samples/.
pub const PROGRESS_GIF: &str = "progress.gif";
pub const MAX_FRAMES: usize = 100;
/// Height of the label strip above each grid.
const LABEL_HEIGHT: u32 = 22;
/// Frame delays in hundredths of a second (GIF's unit).
const FRAME_DELAY: u16 = 40;
/// The last frame stays up longer before the loop restarts.
const LAST_FRAME_DELAY: u16 = 200;
/// NeuQuant's speed (1 best … 30 fastest): 10 is the gif crate's usual trade-off.
const QUANTISE_SPEED: i32 = 10;

pub struct ProgressAnimation {
    /// (step, labelled frame quantised to its palette), in step order.
    frames: Vec<(u64, gif::Frame<'static>)>,
}

impl ProgressAnimation {
    pub fn new() -> ProgressAnimation {
        ProgressAnimation { frames: Vec::new() }
    }

    /// The frames of the sample grids in `samples` up to `step` (a resumed run's history;
    /// none in a new run's folder).
    pub fn resume(samples: &Path, step: u64) -> Result<ProgressAnimation> {
        let mut animation = ProgressAnimation::new();
        if !samples.is_dir() {
            return Ok(animation);
        }
        let mut grids: Vec<(u64, std::path::PathBuf)> = std::fs::read_dir(samples)
            .map_err(|e| Error::io(samples, e))?
            .filter_map(|entry| {
                let path = entry.ok()?.path();
                let name = path.file_name()?.to_str()?;
                let n = name
                    .strip_prefix("step_")?
                    .strip_suffix(".png")?
                    .parse()
                    .ok()?;
                Some((n, path))
            })
            .filter(|(n, _)| *n <= step)
            .collect();
        grids.sort();
        for (n, path) in grids {
            let png = std::fs::read(&path).map_err(|e| Error::io(&path, e))?;
            animation.add_png(n, &png, &path)?;
        }
        Ok(animation)
    }

    pub fn len(&self) -> usize {
        self.frames.len()
    }

    pub fn is_empty(&self) -> bool {
        self.frames.is_empty()
    }

    /// The steps of the frames kept, in order.
    pub fn steps(&self) -> Vec<u64> {
        self.frames.iter().map(|(s, _)| *s).collect()
    }

    /// Add the grid of `step` (PNG bytes read from `path`, named in errors); a frame of a step
    /// already held (a resumed run re-sampling it) replaces it.
    pub fn add_png(&mut self, step: u64, png: &[u8], path: &Path) -> Result<()> {
        let grid = image::load_from_memory_with_format(png, image::ImageFormat::Png)
            .map_err(|e| Error::invalid(path, "PNG", "a sample grid", e.to_string()))?
            .to_rgb8();
        let frame = labelled(&grid, step)?;
        let (w, h) = (frame.width(), frame.height());
        let too_large = || {
            Error::invalid(
                path,
                "size",
                "at most 65535 × 65535 pixels (GIF)",
                format!("{w} × {h}"),
            )
        };
        let frame = gif::Frame::from_rgb_speed(
            u16::try_from(w).map_err(|_| too_large())?,
            u16::try_from(h).map_err(|_| too_large())?,
            frame.as_raw(),
            QUANTISE_SPEED,
        );
        self.frames.retain(|(s, _)| *s < step);
        self.frames.push((step, frame));
        if self.frames.len() > MAX_FRAMES {
            // Thin the history, never the newest frame.
            let last = self.frames.pop().expect("more than MAX_FRAMES frames");
            let kept = std::mem::take(&mut self.frames)
                .into_iter()
                .step_by(2)
                .collect();
            self.frames = kept;
            self.frames.push(last);
        }
        Ok(())
    }

    /// Write every frame into a looping GIF at `path`, atomically.
    pub fn write(&self, path: &Path) -> Result<()> {
        let width = self.frames.iter().map(|(_, f)| f.width).max().unwrap_or(1);
        let height = self.frames.iter().map(|(_, f)| f.height).max().unwrap_or(1);
        let fail = |e: gif::EncodingError| Error::Input(format!("{}: {e}", path.display()));
        let mut bytes = Vec::new();
        {
            let mut encoder = gif::Encoder::new(&mut bytes, width, height, &[]).map_err(fail)?;
            encoder.set_repeat(gif::Repeat::Infinite).map_err(fail)?;
            for (i, (_, frame)) in self.frames.iter().enumerate() {
                let mut frame = frame.clone();
                frame.delay = if i + 1 == self.frames.len() {
                    LAST_FRAME_DELAY
                } else {
                    FRAME_DELAY
                };
                encoder.write_frame(&frame).map_err(fail)?;
            }
        }
        write_atomic(path, &bytes)
    }
}

impl Default for ProgressAnimation {
    fn default() -> Self {
        ProgressAnimation::new()
    }
}

/// `grid` below a white strip reading "step N".
fn labelled(grid: &RgbImage, step: u64) -> Result<RgbImage> {
    chart_font::register();
    let (w, h) = (grid.width().max(80), grid.height() + LABEL_HEIGHT);
    let mut frame = RgbImage::from_pixel(w, h, Rgb([255, 255, 255]));
    image::imageops::replace(&mut frame, grid, 0, LABEL_HEIGHT as i64);
    {
        let area = BitMapBackend::with_buffer(frame.as_mut(), (w, h)).into_drawing_area();
        area.draw_text(
            &format!("step {step}"),
            &("sans-serif", 15).into_font().color(&BLACK),
            (4, 3),
        )
        .map_err(|e| Error::Input(format!("progress.gif label: {e}")))?;
        area.present()
            .map_err(|e| Error::Input(format!("progress.gif label: {e}")))?;
    }
    Ok(frame)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::test_util::temp_dir;
    use image::AnimationDecoder;

    fn png(width: u32, shade: u8) -> Vec<u8> {
        let mut bytes = Vec::new();
        RgbImage::from_pixel(width, width, Rgb([shade, shade, shade]))
            .write_to(
                &mut std::io::Cursor::new(&mut bytes),
                image::ImageFormat::Png,
            )
            .unwrap();
        bytes
    }

    #[test]
    fn frames_carry_their_step_and_decode_back() {
        let dir = temp_dir("gif");
        let mut animation = ProgressAnimation::new();
        for (i, step) in [0u64, 50, 100].iter().enumerate() {
            animation
                .add_png(*step, &png(60, 40 * i as u8), Path::new("x.png"))
                .unwrap();
        }
        let path = dir.join(PROGRESS_GIF);
        animation.write(&path).unwrap();
        let decoder = image::codecs::gif::GifDecoder::new(std::io::BufReader::new(
            std::fs::File::open(&path).unwrap(),
        ))
        .unwrap();
        let frames = decoder.into_frames().collect_frames().unwrap();
        assert_eq!(frames.len(), 3);
        let first = frames[0].buffer();
        assert_eq!(first.dimensions(), (80, 60 + LABEL_HEIGHT));
        // The label strip holds dark text pixels; the grid below keeps its shade.
        let dark = (0..80)
            .flat_map(|x| (0..LABEL_HEIGHT).map(move |y| (x, y)))
            .filter(|&(x, y)| first.get_pixel(x, y).0[0] < 100)
            .count();
        assert!(dark > 20, "label pixels {dark}");
        assert!(frames[2].buffer().get_pixel(30, LABEL_HEIGHT + 30).0[0].abs_diff(80) < 8);
        // Not a PNG: an error naming the file.
        let msg = animation
            .add_png(150, b"junk", Path::new("bad.png"))
            .unwrap_err()
            .to_string();
        assert!(msg.contains("bad.png"), "{msg}");
        std::fs::remove_dir_all(dir).ok();
    }

    #[test]
    fn history_is_thinned_but_keeps_the_newest_frame() {
        let mut animation = ProgressAnimation::new();
        let grid = png(8, 0);
        for step in 0..=(MAX_FRAMES as u64) {
            animation.add_png(step, &grid, Path::new("x.png")).unwrap();
        }
        assert!(animation.len() <= MAX_FRAMES);
        let steps = animation.steps();
        assert_eq!(steps[0], 0);
        assert_eq!(*steps.last().unwrap(), MAX_FRAMES as u64);
        // Re-adding a step (resume) replaces the later frames.
        animation.add_png(10, &grid, Path::new("x.png")).unwrap();
        assert_eq!(*animation.steps().last().unwrap(), 10);
    }
}
