//! Real training data, resident on the GPU: images as u8 (never f32: MNIST's 47 MB would be
//! 188 MB, past lavapipe's 128 MiB binding), batches drawn by GPU-side indices; or a 2-D toy
//! mixture sampled by a kernel. Either way, drawing a batch is a fixed list of dispatches.

use std::path::Path;

use super::config::DataSource;
use crate::data::{ToySet, load_image_folder, load_mnist_folder};
use crate::error::{Error, Result};
use crate::gpu::{Dispatch, GpuContext, Tensor};
use crate::kernels::data::{IndexOrder, PixelRange, draw_indices, gather_u8, sample_mixture};
use crate::kernels::random::increment_counter;

/// What one sample is.
#[derive(Clone, Debug, PartialEq)]
pub enum SampleShape {
    Image {
        height: usize,
        width: usize,
        channels: usize,
    },
    Point2d(ToySet),
}

impl SampleShape {
    pub fn dim(&self) -> usize {
        match self {
            SampleShape::Image {
                height,
                width,
                channels,
            } => height * width * channels,
            SampleShape::Point2d(_) => 2,
        }
    }
}

/// The training examples on the host, before upload.
pub struct HostData {
    pub shape: SampleShape,
    /// u8 pixels of every image, one after another (empty for toys).
    pub pixels: Vec<u8>,
    pub count: usize,
    pub description: String,
}

impl HostData {
    pub fn load(source: &DataSource) -> Result<HostData> {
        match source {
            DataSource::Toy(name) => {
                let set = ToySet::parse(name)?;
                Ok(HostData {
                    shape: SampleShape::Point2d(set),
                    pixels: Vec::new(),
                    count: 0,
                    description: format!("toy set {}", set.name()),
                })
            }
            DataSource::Folder(folder) => load_folder(Path::new(folder)),
        }
    }
}

fn load_folder(folder: &Path) -> Result<HostData> {
    let has_images = std::fs::read_dir(folder)
        .map(|entries| {
            entries.flatten().any(|e| {
                let name = e.file_name().to_string_lossy().to_lowercase();
                name.ends_with(".png") || name.ends_with(".jpg") || name.ends_with(".jpeg")
            })
        })
        .unwrap_or(false);
    if has_images {
        let images = load_image_folder(folder)?;
        return Ok(HostData {
            shape: SampleShape::Image {
                height: images.height,
                width: images.width,
                channels: images.channels,
            },
            count: images.count,
            description: format!(
                "{} images of {}×{}×{} from {}",
                images.count,
                images.height,
                images.width,
                images.channels,
                folder.display()
            ),
            pixels: images.pixels,
        });
    }
    let mnist = load_mnist_folder(folder)?;
    let train = mnist.train.images;
    Ok(HostData {
        shape: SampleShape::Image {
            height: train.rows,
            width: train.cols,
            channels: 1,
        },
        count: train.count,
        description: format!(
            "{} images of {}×{} from {}",
            train.count,
            train.rows,
            train.cols,
            mnist.train.images_path.display()
        ),
        pixels: train.pixels,
    })
}

/// The real half of every D step: a [batch, dim] tensor and the dispatches that refill it.
pub struct RealData {
    pub shape: SampleShape,
    pub batch: Tensor,
    pub count: usize,
    pub description: String,
    /// Batches drawn so far: the shuffled order's position is counter·batch + row, so this
    /// counter moves once per D step only (checkpointed with the run).
    pub counter: Tensor,
    source: Source,
}

enum Source {
    Images { dataset: Tensor, indices: Tensor },
    Mixture { centers: Tensor, std: f32 },
}

impl RealData {
    pub fn upload(ctx: &GpuContext, host: HostData, batch_size: usize) -> Result<RealData> {
        let dim = host.shape.dim();
        let batch = ctx.zeros("real batch", &[batch_size, dim])?;
        let source = match &host.shape {
            SampleShape::Image { .. } => {
                if host.count == 0 {
                    return Err(Error::Input(format!(
                        "{}: no training examples",
                        host.description
                    )));
                }
                let dataset = ctx.upload_bytes("dataset", &host.pixels)?;
                let indices = ctx.zeros("batch indices", &[batch_size])?;
                Source::Images { dataset, indices }
            }
            SampleShape::Point2d(set) => {
                let centers: Vec<f32> = set.centers().iter().flatten().copied().collect();
                let count = centers.len() / 2;
                Source::Mixture {
                    centers: ctx.upload("mixture centers", &[count, 2], &centers)?,
                    std: set.std(),
                }
            }
        };
        Ok(RealData {
            shape: host.shape,
            batch,
            count: host.count,
            description: host.description,
            counter: ctx.upload("batch counter", &[1], &[0u32])?,
            source,
        })
    }

    /// Dispatches that fill `batch` with fresh real samples, keyed by the GPU counter.
    pub fn draw_batch(&self, ctx: &GpuContext, seed: u64, stream: u32) -> Result<Vec<Dispatch>> {
        let counter = &self.counter;
        let draw = match &self.source {
            Source::Images { dataset, indices } => vec![
                draw_indices(
                    ctx,
                    indices,
                    self.count as u32,
                    IndexOrder::Shuffled,
                    seed,
                    stream,
                    counter,
                )?,
                gather_u8(
                    ctx,
                    dataset,
                    indices,
                    &self.batch,
                    self.shape.dim(),
                    PixelRange::MinusOneToOne,
                )?,
            ],
            Source::Mixture { centers, std } => vec![sample_mixture(
                ctx,
                centers,
                &self.batch,
                *std,
                seed,
                stream,
                counter,
            )?],
        };
        // Draw with the current count, then advance it for the next batch.
        let mut dispatches = draw;
        dispatches.push(increment_counter(ctx, counter)?);
        Ok(dispatches)
    }
}
