//! `gan-gpu bench`: kernel and training throughput with the adapter's name.

use clap::{Args, ValueEnum};

use super::Cli;
use crate::bench;
use crate::bench::train::BenchModel;
use crate::error::{Error, Result};
use crate::gpu::GpuContext;
use crate::kernels::matmul::{MatmulKernel, MatmulTuning};
use crate::kernels::matmul_tuning::describe_in_use;
use crate::kernels::tuning_cache::{self, ClassChoice};

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum BenchTarget {
    /// GFLOP/s of each matmul layout on the reference MLP's shapes.
    Matmul,
    /// Training iterations per second of a whole GAN (--model mlp or dcgan), beside PyTorch.
    Train,
    /// GFLOP/s of each conv layer of the DCGAN MNIST model (forward, input and weight gradient).
    Conv,
}

impl BenchTarget {
    fn name(self) -> &'static str {
        match self {
            BenchTarget::Matmul => "matmul",
            BenchTarget::Train => "train",
            BenchTarget::Conv => "conv",
        }
    }
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum KernelChoice {
    All,
    Auto,
    Tiled,
    Subgroup8,
    Texture,
    TiledTexture,
    TextureRows32,
    TextureRows48,
}

#[derive(Args, Debug)]
pub struct BenchArgs {
    /// What to measure.
    #[arg(value_enum, default_value = "matmul")]
    pub target: BenchTarget,
    /// Batch sizes to measure (comma-separated; default 64,256, and 64 for `bench conv`).
    #[arg(long, visible_alias = "batch-size", value_delimiter = ',')]
    pub batch: Vec<usize>,
    /// `bench conv`: calls per measurement (default: as many as fill --seconds).
    #[arg(long)]
    pub repeats: Option<usize>,
    /// Seconds each measurement should last (more is steadier).
    #[arg(long, default_value_t = 1.0)]
    pub seconds: f64,
    /// Matmul workgroup width (invocations along output columns; --tune tries its own).
    #[arg(long, default_value_t = MatmulTuning::default().workgroup_x)]
    pub workgroup_x: u32,
    /// Matmul workgroup height (invocations along output rows).
    #[arg(long, default_value_t = MatmulTuning::default().workgroup_y)]
    pub workgroup_y: u32,
    /// `bench matmul`: which kernel(s) to measure (all: every kernel this adapter can run).
    #[arg(long, value_enum, default_value = "all")]
    pub kernel: KernelChoice,
    /// Try every matmul kernel and workgroup shape this adapter can run (those of --kernel
    /// unless it is all) on the reference MLP's shapes at --batch, and save the fastest per
    /// layout and size class in the user's cache folder (matmul-tuning.json under ~/.cache/gan-gpu
    /// on Linux, or $GAN_GPU_CACHE_DIR), keyed by adapter, driver and gan-gpu version. Every
    /// later command on this adapter uses the saved choices; `gan-gpu info` shows them.
    #[arg(long)]
    pub tune: bool,
    /// `bench train`: skip the side-by-side PyTorch run (made when python3 can import torch).
    #[arg(long)]
    pub no_pytorch: bool,
    /// `bench train`: the GAN to train (mlp: the reference MLP, pytorch-gan; dcgan: the dcgan
    /// preset's convolutional networks).
    #[arg(long, value_enum, default_value = "mlp")]
    pub model: BenchModel,
}

pub fn run(cli: &Cli, args: &BenchArgs) -> Result<()> {
    let batches: Vec<usize> = match (args.batch.is_empty(), args.target) {
        (false, _) => args.batch.clone(),
        (true, BenchTarget::Conv) => vec![64],
        (true, _) => vec![64, 256],
    };
    if batches.contains(&0) {
        return Err(Error::Input(
            "--batch: batch sizes must be at least 1".into(),
        ));
    }
    if args.repeats == Some(0) {
        return Err(Error::Input("--repeats: must be at least 1".into()));
    }
    if !(args.seconds.is_finite() && args.seconds > 0.0) {
        return Err(Error::Input(format!(
            "--seconds: expected a positive number, found {}",
            args.seconds
        )));
    }
    if args.tune && !matches!(args.target, BenchTarget::Matmul) {
        return Err(Error::Input(format!(
            "--tune: tunes the matmul kernels, so it goes with `bench matmul` (or plain `bench`), not `bench {}`",
            args.target.name()
        )));
    }
    for (flag, size) in [
        ("--workgroup-x", args.workgroup_x),
        ("--workgroup-y", args.workgroup_y),
    ] {
        if size == 0 {
            return Err(Error::Input(format!("{flag}: must be at least 1, found 0")));
        }
    }
    let ctx = cli.open_gpu()?;
    let invocations = u64::from(args.workgroup_x) * u64::from(args.workgroup_y);
    let most = u64::from(ctx.limits.max_compute_invocations_per_workgroup);
    if invocations > most {
        return Err(Error::Input(format!(
            "--workgroup-x {} --workgroup-y {}: {invocations} invocations per workgroup; {} \
             allows at most {most}",
            args.workgroup_x,
            args.workgroup_y,
            ctx.adapter_name()
        )));
    }
    if args.tune {
        return tune(&ctx, args, &batches);
    }
    match args.target {
        BenchTarget::Train => {
            let model = match args.model {
                BenchModel::Mlp => "reference MLP GAN",
                BenchModel::Dcgan => "dcgan preset, width 64",
            };
            crate::outln!(
                "train ({model}, nsgan, Adam, k = 1) on {} ({:?})",
                ctx.adapter_name(),
                ctx.adapter_info.backend
            );
            let ours = bench::train::run(&ctx, args.model, &batches, args.seconds)?;
            let pytorch = if args.no_pytorch {
                None
            } else if let Some(reason) = bench::pytorch::unavailable_reason() {
                crate::outln!("PyTorch side by side: skipped, {reason}");
                None
            } else {
                Some(bench::pytorch::run(
                    args.model.name(),
                    &batches,
                    args.seconds,
                )?)
            };
            if let Some(first) = pytorch.as_ref().and_then(|rows| rows.first()) {
                crate::outln!(
                    "beside PyTorch {} eager on the CPU, {} threads, same model and batch",
                    first.version,
                    first.threads
                );
            }
            crate::outln!(
                "{:>6} {:>10} {:>12} {:>10} {:>12} {:>14}",
                "batch",
                "it/s",
                "dispatches",
                "GFLOP/s",
                "PyTorch it/s",
                "gan-gpu/PyTorch"
            );
            for row in &ours {
                let torch = pytorch
                    .iter()
                    .flatten()
                    .find(|t| t.batch == row.batch)
                    .map(|t| t.it_per_s);
                let (torch_text, ratio_text) = match torch {
                    Some(t) => (format!("{t:.2}"), format!("{:.3}", row.it_per_s / t)),
                    None => ("-".into(), "-".into()),
                };
                crate::outln!(
                    "{:>6} {:>10.2} {:>12} {:>10.2} {:>12} {:>14}",
                    row.batch,
                    row.it_per_s,
                    row.dispatches_per_iteration,
                    row.it_per_s * row.flops_per_iteration / 1e9,
                    torch_text,
                    ratio_text
                );
            }
            for row in &ours {
                crate::outln!("batch {}: {}", row.batch, row.memory);
                crate::outln!("batch {}: {}", row.batch, row.first_iteration);
            }
        }
        BenchTarget::Conv => {
            crate::outln!(
                "conv (DCGAN MNIST layers, im2col + {} matmul) on {} ({:?})",
                MatmulKernel::Auto.resolve(&ctx).name(),
                ctx.adapter_name(),
                ctx.adapter_info.backend
            );
            crate::outln!(
                "{:<22} {:>6} {:>12} {:>12} {:>10}",
                "layer",
                "batch",
                "pass",
                "ms/call",
                "GFLOP/s"
            );
            for &batch in &batches {
                for row in bench::conv::run(&ctx, batch, args.repeats, args.seconds)? {
                    crate::outln!(
                        "{:<22} {:>6} {:>12} {:>12.3} {:>10.2}",
                        row.layer,
                        row.batch,
                        row.pass.name(),
                        row.seconds * 1e3,
                        row.gflops()
                    );
                }
            }
        }
        BenchTarget::Matmul => {
            let kernels = args.kernel.kernels(&ctx);
            crate::outln!(
                "matmul on {} ({:?}); tiled workgroup {}×{} with a 4×4 tile per invocation",
                ctx.adapter_name(),
                ctx.adapter_info.backend,
                args.workgroup_x,
                args.workgroup_y
            );
            crate::outln!("auto: {}", describe_in_use(&ctx));
            crate::outln!(
                "{:<28} {:>8} {:>14} {:>10} {:>10} {:>16}",
                "shapes",
                "layout",
                "kernel",
                "ms/run",
                "GFLOP/s",
                "w/o copies ms"
            );
            for kernel in kernels {
                let tuning = MatmulTuning {
                    workgroup_x: args.workgroup_x,
                    workgroup_y: args.workgroup_y,
                    kernel,
                };
                for row in bench::matmul::run(&ctx, &batches, tuning, args.seconds)? {
                    let without_copies = match row.seconds_without_copies {
                        Some(seconds) => format!("{:.3}", seconds * 1e3),
                        None => "-".into(),
                    };
                    crate::outln!(
                        "{:<28} {:>8} {:>14} {:>10.3} {:>10.2} {:>16}",
                        row.label,
                        row.layout.name(),
                        kernel.name(),
                        row.seconds * 1e3,
                        row.gflops(),
                        without_copies
                    );
                }
            }
        }
    }
    Ok(())
}

impl KernelChoice {
    /// The kernels this choice names (all: every kernel the adapter can run).
    fn kernels(self, ctx: &GpuContext) -> Vec<MatmulKernel> {
        match self {
            KernelChoice::All => MatmulKernel::available(ctx),
            KernelChoice::Auto => vec![MatmulKernel::Auto],
            KernelChoice::Tiled => vec![MatmulKernel::Tiled],
            KernelChoice::Subgroup8 => vec![MatmulKernel::Subgroup8],
            KernelChoice::Texture => vec![MatmulKernel::Texture],
            KernelChoice::TiledTexture => vec![MatmulKernel::TiledTexture],
            KernelChoice::TextureRows32 => vec![MatmulKernel::TextureRows32],
            KernelChoice::TextureRows48 => vec![MatmulKernel::TextureRows48],
        }
    }
}

/// `bench --tune`: time the candidates per shape class, print the table, save the winners.
fn tune(ctx: &GpuContext, args: &BenchArgs, batches: &[usize]) -> Result<()> {
    let kernels: Vec<MatmulKernel> = match args.kernel {
        // Auto is not a kernel to tune: tune everything.
        KernelChoice::Auto => MatmulKernel::available(ctx),
        choice => choice.kernels(ctx),
    };
    let candidates = bench::tune::candidates(ctx, &kernels);
    if candidates.is_empty() {
        return Err(Error::Input(format!(
            "--kernel: {} cannot run here ({} has no 8-wide subgroups)",
            kernels
                .iter()
                .map(|k| k.name())
                .collect::<Vec<_>>()
                .join(", "),
            ctx.adapter_name()
        )));
    }
    crate::outln!(
        "tuning matmul on {} ({:?}, {}): {} candidates on the reference MLP's shapes at batch {}",
        ctx.adapter_name(),
        ctx.adapter_info.backend,
        ctx.adapter_info.driver_info,
        candidates.len(),
        batches
            .iter()
            .map(|b| b.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );
    crate::outln!(
        "{:<8} {:<22} {:>6} {:>20} {:>8} {:>20} {:>8} {:>20} {:>8} {:>8}",
        "layout",
        "size",
        "shapes",
        "best",
        "GFLOP/s",
        "runner-up",
        "GFLOP/s",
        "built-in",
        "GFLOP/s",
        "speed-up"
    );
    let results = bench::tune::run(ctx, &kernels, batches, args.seconds, |result| {
        let Some((best, _)) = result.best() else {
            crate::outln!(
                "{:<8} {:<22} every candidate failed",
                result.class.layout.name(),
                result.class.size.name()
            );
            return;
        };
        let best_gflops = result.gflops_of(best).unwrap_or(0.0);
        let builtin = result.builtin;
        let builtin_gflops = result.gflops_of(builtin);
        let (runner_up, runner_up_gflops) = match result.ranked().get(1) {
            Some(&(choice, _)) => (
                choice.describe(),
                format!("{:.2}", result.gflops_of(choice).unwrap_or(0.0)),
            ),
            None => ("-".into(), "-".into()),
        };
        crate::outln!(
            "{:<8} {:<22} {:>6} {:>20} {:>8.2} {:>20} {:>8} {:>20} {:>8} {:>8}",
            result.class.layout.name(),
            result.class.size.name(),
            result.shapes,
            best.describe(),
            best_gflops,
            runner_up,
            runner_up_gflops,
            builtin.describe(),
            builtin_gflops.map_or("-".into(), |g| format!("{g:.2}")),
            builtin_gflops.map_or("-".into(), |g| format!("{:.2}×", best_gflops / g))
        );
    })?;
    let choices: Vec<ClassChoice> = results
        .iter()
        .filter_map(|result| {
            let (best, _) = result.best()?;
            Some(ClassChoice {
                layout: result.class.layout,
                size: result.class.size,
                kernel: best.kernel,
                workgroup_x: best.workgroup_x,
                workgroup_y: best.workgroup_y,
                gflops: result.gflops_of(best)?,
                builtin_gflops: result.gflops_of(result.builtin).unwrap_or(0.0),
            })
        })
        .collect();
    let path = tuning_cache::save(ctx, choices)?;
    crate::outln!(
        "saved to {}: training, eval and bench on this adapter now use these choices",
        path.display()
    );
    Ok(())
}
