//! `gan-gpu interpolate RUN`: the paper's Figure 3, rows of samples along paths in z.

use std::path::PathBuf;

use clap::Args;

use super::Cli;
use super::generator_source::GeneratorSource;
use super::sample::{SampleFormat, check_sample_count, requested_class, sample_shape};
use crate::error::{Error, Result};
use crate::gan::Prior;
use crate::gan::interpolate::{Path, interpolation};
use crate::gan::samples::write_samples_png;
use crate::gpu::Recorder;
use crate::limits::MemoryLimits;
use crate::report::npy::write_npy_f32;

#[derive(Args, Debug)]
pub struct InterpolateArgs {
    #[command(flatten)]
    pub generator: GeneratorSource,
    /// Paths (grid rows), each between its own random pair of noise vectors.
    #[arg(long, default_value_t = 8, value_parser = super::whole_number::<usize>)]
    pub rows: usize,
    /// Samples along each path, both ends included (grid columns).
    #[arg(long, default_value_t = 10, value_parser = super::whole_number::<usize>)]
    pub steps: usize,
    /// Follow the great circle between the pair (spherical interpolation) instead of the
    /// straight line: for Gaussian noise it stays where the prior's mass is.
    #[arg(long)]
    pub slerp: bool,
    /// A conditional run: every row of this class [default: the classes in turn, a row each].
    #[arg(long, value_name = "N", value_parser = super::whole_number::<usize>)]
    pub class: Option<usize>,
    /// Seed of the endpoints.
    #[arg(long, default_value_t = 0, value_parser = super::whole_number::<u64>)]
    pub seed: u64,
    /// Output file.
    #[arg(short = 'o', long, default_value = "interpolation.png")]
    pub output: PathBuf,
    #[arg(long, value_enum, default_value = "png")]
    pub format: SampleFormat,
}

pub fn run(cli: &Cli, args: &InterpolateArgs) -> Result<()> {
    for (flag, value) in [("--rows", args.rows), ("--steps", args.steps)] {
        if value == 0 {
            return Err(Error::Input(format!("{flag}: must be at least 1, found 0")));
        }
    }
    let file = args.generator.load()?;
    let config = &file.config;
    let prior = Prior::of(config);
    let class = requested_class(&prior, args.class)?;
    let count = args.rows.saturating_mul(args.steps);
    let ctx = cli.open_gpu()?;
    check_sample_count(
        &format!("--rows {} × --steps {}", args.rows, args.steps),
        count,
        &config.generator,
        &MemoryLimits::of_device(&ctx.limits),
    )?;
    let path = if args.slerp {
        Path::Spherical
    } else {
        Path::Linear
    };
    let grid = interpolation(&prior, (args.rows, args.steps), path, args.seed, class);
    let generator = file.network(&ctx)?;
    let input = ctx.upload("interpolation", &[count, prior.input_dim()], &grid.input)?;
    let pass = generator.pass(&ctx, "interpolate", &input, count)?;
    let mut recorder = Recorder::new(&ctx);
    recorder.record_all(&pass.forward);
    recorder.submit()?;
    let values = ctx.read_f32(pass.output())?;
    let features = config.generator.outputs();
    match args.format {
        SampleFormat::Npy => write_npy_f32(&args.output, &values, count, features)?,
        SampleFormat::Png => write_samples_png(
            &args.output,
            &values,
            (count, Some(args.steps)),
            &sample_shape(config, features)?,
            config.pixel_range,
            args.seed,
        )?,
    }
    crate::errln!(
        "wrote {} paths of {} samples ({}) to {}",
        args.rows,
        args.steps,
        if args.slerp { "spherical" } else { "linear" },
        args.output.display()
    );
    Ok(())
}
