//! `gan-gpu export RUN|CHECKPOINT --onnx generator.onnx`: the generator for ONNX runtimes.

use std::path::PathBuf;

use clap::Args;

use super::Cli;
use super::generator_source::GeneratorSource;
use crate::error::Result;
use crate::export::onnx::{OPSET, example_shape, export_generator};

#[derive(Args, Debug)]
pub struct ExportArgs {
    #[command(flatten)]
    pub generator: GeneratorSource,
    /// Write the generator as an ONNX model (opset 13): input z [batch, noise_dim], output
    /// [batch, C, H, W] in the run's pixel range, as `sample --format npy` writes it.
    #[arg(long, value_name = "FILE")]
    pub onnx: PathBuf,
}

pub fn run(_cli: &Cli, args: &ExportArgs) -> Result<()> {
    let onnx = &args.onnx;
    let file = args.generator.load()?;
    let shape = example_shape(&file)?;
    export_generator(&file, onnx)?;
    let (low, high) = file.config.pixel_range.bounds();
    let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    crate::outln!(
        "wrote {} (ONNX opset {OPSET}) from {}: input z [batch, {}], output [batch, {}]{}",
        onnx.display(),
        file.path.display(),
        file.config.noise_dim,
        dims.join(", "),
        if shape.len() == 3 {
            format!(" with pixel values in [{low}, {high}]")
        } else {
            String::new()
        }
    );
    Ok(())
}
