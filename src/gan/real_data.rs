//! Real training data, resident on the GPU: images as u8 (never f32: MNIST's 47 MB would be
//! 188 MB, past lavapipe's 128 MiB binding), batches drawn by GPU-side indices; or a 2-D toy
//! mixture sampled by a kernel. Either way, drawing a batch is a fixed list of dispatches.

use std::path::Path;

use super::config::DataSource;
use crate::data::image_folder::is_image_folder;
use crate::data::mnist::has_mnist_files;
use crate::data::{Density1d, MNIST_CLASSES, Toy, ToySet, load_image_folder, load_mnist_folder};
use crate::error::{Error, Result};
use crate::gpu::{Dispatch, GpuContext, Tensor};
use crate::kernels::data::{
    IndexOrder, PixelRange, draw_indices, gather_labels, gather_u8, sample_mixture,
};
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
    /// A point of a 1-D density (the paper's Figure 1).
    Point1d(Density1d),
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
            SampleShape::Point1d(_) => 1,
        }
    }

    /// One example's shape as a network takes it: [channels, height, width], or [2].
    pub fn network_shape(&self) -> Vec<usize> {
        match self {
            SampleShape::Image {
                height,
                width,
                channels,
            } => vec![*channels, *height, *width],
            SampleShape::Point2d(_) => vec![2],
            SampleShape::Point1d(_) => vec![1],
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
    /// Each example's class label (empty when the data has none: toys, flat image folders).
    pub labels: Vec<u8>,
    /// The number of classes the labels come from (0 without labels).
    pub classes: usize,
}

impl HostData {
    /// `data` when the caller already read it (image data sized the config), else `source` read
    /// now.
    pub fn given_or_load(data: Option<HostData>, source: &DataSource) -> Result<HostData> {
        match data {
            Some(data) => Ok(data),
            None => HostData::load(source),
        }
    }

    pub fn load(source: &DataSource) -> Result<HostData> {
        match source {
            DataSource::Toy(name) => {
                let toy = Toy::parse(name)?;
                Ok(HostData {
                    shape: match toy {
                        Toy::Plane(set) => SampleShape::Point2d(set),
                        Toy::Line(density) => SampleShape::Point1d(density),
                    },
                    pixels: Vec::new(),
                    count: 0,
                    description: format!("toy set {}", toy.name()),
                    labels: Vec::new(),
                    classes: 0,
                })
            }
            DataSource::Folder(folder) => load_folder(Path::new(folder)),
        }
    }

    /// The data without its last `holdout` examples (the held-out set, never uploaded and so
    /// never drawn): an error unless at least one training example remains.
    pub fn hold_out(mut self, holdout: usize) -> Result<HostData> {
        self.count = self.count_after_holdout(holdout)?;
        if holdout == 0 {
            return Ok(self);
        }
        self.pixels.truncate(self.count * self.shape.dim());
        self.labels.truncate(self.count);
        self.description = format!("{}, the last {holdout} held out", self.description);
        Ok(self)
    }

    /// The examples left to train on once the last `holdout` are held out, or why they cannot
    /// be (toy sets hold nothing out; some images must remain).
    pub fn count_after_holdout(&self, holdout: usize) -> Result<usize> {
        if holdout == 0 {
            return Ok(self.count);
        }
        if matches!(
            self.shape,
            SampleShape::Point2d(_) | SampleShape::Point1d(_)
        ) {
            return Err(Error::Input(format!(
                "--holdout {holdout}: {} is endless and holds nothing out; held-out examples \
                 need image data",
                self.description
            )));
        }
        if holdout >= self.count {
            return Err(Error::Input(format!(
                "--holdout {holdout}: must be less than the number of training images ({} in {}), \
                 so that some remain to train on",
                self.count, self.description
            )));
        }
        Ok(self.count - holdout)
    }

    /// The mean of each feature over the examples, scaled to [0, 1] (empty for toys).
    pub fn feature_means(&self) -> Vec<f64> {
        let dim = self.shape.dim();
        if self.count == 0 || self.pixels.is_empty() {
            return Vec::new();
        }
        let mut sums = vec![0u64; dim];
        for example in self.pixels.chunks_exact(dim) {
            for (sum, &byte) in sums.iter_mut().zip(example) {
                *sum += byte as u64;
            }
        }
        sums.iter()
            .map(|&sum| sum as f64 / (255.0 * self.count as f64))
            .collect()
    }
}

fn load_folder(folder: &Path) -> Result<HostData> {
    if !has_mnist_files(folder) && is_image_folder(folder) {
        let images = load_image_folder(folder)?;
        let classes = images.class_names.len();
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
            labels: images.labels,
            classes,
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
        labels: mnist.train.labels,
        classes: MNIST_CLASSES as usize,
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
    /// Each feature's mean over the training examples, in [0, 1] (images; empty for toys).
    pub feature_means: Vec<f64>,
    source: Source,
    /// A conditional run's labels: every example's, and the latest batch's.
    labels: Option<Labels>,
}

struct Labels {
    dataset: Tensor,
    batch: Tensor,
}

enum Source {
    Images {
        dataset: Tensor,
        indices: Tensor,
    },
    Mixture {
        centers: Tensor,
        dims: usize,
        std: f32,
    },
}

impl RealData {
    pub fn upload(ctx: &GpuContext, host: HostData, batch_size: usize) -> Result<RealData> {
        Self::upload_conditional(ctx, host, batch_size, None)
    }

    /// The data, and for a conditional run of `classes` classes its labels, which travel with
    /// their images: each batch's labels are gathered by the same indices.
    pub fn upload_conditional(
        ctx: &GpuContext,
        host: HostData,
        batch_size: usize,
        classes: Option<usize>,
    ) -> Result<RealData> {
        let labels = match classes {
            None => None,
            Some(classes) => Some(upload_labels(ctx, &host, batch_size, classes)?),
        };
        let dim = host.shape.dim();
        let feature_means = host.feature_means();
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
                    dims: 2,
                    std: set.std(),
                }
            }
            SampleShape::Point1d(density) => {
                let centers: Vec<f32> = density.centers().iter().map(|&m| m as f32).collect();
                Source::Mixture {
                    centers: ctx.upload("mixture centers", &[centers.len(), 1], &centers)?,
                    dims: 1,
                    std: density.std() as f32,
                }
            }
        };
        Ok(RealData {
            shape: host.shape,
            batch,
            count: host.count,
            description: host.description,
            counter: ctx.upload("batch counter", &[1], &[0u32])?,
            feature_means,
            source,
            labels,
        })
    }

    /// Bytes of the data set itself on the GPU: the packed images and, for a conditional run,
    /// their labels, or a toy mixture's centres (not the batch drawn from them).
    pub fn dataset_bytes(&self) -> u64 {
        let examples = match &self.source {
            Source::Images { dataset, .. } => dataset.buffer().size(),
            Source::Mixture { centers, .. } => centers.buffer().size(),
        };
        examples
            + self
                .labels
                .as_ref()
                .map_or(0, |l| l.dataset.buffer().size())
    }

    /// The class labels of the latest batch ([batch] u32; None unless conditional).
    pub fn batch_labels(&self) -> Option<&Tensor> {
        self.labels.as_ref().map(|l| &l.batch)
    }

    /// The example indices of the latest image batch ([batch] u32; None for toys).
    pub fn indices(&self) -> Option<&Tensor> {
        match &self.source {
            Source::Images { indices, .. } => Some(indices),
            Source::Mixture { .. } => None,
        }
    }

    /// Dispatches that fill `batch` with fresh real samples, keyed by the GPU counter; image
    /// pixels are scaled to `range`.
    pub fn draw_batch(
        &self,
        ctx: &GpuContext,
        seed: u64,
        stream: u32,
        range: PixelRange,
    ) -> Result<Vec<Dispatch>> {
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
                gather_u8(ctx, dataset, indices, &self.batch, self.shape.dim(), range)?,
            ],
            Source::Mixture { centers, dims, std } => vec![sample_mixture(
                ctx,
                centers,
                &self.batch,
                *dims,
                *std,
                seed,
                stream,
                counter,
            )?],
        };
        // Draw with the current count, then advance it for the next batch.
        let mut dispatches = draw;
        if let (Some(labels), Source::Images { indices, .. }) = (&self.labels, &self.source) {
            dispatches.push(gather_labels(ctx, &labels.dataset, indices, &labels.batch)?);
        }
        dispatches.push(increment_counter(ctx, counter)?);
        Ok(dispatches)
    }
}

/// A conditional run's labels on the GPU, or why the data cannot give them.
fn upload_labels(
    ctx: &GpuContext,
    host: &HostData,
    batch_size: usize,
    classes: usize,
) -> Result<Labels> {
    if host.labels.is_empty() || host.labels.len() != host.count {
        return Err(Error::Input(format!(
            "--conditional: {} has no class labels (MNIST-format folders need \
             train-labels-idx1-ubyte[.gz]; image folders need one sub-folder per class)",
            host.description
        )));
    }
    if host.classes != classes {
        return Err(Error::Input(format!(
            "--conditional: the run has {classes} classes but {} has {}",
            host.description, host.classes
        )));
    }
    if let Some(&label) = host.labels.iter().find(|&&l| l as usize >= classes) {
        return Err(Error::Input(format!(
            "--conditional: {} has label {label}, outside its {classes} classes",
            host.description
        )));
    }
    Ok(Labels {
        dataset: ctx.upload_bytes("dataset labels", &host.labels)?,
        batch: ctx.zeros("batch labels", &[batch_size])?,
    })
}
