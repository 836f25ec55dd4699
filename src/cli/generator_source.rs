//! The generator a command reads: a run folder, a checkpoint or a generator.safetensors, and
//! for an `--ema` run which of its two generators (the positional argument and `--raw` of
//! `sample`, `eval`, `interpolate` and `export`).

use std::path::PathBuf;

use clap::Args;

use crate::error::Result;
use crate::gan::checkpoint::{GeneratorFile, Which, load_generator};

#[derive(Args, Debug)]
pub struct GeneratorSource {
    /// A run folder (its newest checkpoint), a checkpoint file, or a generator.safetensors.
    pub checkpoint: PathBuf,
    /// A run trained with --ema: use the trained G instead of its EMA generator (the default,
    /// as in the run's grids and generator.safetensors).
    #[arg(long)]
    pub raw: bool,
}

impl GeneratorSource {
    pub fn load(&self) -> Result<GeneratorFile> {
        let which = if self.raw {
            Which::Raw
        } else {
            Which::Sampling
        };
        load_generator(&self.checkpoint, which)
    }
}
