//! Training checkpoints: both networks in PyTorch's layout and names, optimizer state, and the
//! GPU counters, so `--resume` continues bit for bit. Also `generator.safetensors`, the
//! generator alone under `torch.nn.Sequential` names, which `load_state_dict` takes unchanged.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::config::TrainConfig;
use super::graph::TrainGraph;
use crate::checkpoint_io::{NamedTensor, load_tensors, metadata_u64, put_counter, save_tensors};
use crate::error::{Error, Result};
use crate::gpu::{GpuContext, Tensor};
use crate::nn::Network;
use crate::nn::torch::{NetworkValues, expect_tensor, torch_tensors, values_from_torch};

pub const FORMAT: &str = "gan-gpu-checkpoint-1";

/// Tensor names of the EMA generator in a checkpoint (`--ema`), beside "generator." (the
/// trained G) and "discriminator.".
pub const EMA_PREFIX: &str = "generator_ema.";

/// Digits of the step in checkpoint and sample file names: name order is step order for
/// people's `ls` up to a billion steps (older runs used 6; both are read).
pub const STEP_DIGITS: usize = 9;

/// `checkpoints/step_{step}.safetensors` of a run (the step zero-padded to [`STEP_DIGITS`]).
pub fn checkpoint_name(step: u64) -> String {
    format!("step_{step:0width$}.safetensors", width = STEP_DIGITS)
}

/// The step N of a file named `step_N.safetensors` (any number of digits), else None.
pub fn checkpoint_step(path: &Path) -> Option<u64> {
    let name = path.file_name()?.to_str()?;
    let digits = name.strip_prefix("step_")?.strip_suffix(".safetensors")?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

fn read_counter(ctx: &GpuContext, counter: &Tensor) -> Result<u64> {
    Ok(ctx.read_u32(counter)?[0] as u64)
}

/// Write the full training state at `step` to `path` (atomically).
pub fn save(ctx: &GpuContext, graph: &TrainGraph, step: u64, path: &Path) -> Result<()> {
    let (g_passes, d_passes) = graph.batch_norm_passes(step);
    let mut tensors = torch_tensors(ctx, &graph.generator, "generator.", g_passes)?;
    tensors.extend(torch_tensors(
        ctx,
        &graph.discriminator,
        "discriminator.",
        d_passes,
    )?);
    if let Some(ema) = &graph.ema {
        graph.sampler(ctx)?;
        tensors.extend(torch_tensors(ctx, ema, EMA_PREFIX, g_passes)?);
    }
    for (name, optimizer) in [
        ("generator", &graph.g_optimizer),
        ("discriminator", &graph.d_optimizer),
    ] {
        for (i, state) in optimizer.state.iter().enumerate() {
            tensors.push((
                format!("optimizer.{name}.state{i}"),
                vec![state.len()],
                ctx.read_f32(state)?,
            ));
        }
        tensors.push((
            format!("optimizer.{name}.settings"),
            vec![4],
            ctx.read_f32(&optimizer.settings)?,
        ));
    }
    let mut metadata = HashMap::new();
    metadata.insert("format".to_string(), FORMAT.to_string());
    metadata.insert("config".to_string(), graph.config.to_json());
    put_counter(&mut metadata, "step", step);
    put_counter(
        &mut metadata,
        "rng_counter",
        read_counter(ctx, &graph.rng_counter)?,
    );
    put_counter(
        &mut metadata,
        "batch_counter",
        read_counter(ctx, &graph.real.counter)?,
    );
    put_counter(
        &mut metadata,
        "generator_optimizer_step",
        read_counter(ctx, &graph.g_optimizer.step)?,
    );
    put_counter(
        &mut metadata,
        "discriminator_optimizer_step",
        read_counter(ctx, &graph.d_optimizer.step)?,
    );
    save_tensors(path, &tensors, metadata)
}

/// A checkpoint read from disk.
pub struct Checkpoint {
    pub path: PathBuf,
    pub config: TrainConfig,
    pub step: u64,
    pub tensors: Vec<NamedTensor>,
    pub metadata: HashMap<String, String>,
}

impl Checkpoint {
    pub fn load(path: &Path) -> Result<Checkpoint> {
        let (tensors, metadata) = load_tensors(path)?;
        let config = TrainConfig::from_metadata(path, &metadata)?;
        let step = metadata_u64(&metadata, "step", path)?;
        Ok(Checkpoint {
            path: path.to_path_buf(),
            config,
            step,
            tensors,
            metadata,
        })
    }

    /// The newest `step_*.safetensors` in a run's checkpoints folder (or the file itself): the
    /// largest step number parsed from the name, so `step_1000000` is newer than `step_999000`
    /// whatever the digits (old runs named them with 6, new ones with [`STEP_DIGITS`]).
    pub fn find_latest(run_or_file: &Path) -> Result<PathBuf> {
        if run_or_file.is_file() {
            return Ok(run_or_file.to_path_buf());
        }
        let folder = run_or_file.join("checkpoints");
        Ok(Self::list(run_or_file)?
            .pop()
            .ok_or_else(|| {
                Error::Input(format!(
                    "{}: no step_*.safetensors checkpoint in it",
                    folder.display()
                ))
            })?
            .1)
    }

    /// Every `step_N.safetensors` in a run's checkpoints folder with its step N, oldest first.
    pub fn list(run: &Path) -> Result<Vec<(u64, PathBuf)>> {
        let folder = run.join("checkpoints");
        let entries = std::fs::read_dir(&folder).map_err(|e| Error::Input(format!(
            "{}: cannot read the run's checkpoints folder ({e}); pass a run folder made by `gan-gpu train` or a checkpoint file",
            folder.display()
        )))?;
        let mut found: Vec<(u64, PathBuf)> = entries
            .flatten()
            .map(|e| e.path())
            .filter_map(|p| Some((checkpoint_step(&p)?, p)))
            .collect();
        found.sort();
        Ok(found)
    }

    /// Refuse a checkpoint whose networks differ from `config`'s.
    pub fn check_architecture(&self, config: &TrainConfig) -> Result<()> {
        for (name, ours, theirs) in [
            ("generator", &config.generator, &self.config.generator),
            (
                "discriminator",
                &config.discriminator,
                &self.config.discriminator,
            ),
        ] {
            if ours != theirs {
                return Err(Error::InvalidData {
                    file: self.path.clone(),
                    field: format!("{name} architecture"),
                    expected: ours.sizes_text(),
                    found: format!(
                        "{} (a checkpoint of another architecture)",
                        theirs.sizes_text()
                    ),
                });
            }
        }
        Ok(())
    }

    /// Put every parameter, optimizer state and counter back on the GPU (setup-time writes).
    pub fn restore(&self, ctx: &GpuContext, graph: &TrainGraph) -> Result<()> {
        self.check_architecture(&graph.config)?;
        let file = &self.path;
        let ema = graph.ema.as_ref().map(|ema| (ema, EMA_PREFIX));
        let networks = [
            (&graph.generator, "generator."),
            (&graph.discriminator, "discriminator."),
        ];
        for (network, prefix) in networks.into_iter().chain(ema) {
            let values = values_from_torch(&self.tensors, &network.spec, prefix, file)?;
            for (view, values) in network.params.views.iter().zip(&values.params) {
                ctx.write(view, values);
            }
            network.write_buffers(ctx, &values.buffers);
        }
        for (name, optimizer) in [
            ("generator", &graph.g_optimizer),
            ("discriminator", &graph.d_optimizer),
        ] {
            for (i, state) in optimizer.state.iter().enumerate() {
                let values = expect_tensor(
                    &self.tensors,
                    &format!("optimizer.{name}.state{i}"),
                    &[state.len()],
                    file,
                )?;
                ctx.write(state, values);
            }
            let settings = expect_tensor(
                &self.tensors,
                &format!("optimizer.{name}.settings"),
                &[4],
                file,
            )?;
            ctx.write(&optimizer.settings, settings);
        }
        for (key, counter) in [
            ("rng_counter", &graph.rng_counter),
            ("batch_counter", &graph.real.counter),
            ("generator_optimizer_step", &graph.g_optimizer.step),
            ("discriminator_optimizer_step", &graph.d_optimizer.step),
        ] {
            let value = metadata_u64(&self.metadata, key, file)?;
            ctx.write(counter, &[value as u32]);
        }
        ctx.wait_idle()
    }
}

/// A trained generator read from a run folder (its newest checkpoint), a checkpoint file or a
/// `generator.safetensors`.
pub struct GeneratorFile {
    /// The file actually read.
    pub path: PathBuf,
    pub config: TrainConfig,
    pub values: NetworkValues,
    pub metadata: HashMap<String, String>,
}

impl GeneratorFile {
    /// The generator on the GPU, with its parameters and running statistics.
    pub fn network(&self, ctx: &GpuContext) -> Result<Network> {
        let network = Network::new(ctx, "G", self.config.generator.clone(), &self.values.params)?;
        network.write_buffers(ctx, &self.values.buffers);
        Ok(network)
    }
}

/// Which generator of a run to load.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Which {
    /// The EMA generator of an `--ema` run, else the trained G: what the run's grids show.
    Sampling,
    /// The trained G itself (`--raw`).
    Raw,
}

/// Load the generator's config and parameters from any of the files `gan-gpu sample` accepts:
/// `which` picks the EMA generator or the trained G of a checkpoint (generator.safetensors
/// holds the sampling generator alone).
pub fn load_generator(path: &Path, which: Which) -> Result<GeneratorFile> {
    let file = Checkpoint::find_latest(path)?;
    let (tensors, metadata) = load_tensors(&file)?;
    let config = TrainConfig::from_metadata(&file, &metadata)?;
    let has = |prefix: &str| tensors.iter().any(|t| t.0.starts_with(prefix));
    let prefix = match (has("generator."), has(EMA_PREFIX), which) {
        (true, true, Which::Sampling) => EMA_PREFIX,
        (true, _, _) => "generator.",
        (false, _, Which::Raw) if config.ema.is_some() => {
            return Err(Error::Input(format!(
                "--raw: {} holds the EMA generator only; pass the run folder or one of its \
                 checkpoints for the trained G",
                file.display()
            )));
        }
        (false, _, _) => "",
    };
    let values = values_from_torch(&tensors, &config.generator, prefix, &file)?;
    Ok(GeneratorFile {
        path: file,
        config,
        values,
        metadata,
    })
}

/// Write `generator.safetensors`: G alone, loadable by `torch.nn.Sequential.load_state_dict`;
/// `batches_tracked` is its batch-norm layers' `num_batches_tracked`.
pub fn save_generator(
    ctx: &GpuContext,
    generator: &Network,
    config: &TrainConfig,
    batches_tracked: u64,
    path: &Path,
) -> Result<()> {
    let tensors = torch_tensors(ctx, generator, "", batches_tracked)?;
    let mut metadata = HashMap::new();
    metadata.insert("format".to_string(), "gan-gpu-generator-1".to_string());
    metadata.insert("config".to_string(), config.to_json());
    save_tensors(path, &tensors, metadata)
}
