//! The evaluation classifier: an MLP trained by gan-gpu itself (softmax cross-entropy, Adam, the
//! same kernels as the GAN), whose penultimate activations are the feature space of FID and
//! whose class probabilities give the Inception Score and the class histogram.
//!
//! Inputs are pixels in [0, 1] (byte/255), the scale of the Parzen estimate too: a tanh
//! generator's output x goes in as (x + 1)/2. (Measured: [0, 1] inputs train faster than the
//! GAN's [−1, 1], whose background of −1 puts a large constant into every first-layer unit.)

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::checkpoint_io::{load_tensors, save_tensors};
use crate::data::{MnistSplit, SplitMix64};
use crate::error::{Error, Result};
use crate::gpu::{GpuContext, Recorder, Tensor};
use crate::kernels::augment::shift_images;
use crate::kernels::data::{IndexOrder, PixelRange, draw_indices, gather_labels, gather_u8};
use crate::kernels::optim::{adam, adam_count, schedule_step};
use crate::kernels::parzen::affine;
use crate::kernels::random::increment_counter;
use crate::kernels::{Activation, loss};
use crate::nn::init::linear_init;
use crate::nn::torch::{torch_tensors, values_from_torch};
use crate::nn::{MlpSpec, Network, ParamGrads};

pub const FORMAT: &str = "gan-gpu-classifier-1";

/// How the classifier is trained (`gan-gpu classifier train` flags).
#[derive(Clone, Debug, PartialEq)]
pub struct ClassifierTraining {
    /// Hidden layer sizes; the last one is the feature space.
    pub hidden: Vec<usize>,
    pub epochs: usize,
    pub batch_size: usize,
    /// Adam's learning rate: constant for the first `hold_fraction` of the epochs, then
    /// decaying geometrically to `final_lr` at the end.
    pub lr: f32,
    pub final_lr: f32,
    pub hold_fraction: f64,
    /// Each training image is translated by a random offset in [−max_shift, max_shift]² pixels
    /// (0: no augmentation).
    pub max_shift: u32,
    pub seed: u64,
    /// Epochs between accuracy measurements (the last epoch is always measured).
    pub report_every: usize,
}

impl Default for ClassifierTraining {
    /// 784 → 256 → 128 → 10 with ReLU: see README for the measured accuracy and time.
    fn default() -> Self {
        ClassifierTraining {
            hidden: vec![256, 128],
            epochs: 12,
            batch_size: 64,
            lr: 2e-3,
            final_lr: 2e-5,
            hold_fraction: 0.5,
            max_shift: 1,
            seed: 0,
            report_every: 1,
        }
    }
}

impl ClassifierTraining {
    pub fn validate(&self) -> Result<()> {
        if self.epochs == 0 {
            return Err(Error::Input("--epochs: must be at least 1, found 0".into()));
        }
        if self.batch_size == 0 {
            return Err(Error::Input(
                "--batch-size: must be at least 1, found 0".into(),
            ));
        }
        for (flag, lr) in [("--lr", self.lr), ("--final-lr", self.final_lr)] {
            if !(lr.is_finite() && lr > 0.0) {
                return Err(Error::Input(format!(
                    "{flag}: expected a positive finite learning rate, found {lr}"
                )));
            }
        }
        if !(0.0..=1.0).contains(&self.hold_fraction) {
            return Err(Error::Input(format!(
                "--hold: expected a fraction of the epochs in [0, 1], found {}",
                self.hold_fraction
            )));
        }
        if self.hidden.is_empty() || self.hidden.contains(&0) {
            return Err(Error::Input(format!(
                "--hidden: expected one or more positive layer sizes, found {:?}",
                self.hidden
            )));
        }
        Ok(())
    }
}

/// Where `gan-gpu classifier train DATA` writes and `gan-gpu eval` looks by default:
/// runs/classifier-<name of the data folder>/classifier.safetensors.
pub fn default_path(data: &Path) -> PathBuf {
    let name = data
        .canonicalize()
        .ok()
        .as_deref()
        .unwrap_or(data)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "data".into());
    PathBuf::from("runs")
        .join(format!("classifier-{name}"))
        .join("classifier.safetensors")
}

/// Images as the classifier's f32 inputs: byte/255.
pub fn pixels_to_inputs(pixels: &[u8]) -> Vec<f32> {
    pixels.iter().map(|&b| b as f32 / 255.0).collect()
}

/// What the classifier says about a set of inputs.
pub struct ClassifierOutputs {
    pub count: usize,
    /// Logits [count, classes].
    pub logits: Vec<f32>,
    /// Penultimate activations [count, feature_dim].
    pub features: Vec<f32>,
}

impl ClassifierOutputs {
    /// The predicted class of each input (the first of equal maxima).
    pub fn predictions(&self, classes: usize) -> Vec<usize> {
        self.logits
            .chunks_exact(classes)
            .map(|row| {
                row.iter()
                    .enumerate()
                    .fold((0, f32::NEG_INFINITY), |best, (i, &v)| {
                        if v > best.1 { (i, v) } else { best }
                    })
                    .0
            })
            .collect()
    }

    pub fn accuracy(&self, classes: usize, labels: &[u8]) -> f64 {
        let right = self
            .predictions(classes)
            .iter()
            .zip(labels)
            .filter(|(p, l)| **p == **l as usize)
            .count();
        right as f64 / labels.len().max(1) as f64
    }
}

/// A trained classifier on the GPU.
pub struct Classifier {
    pub network: Network,
    pub classes: usize,
    /// Test accuracy recorded when it was trained (from the file's metadata).
    pub test_accuracy: Option<f64>,
    pub description: String,
}

/// Rows per forward pass when classifying a whole set (bounded GPU memory).
const EVAL_BATCH: usize = 1000;

impl Classifier {
    pub fn spec(training: &ClassifierTraining, inputs: usize, classes: usize) -> MlpSpec {
        let mut sizes = vec![inputs];
        sizes.extend(&training.hidden);
        sizes.push(classes);
        MlpSpec::from_sizes(&sizes, Activation::Relu, Activation::Identity)
    }

    pub fn inputs(&self) -> usize {
        self.network.spec.inputs()
    }

    pub fn feature_dim(&self) -> usize {
        let layers = &self.network.spec.layers;
        layers[layers.len() - 1]
            .as_dense()
            .expect("the classifier is an MLP")
            .inputs
    }

    /// Logits and penultimate features of every row of `inputs` ([n, inputs] on the GPU).
    pub fn classify(&self, ctx: &GpuContext, inputs: &Tensor) -> Result<ClassifierOutputs> {
        let dim = self.inputs();
        let count = inputs.len() / dim.max(1);
        if count * dim != inputs.len() || count == 0 {
            return Err(Error::Input(format!(
                "classifier: {} input values are not a non-empty [n, {dim}] set",
                inputs.len()
            )));
        }
        let layers = self.network.spec.layers.len();
        let mut logits = Vec::with_capacity(count * self.classes);
        let mut features = Vec::with_capacity(count * self.feature_dim());
        let mut start = 0;
        // Rows start at multiples of EVAL_BATCH; the copy below needs no binding alignment.
        let batch = EVAL_BATCH.min(count);
        let chunk = ctx.zeros("classifier chunk", &[batch, dim])?;
        let full = self.network.pass(ctx, "classifier", &chunk, batch)?;
        while start < count {
            let rows = batch.min(count - start);
            let tail;
            let pass = if rows == batch {
                &full
            } else {
                let input = chunk.view(0, &[rows, dim]);
                tail = self.network.pass(ctx, "classifier tail", &input, rows)?;
                &tail
            };
            let mut recorder = Recorder::new(ctx);
            recorder.copy(
                &inputs.view(start * dim, &[rows * dim]),
                &chunk.view(0, &[rows * dim]),
            );
            recorder.record_all(&pass.forward);
            recorder.submit()?;
            logits.extend(ctx.read_f32(pass.output())?);
            let penultimate = if layers >= 2 {
                &pass.outputs[layers - 2]
            } else {
                &pass.input
            };
            features.extend(ctx.read_f32(penultimate)?);
            start += rows;
        }
        Ok(ClassifierOutputs {
            count,
            logits,
            features,
        })
    }

    /// Logits and features of u8 images (uploaded as [0, 1] inputs).
    pub fn classify_pixels(&self, ctx: &GpuContext, pixels: &[u8]) -> Result<ClassifierOutputs> {
        let dim = self.inputs();
        let inputs = ctx.upload(
            "classifier inputs",
            &[pixels.len() / dim.max(1), dim],
            &pixels_to_inputs(pixels),
        )?;
        self.classify(ctx, &inputs)
    }

    /// Write the classifier (PyTorch `nn.Sequential` names, [out, in] weights) atomically.
    pub fn save(&self, ctx: &GpuContext, path: &Path, test_accuracy: f64) -> Result<()> {
        let tensors = torch_tensors(ctx, &self.network, "", 0)?;
        let mut metadata = HashMap::new();
        metadata.insert("format".to_string(), FORMAT.to_string());
        metadata.insert(
            "spec".to_string(),
            serde_json::to_string(&self.network.spec).expect("a spec always serialises"),
        );
        metadata.insert("classes".to_string(), self.classes.to_string());
        metadata.insert(
            "inputs".to_string(),
            "pixels in [0, 1] (byte/255)".to_string(),
        );
        metadata.insert("test_accuracy".to_string(), format!("{test_accuracy:.6}"));
        metadata.insert("data".to_string(), self.description.clone());
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
        }
        save_tensors(path, &tensors, metadata)
    }

    /// Read a classifier written by `save`.
    pub fn load(ctx: &GpuContext, path: &Path) -> Result<Classifier> {
        if !path.is_file() {
            return Err(Error::Input(format!(
                "no classifier at {}: train one with `gan-gpu classifier train DATA --out {}` \
                 (DATA: the MNIST-format folder the GAN was trained on)",
                path.display(),
                path.display()
            )));
        }
        let (tensors, metadata) = load_tensors(path)?;
        let field = |key: &str| {
            metadata.get(key).ok_or_else(|| {
                Error::invalid(
                    path,
                    format!("metadata {key:?}"),
                    "a gan-gpu classifier file (gan-gpu classifier train)",
                    "no such key",
                )
            })
        };
        let format = field("format")?;
        if format != FORMAT {
            return Err(Error::invalid(
                path,
                "metadata \"format\"",
                FORMAT,
                format.clone(),
            ));
        }
        let spec: MlpSpec = serde_json::from_str(field("spec")?)
            .map_err(|e| Error::invalid(path, "metadata \"spec\"", "an MLP spec", e.to_string()))?;
        spec.validate("classifier")?;
        let parameters = values_from_torch(&tensors, &spec.clone().into(), "", path)?.params;
        let classes = spec.outputs();
        let network = Network::new(ctx, "classifier", spec, &parameters)?;
        Ok(Classifier {
            network,
            classes,
            test_accuracy: metadata.get("test_accuracy").and_then(|a| a.parse().ok()),
            description: metadata.get("data").cloned().unwrap_or_default(),
        })
    }
}

/// One line of training progress.
#[derive(Clone, Debug, PartialEq)]
pub struct EpochReport {
    pub epoch: usize,
    /// Mean training loss over the epoch.
    pub loss: f64,
    /// Accuracy on 2,000 training images and on the test set (measured every
    /// `report_every` epochs and after the last).
    pub train_accuracy: Option<f64>,
    pub test_accuracy: Option<f64>,
    /// Training and measuring time.
    pub seconds: f64,
}

/// Train a classifier on `train` (u8 images with labels) and report each epoch's accuracy on
/// `test`; `report` is called after every epoch. The data, batches and optimizer stay on the
/// GPU; an epoch is one submission.
pub fn train_classifier(
    ctx: &GpuContext,
    train: &MnistSplit,
    test: &MnistSplit,
    training: &ClassifierTraining,
    description: &str,
    report: &mut dyn FnMut(&EpochReport),
) -> Result<(Classifier, Vec<EpochReport>)> {
    training.validate()?;
    let dim = train.images.rows * train.images.cols;
    let count = train.images.count;
    if count == 0 || train.labels.len() != count {
        return Err(Error::Input(format!(
            "{}: no labelled training images",
            train.images_path.display()
        )));
    }
    let classes = (*train.labels.iter().max().unwrap_or(&0) as usize + 1).max(2);
    let spec = Classifier::spec(training, dim, classes);
    let network = Network::new(
        ctx,
        "classifier",
        spec.clone(),
        &linear_init(&spec, training.seed ^ 0x434C_4153),
    )?;
    let batch = training.batch_size;

    let dataset = ctx.upload_bytes("classifier images", &train.images.pixels)?;
    let labels_all = ctx.upload_bytes("classifier labels", &train.labels)?;
    let indices = ctx.zeros("classifier indices", &[batch])?;
    let gathered = ctx.zeros("classifier gathered batch", &[batch, dim])?;
    let unit = ctx.zeros("classifier unit batch", &[batch, dim])?;
    let inputs = ctx.zeros("classifier batch", &[batch, dim])?;
    let labels = ctx.zeros("classifier batch labels", &[batch])?;
    let counter = ctx.upload("classifier batch counter", &[1], &[0u32])?;
    let metrics = ctx.zeros("classifier loss", &[1])?;
    let pass = network.pass(ctx, "classifier", &inputs, batch)?;

    let steps_per_epoch = count.div_ceil(batch);
    // The lr holds for the first `hold_epochs`, then lr_t = max(lr / decay^t, final_lr) reaches
    // final_lr at the last step (measured: decaying from the start stalls the loss early).
    let hold_epochs = ((training.epochs as f64 * training.hold_fraction).round() as usize)
        .min(training.epochs - 1);
    let decay_steps = (steps_per_epoch * (training.epochs - hold_epochs)) as f64;
    let decay = ((training.lr as f64 / training.final_lr as f64).max(1.0)).powf(1.0 / decay_steps);
    let params = &network.params.whole;
    let moments = [
        ctx.zeros("classifier adam m", params.shape())?,
        ctx.zeros("classifier adam v", params.shape())?,
    ];
    let settings = ctx.upload(
        "classifier adam settings",
        &[4],
        &[training.lr, 0.9, 0.999, 1e-8],
    )?;
    let adam_step = ctx.upload("classifier adam step", &[1], &[0u32])?;

    let mut step = vec![
        draw_indices(
            ctx,
            &indices,
            count as u32,
            IndexOrder::Shuffled,
            training.seed,
            1,
            &counter,
        )?,
        gather_labels(ctx, &labels_all, &indices, &labels)?,
    ];
    // gather_u8 gives byte/127.5 − 1; the classifier reads (x + 1)/2 = byte/255, shifted.
    step.push(gather_u8(
        ctx,
        &dataset,
        &indices,
        &gathered,
        dim,
        PixelRange::MinusOneToOne,
    )?);
    if training.max_shift == 0 {
        step.push(affine(ctx, &gathered, &inputs, 0.5, 0.5)?);
    } else {
        step.push(affine(ctx, &gathered, &unit, 0.5, 0.5)?);
        step.push(shift_images(
            ctx,
            &unit,
            &inputs,
            (train.images.rows, train.images.cols),
            training.max_shift,
            0.0, // background: byte 0
            training.seed,
            2,
            &counter,
        )?);
    }
    step.push(increment_counter(ctx, &counter)?);
    step.extend(pass.forward.iter().cloned());
    step.push(loss::softmax_cross_entropy(
        ctx,
        pass.output(),
        &labels,
        &metrics,
        0,
        true,
    )?);
    step.push(loss::softmax_cross_entropy_backward(
        ctx,
        pass.output(),
        &labels,
        pass.output_grad(),
    )?);
    step.extend(network.backward(ctx, &pass, ParamGrads::Overwrite, None)?);
    let corrections = ctx.zeros("classifier Adam bias corrections", &[2])?;
    step.push(adam_count(ctx, &adam_step, &settings, &corrections)?);
    step.push(adam(
        ctx,
        params,
        &network.gradients()?.whole,
        &moments[0],
        &moments[1],
        &settings,
        &corrections,
        network.params_texture.as_ref(),
    )?);
    let hold_step = step.clone();
    step.push(schedule_step(
        ctx,
        &settings,
        decay as f32,
        training.final_lr,
        0.0,
        0.9,
    )?);

    let mut classifier = Classifier {
        network,
        classes,
        test_accuracy: None,
        description: description.to_string(),
    };
    let test_inputs = ctx.upload(
        "classifier test inputs",
        &[test.images.count, dim],
        &pixels_to_inputs(&test.images.pixels),
    )?;
    // Training accuracy on a fixed subset (the whole set would double the epoch's cost).
    let subset = train_subset(count, 2000, training.seed);
    let subset_pixels: Vec<u8> = subset
        .iter()
        .flat_map(|&i| train.images.image(i).unwrap_or_default().iter().copied())
        .collect();
    let subset_labels: Vec<u8> = subset.iter().map(|&i| train.labels[i]).collect();
    let subset_inputs = ctx.upload(
        "classifier train subset",
        &[subset.len(), dim],
        &pixels_to_inputs(&subset_pixels),
    )?;

    let mut reports = Vec::new();
    for epoch in 1..=training.epochs {
        let started = Instant::now();
        let mut recorder = Recorder::new(ctx);
        recorder.clear(&metrics);
        for _ in 0..steps_per_epoch {
            recorder.record_all(if epoch <= hold_epochs {
                &hold_step
            } else {
                &step
            });
        }
        recorder.submit()?;
        let loss_sum = ctx.read_f32(&metrics)?[0] as f64;
        let measure = epoch % training.report_every.max(1) == 0 || epoch == training.epochs;
        let accuracy = |inputs: &Tensor, labels: &[u8]| -> Result<Option<f64>> {
            if !measure {
                return Ok(None);
            }
            Ok(Some(
                classifier.classify(ctx, inputs)?.accuracy(classes, labels),
            ))
        };
        let line = EpochReport {
            epoch,
            loss: loss_sum / steps_per_epoch as f64,
            train_accuracy: accuracy(&subset_inputs, &subset_labels)?,
            test_accuracy: accuracy(&test_inputs, &test.labels)?,
            seconds: started.elapsed().as_secs_f64(),
        };
        if !line.loss.is_finite() {
            return Err(Error::Input(format!(
                "classifier training diverged in epoch {epoch} (loss {}); try a smaller --lr",
                line.loss
            )));
        }
        report(&line);
        reports.push(line);
    }
    classifier.test_accuracy = reports.last().and_then(|r| r.test_accuracy);
    Ok((classifier, reports))
}

/// `n` distinct example indices in increasing order (all of them if there are fewer).
fn train_subset(count: usize, n: usize, seed: u64) -> Vec<usize> {
    if count <= n {
        return (0..count).collect();
    }
    let mut rng = SplitMix64::new(seed ^ 0x5355_4253);
    let mut chosen: Vec<usize> = (0..count).collect();
    for i in 0..n {
        let j = i + rng.below((count - i) as u64) as usize;
        chosen.swap(i, j);
    }
    chosen.truncate(n);
    chosen.sort_unstable();
    chosen
}
