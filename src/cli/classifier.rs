//! `gan-gpu classifier train DATA`: the evaluation classifier (an MLP trained with the same
//! kernels as the GANs), written where `gan-gpu eval` looks for it.

use std::path::PathBuf;
use std::time::Instant;

use clap::{Args, Subcommand};

use super::Cli;
use crate::data::load_mnist_folder;
use crate::error::{Error, Result};
use crate::eval::classifier::{ClassifierTraining, default_path, train_classifier};

#[derive(Args, Debug)]
pub struct ClassifierArgs {
    #[command(subcommand)]
    pub command: ClassifierCommand,
}

#[derive(Subcommand, Debug)]
pub enum ClassifierCommand {
    /// Train the classifier on an MNIST-format folder's training split and report its accuracy
    /// on the test split (t10k) after every epoch.
    #[command(allow_negative_numbers = true, after_help = super::examples::CLASSIFIER)]
    Train(TrainClassifierArgs),
}

#[derive(Args, Debug)]
pub struct TrainClassifierArgs {
    /// An MNIST-format folder with train-* and t10k-* IDX files (raw or .gz).
    pub data: PathBuf,
    /// Output file [default: runs/classifier-<data folder name>/classifier.safetensors].
    #[arg(long)]
    pub out: Option<PathBuf>,
    #[arg(long, value_parser = super::whole_number::<usize>)]
    pub epochs: Option<usize>,
    #[arg(long, value_parser = super::whole_number::<usize>)]
    pub batch_size: Option<usize>,
    /// Adam's initial learning rate (decays geometrically to --final-lr).
    #[arg(long)]
    pub lr: Option<f32>,
    #[arg(long)]
    pub final_lr: Option<f32>,
    /// Fraction of the epochs at the initial lr before the decay starts.
    #[arg(long)]
    pub hold: Option<f64>,
    /// Hidden layer sizes, comma-separated; the last is the feature space of FID.
    #[arg(long, value_delimiter = ',', value_parser = super::whole_number::<usize>)]
    pub hidden: Option<Vec<usize>>,
    /// Translate each training image by a random offset of up to this many pixels (0: off).
    #[arg(long)]
    pub max_shift: Option<u32>,
    #[arg(long, default_value_t = 0, value_parser = super::whole_number::<u64>)]
    pub seed: u64,
}

pub fn run(cli: &Cli, args: &ClassifierArgs) -> Result<()> {
    match &args.command {
        ClassifierCommand::Train(args) => train(cli, args),
    }
}

fn train(cli: &Cli, args: &TrainClassifierArgs) -> Result<()> {
    let defaults = ClassifierTraining::default();
    let training = ClassifierTraining {
        hidden: args.hidden.clone().unwrap_or(defaults.hidden),
        epochs: args.epochs.unwrap_or(defaults.epochs),
        batch_size: args.batch_size.unwrap_or(defaults.batch_size),
        lr: args.lr.unwrap_or(defaults.lr),
        final_lr: args.final_lr.unwrap_or(defaults.final_lr),
        hold_fraction: args.hold.unwrap_or(defaults.hold_fraction),
        max_shift: args.max_shift.unwrap_or(defaults.max_shift),
        seed: args.seed,
        report_every: 1,
    };
    training.validate()?;
    let folder = load_mnist_folder(&args.data)?;
    let test = folder.test.as_ref().ok_or_else(|| {
        Error::Input(format!(
            "{}: no test split (t10k-images-idx3-ubyte[.gz] and t10k-labels-idx1-ubyte[.gz]); \
             the classifier's accuracy is measured on it",
            args.data.display()
        ))
    })?;
    let out = args.out.clone().unwrap_or_else(|| default_path(&args.data));
    let ctx = cli.open_gpu()?;
    let description = format!(
        "{} training images from {}",
        folder.train.images.count,
        folder.train.images_path.display()
    );
    crate::errln!(
        "training the classifier {} on {} ({}): {description}, {} epochs, batch {}",
        crate::eval::classifier::Classifier::spec(
            &training,
            folder.train.images.rows * folder.train.images.cols,
            10
        )
        .sizes_text(),
        ctx.adapter_name(),
        ctx.adapter_info.backend,
        training.epochs,
        training.batch_size
    );
    let started = Instant::now();
    let (classifier, reports) = train_classifier(
        &ctx,
        &folder.train,
        test,
        &training,
        &description,
        &mut |r| {
            let percent = |a: Option<f64>| a.map_or("-".into(), |a| format!("{:.2} %", 100.0 * a));
            crate::errln!(
                "epoch {:>3}  loss {:.4}  train accuracy {}  test accuracy {}  ({:.1} s)",
                r.epoch,
                r.loss,
                percent(r.train_accuracy),
                percent(r.test_accuracy),
                r.seconds
            )
        },
    )?;
    let accuracy = reports.last().and_then(|r| r.test_accuracy).unwrap_or(0.0);
    classifier.save(&ctx, &out, accuracy)?;
    crate::outln!(
        "test accuracy {:.2} % on {} images after {:.0} s; wrote {}",
        100.0 * accuracy,
        test.images.count,
        started.elapsed().as_secs_f64(),
        out.display()
    );
    Ok(())
}
