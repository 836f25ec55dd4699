//! `gan-gpu sample CHECKPOINT`: run a trained generator and write an image grid or raw samples.

use std::path::PathBuf;

use clap::{Args, ValueEnum};

use super::Cli;
use super::generator_source::GeneratorSource;
use crate::error::{Error, Result};
use crate::eval::nearest::{NearestSearch, mean_distance};
use crate::eval::tiles::Tiling;
use crate::gan::Prior;
use crate::gan::real_data::{HostData, SampleShape};
use crate::gan::samples::write_samples_png;
use crate::gan::{DataSource, TrainConfig};
use crate::gpu::Recorder;
use crate::limits::{MemoryLimits, f32_bytes};
use crate::nn::NetworkSpec;
use crate::report::npy::{read_npy_2d, write_npy_f32};

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum SampleFormat {
    /// An image grid (images), a scatter plot (2-D toy sets) or the data and generator densities (1-D toy sets).
    Png,
    /// Raw samples as a NumPy float32 array [n, features]; image pixels in the run's range
    /// (config.json pixel_range: [0, 1] for a sigmoid generator, [−1, 1] otherwise).
    Npy,
}

#[derive(Args, Debug)]
pub struct SampleArgs {
    #[command(flatten)]
    pub generator: GeneratorSource,
    /// Number of samples (ignored with --noise, which sets it).
    #[arg(short = 'n', long, default_value_t = 64, value_parser = super::whole_number::<usize>)]
    pub count: usize,
    /// Output file.
    #[arg(short = 'o', long, default_value = "samples.png")]
    pub output: PathBuf,
    /// Feed this noise (.npy, shape [n, noise_dim], float32 or float64) instead of drawing it;
    /// drawn from the run's prior (config.json's noise and noise_scale), it is used as given.
    #[arg(long)]
    pub noise: Option<PathBuf>,
    #[arg(long, value_enum, default_value = "png")]
    pub format: SampleFormat,
    /// Seed of the drawn noise.
    #[arg(long, default_value_t = 0, value_parser = super::whole_number::<u64>)]
    pub seed: u64,
    /// A conditional run: draw every sample of this class (0-based, as the labels). Without
    /// it, samples cycle through the classes, one grid row per class.
    #[arg(long, value_name = "N", value_parser = super::whole_number::<usize>)]
    pub class: Option<usize>,
    /// Beside each sample, its nearest training example (squared Euclidean distance, found on
    /// the GPU), as the rightmost column of the paper's Figure 2: a generator that memorises
    /// shows copies. Image data only; reads the run's data folder (or --data).
    #[arg(long)]
    pub nearest: bool,
    /// The training data for --nearest, instead of the run's own folder.
    #[arg(long, value_name = "DATA", requires = "nearest")]
    pub data: Option<PathBuf>,
}

/// The class `--class` asks for, checked against the run: None without the flag; an error for
/// an unconditional run or a class past its K.
pub fn requested_class(prior: &Prior, class: Option<usize>) -> Result<Option<u32>> {
    match (prior.classes, class) {
        (_, None) => Ok(None),
        (None, Some(class)) => Err(Error::Input(format!(
            "--class {class}: the run is not conditional (train it with --conditional)"
        ))),
        (Some(classes), Some(class)) if class >= classes => Err(Error::Input(format!(
            "--class {class}: the run has {classes} classes, 0 to {}",
            classes - 1
        ))),
        (Some(_), Some(class)) => Ok(Some(class as u32)),
    }
}

/// Each sample's label (empty when unconditional) and the grid's columns (None: near-square),
/// or why `--class` does not fit the run.
pub fn sample_labels(
    prior: &Prior,
    count: usize,
    class: Option<usize>,
) -> Result<(Vec<u32>, Option<usize>)> {
    match (prior.classes, requested_class(prior, class)?) {
        (None, _) => Ok((Vec::new(), None)),
        (Some(_), Some(class)) => Ok((vec![class; count], None)),
        // One row per class: ⌈n / K⌉ columns, sample i of class i / columns.
        (Some(classes), None) => {
            let columns = count.div_ceil(classes);
            let labels = (0..count).map(|i| (i / columns) as u32).collect();
            Ok((labels, Some(columns)))
        }
    }
}

pub fn run(cli: &Cli, args: &SampleArgs) -> Result<()> {
    let file = args.generator.load()?;
    let config = &file.config;
    let noise_dim = config.noise_dim;
    let prior = Prior::of(config);
    // The GPU first: its limits bound every size below, checked before anything is allocated.
    let ctx = cli.open_gpu()?;
    let limits = MemoryLimits::of_device(&ctx.limits);
    let (noise, count) = match &args.noise {
        Some(path) => {
            let (values, rows, cols) = read_npy_2d(path)?;
            if cols != noise_dim {
                return Err(Error::InvalidData {
                    file: path.clone(),
                    field: "shape".into(),
                    expected: format!("[n, {noise_dim}] (the generator's noise size)"),
                    found: format!("[{rows}, {cols}]"),
                });
            }
            check_sample_count(
                &format!("--noise {}: {rows} rows", path.display()),
                rows,
                &config.generator,
                &limits,
            )?;
            (values, rows)
        }
        None => {
            if args.count == 0 {
                return Err(Error::Input(
                    "-n: the number of samples must be at least 1".into(),
                ));
            }
            check_sample_count(
                &format!("-n {}", args.count),
                args.count,
                &config.generator,
                &limits,
            )?;
            (prior.host_noise(args.count, args.seed), args.count)
        }
    };
    let (labels, columns) = sample_labels(&prior, count, args.class)?;
    let input = prior.host_input(&noise, &labels);
    let generator = file.network(&ctx)?;
    let input = ctx.upload("noise", &[count, prior.input_dim()], &input)?;
    let pass = generator.pass(&ctx, "sample", &input, count)?;
    let mut recorder = Recorder::new(&ctx);
    recorder.record_all(&pass.forward);
    recorder.submit()?;
    let values = ctx.read_f32(pass.output())?;
    let features = config.generator.outputs();
    if args.nearest {
        return write_with_nearest(&ctx, args, config, (&values, count));
    }
    match args.format {
        SampleFormat::Npy => write_npy_f32(&args.output, &values, count, features)?,
        SampleFormat::Png => write_samples_png(
            &args.output,
            &values,
            (count, columns),
            &sample_shape(config, features)?,
            config.pixel_range,
            args.seed,
        )?,
    }
    let range = match &config.data {
        DataSource::Folder(_) => {
            let (low, high) = config.pixel_range.bounds();
            format!(" (pixel values in [{low}, {high}], the range the run's data was scaled to)")
        }
        DataSource::Toy(_) => String::new(),
    };
    crate::errln!("wrote {count} samples to {}{range}", args.output.display());
    Ok(())
}

/// `sample --nearest`: each sample followed by its nearest training example, in pairs across
/// the grid (or, for npy, the nearest examples' indices and distances printed).
fn write_with_nearest(
    ctx: &crate::gpu::GpuContext,
    args: &SampleArgs,
    config: &TrainConfig,
    (values, count): (&[f32], usize),
) -> Result<()> {
    let source = match (&args.data, &config.data) {
        (_, DataSource::Toy(name)) => {
            return Err(Error::Input(format!(
                "--nearest: {name} is a toy set; the nearest-training-example check is for \
                 image data"
            )));
        }
        (Some(folder), _) => DataSource::Folder(folder.display().to_string()),
        (None, source) => source.clone(),
    };
    let host = HostData::load(&source)?;
    let features = config.generator.outputs();
    if host.shape.dim() != features {
        return Err(Error::Input(format!(
            "--nearest: {} has {} values an example, the generator makes {features}",
            host.description,
            host.shape.dim()
        )));
    }
    // Only what the generator trained on: the held-out tail is not training data.
    let trained = host.count_after_holdout(config.holdout)?;
    let range = config.pixel_range;
    let training: Vec<f32> = host.pixels[..trained * features]
        .iter()
        .map(|&p| range.from_byte(p))
        .collect();
    let search = NearestSearch::new(ctx, &training, features)?;
    let queries = ctx.upload("samples", &[count, features], values)?;
    let neighbours = search.search(ctx, &queries, Tiling::default())?;
    let mut pairs = Vec::with_capacity(2 * values.len());
    for (sample, n) in values.chunks(features).zip(&neighbours) {
        pairs.extend_from_slice(sample);
        pairs.extend_from_slice(&training[n.index * features..(n.index + 1) * features]);
    }
    let per_row = (count as f64).sqrt().ceil() as usize;
    match args.format {
        SampleFormat::Png => write_samples_png(
            &args.output,
            &pairs,
            (2 * count, Some(2 * per_row.max(1))),
            &host.shape,
            range,
            args.seed,
        )?,
        SampleFormat::Npy => write_npy_f32(&args.output, &pairs, 2 * count, features)?,
    }
    crate::errln!(
        "wrote {count} samples, each followed by its nearest of {trained} training examples \
         ({}), to {}; mean distance {:.3} (pixel values in {:?})",
        host.description,
        args.output.display(),
        mean_distance(&neighbours),
        range.bounds()
    );
    Ok(())
}

/// The most samples one `sample` call draws: GPU dispatch sizes and indices are 32-bit.
pub const MAX_SAMPLES: usize = (1 << 31) - 1;

/// What one sample of the run is: a toy point, or a square image (the data folder may be gone).
pub fn sample_shape(config: &TrainConfig, features: usize) -> Result<SampleShape> {
    match &config.data {
        DataSource::Toy(_) => Ok(HostData::load(&config.data)?.shape),
        DataSource::Folder(_) => square_image_shape(features),
    }
}

/// Refuse `count` samples of `generator` beyond 2^31 − 1, or whose noise, activations or
/// output would not fit the adapter's binding or the host (checked before allocating).
pub fn check_sample_count(
    what: &str,
    count: usize,
    generator: &NetworkSpec,
    limits: &MemoryLimits,
) -> Result<()> {
    if count > MAX_SAMPLES {
        return Err(Error::Input(format!(
            "{what}: at most {MAX_SAMPLES} samples per call (2^31 − 1); draw them in several calls"
        )));
    }
    let widest = generator
        .shapes()
        .iter()
        .map(|shape| shape.iter().product::<usize>())
        .chain([generator.inputs()])
        .max()
        .unwrap_or(1);
    let what = format!("{what}: {count} samples × {widest} values (the widest layer)");
    limits.check_binding(&what, f32_bytes(&[count, widest]))?;
    // Noise, every layer's activations and the output read back to the host.
    let layers = generator.layers.len() + 2;
    limits.check_host(&what, f32_bytes(&[count, widest, layers]))
}

/// Image data is square (MNIST 28×28) gray or RGB; the data folder may be gone by now.
fn square_image_shape(features: usize) -> Result<SampleShape> {
    for channels in [1, 3] {
        let side = ((features / channels) as f64).sqrt().round() as usize;
        if side * side * channels == features {
            return Ok(SampleShape::Image {
                height: side,
                width: side,
                channels,
            });
        }
    }
    Err(Error::Input(format!(
        "cannot lay {features} values out as a square image; use --format npy"
    )))
}
