//! Evaluation of trained generators: Parzen-window log-likelihood on the GPU, a classifier
//! trained by gan-gpu whose features give FID, Inception Score, the class histogram and the
//! k-NN manifold scores (precision, recall, density, coverage), and mode coverage on the 2-D toy
//! sets.
//!
//! `Evaluator::new` loads what does not change between evaluations of one run (test and held-out
//! images on the GPU, the classifier, the test set's feature statistics and the real-data floor);
//! `Evaluator::evaluate` scores one generator. `gan-gpu eval` does both once; a training loop can
//! keep the evaluator and call `evaluate` every N steps (`EvalReport::metrics` gives the columns).

pub mod classifier;
pub mod during_training;
pub mod fid;
pub mod generate;
pub mod manifold;
pub mod nearest;
pub mod parzen;
pub mod scores;
pub mod tiles;

use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::Serialize;

use crate::data::{Toy, ToySet, load_mnist_folder, mode_stats};
use crate::error::{Error, Result};
use crate::gan::{DataSource, Prior, TrainConfig};
use crate::gpu::{GpuContext, Recorder, Tensor};
use crate::kernels::parzen::affine;
use crate::nn::Network;
use crate::report::metric_column::MetricColumn;
use classifier::{Classifier, ClassifierOutputs, pixels_to_inputs};
use fid::{GaussianStats, frechet_distance};
use manifold::{Manifold, ManifoldScores};
use nearest::{NearestReport, NearestSearch, mean_distance};
use parzen::{ParzenReport, ParzenWindow, paper_sigmas, parzen_estimate};
use scores::{class_histogram, histogram_kl, inception_score, softmax_rows};
use tiles::Tiling;

/// What to compute, and how much of it (defaults: the paper's sizes).
#[derive(Clone, Debug)]
pub struct EvalOptions {
    /// The data folder, instead of the one in the run's config.
    pub data: Option<PathBuf>,
    /// The classifier file [default: `classifier::default_path(data)`].
    pub classifier: Option<PathBuf>,
    /// Skip FID, IS and the class histogram (no classifier needed).
    pub skip_classifier: bool,
    /// Generator samples: the Parzen window's centres and the classifier scores' sample.
    pub samples: usize,
    /// Test images the Parzen estimate averages over (0: no Parzen estimate).
    pub parzen_test: usize,
    /// Held-out training images that choose σ.
    pub parzen_validation: usize,
    pub sigmas: Vec<f64>,
    pub tiling: Tiling,
    /// Also estimate the Parzen log-likelihood with `samples` real training images (never the
    /// held-out ones) as the window: what the metric gives the data itself at this size.
    pub parzen_real: bool,
    /// Generator samples for the toy sets' mode statistics.
    pub toy_samples: usize,
    pub seed: u64,
    /// Generator samples and test images whose nearest training image is found (the
    /// memorisation check; 0: none).
    pub nearest: usize,
    /// Feature vectors per set of precision, recall, density and coverage (0: none): at most
    /// this many generated samples against as many test images, and the floor of the next as
    /// many test images against the same ones (all three sets one size: the smallest of this,
    /// `samples` and half the test set).
    pub pr_samples: usize,
    /// k of their k-NN balls.
    pub pr_k: usize,
    /// How errors name the size flags: "--" (`eval`) or "--eval-" (`train --eval-every`).
    pub flag_prefix: &'static str,
}

/// Samples and test images of `eval`'s nearest-training-image check by default.
pub const DEFAULT_NEAREST: usize = 1_000;

/// The paper's evaluation sizes (Goodfellow et al. 2014, Breuleux et al.'s `parzen_ll.py`):
/// 10,000 generator samples, 10,000 test images, 1,000 held-out images to choose σ. The one
/// place they live: `eval`'s flags, `train --eval-*` and both option structs take them here.
pub const DEFAULT_SAMPLES: usize = 10_000;
pub const DEFAULT_PARZEN_TEST: usize = 10_000;
pub const DEFAULT_PARZEN_VALIDATION: usize = 1_000;

impl Default for EvalOptions {
    fn default() -> Self {
        EvalOptions {
            data: None,
            classifier: None,
            skip_classifier: false,
            samples: DEFAULT_SAMPLES,
            parzen_test: DEFAULT_PARZEN_TEST,
            parzen_validation: DEFAULT_PARZEN_VALIDATION,
            sigmas: paper_sigmas(),
            tiling: Tiling::default(),
            parzen_real: false,
            toy_samples: 2_500,
            seed: 0,
            nearest: DEFAULT_NEAREST,
            pr_samples: manifold::DEFAULT_SAMPLES,
            pr_k: manifold::DEFAULT_K,
            flag_prefix: "--",
        }
    }
}

/// FID, Inception Score and class histogram of one sample set against a reference set.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ClassifierScores {
    /// Size of the scored set and of the reference set it is compared with.
    pub samples: usize,
    pub reference: usize,
    /// Fréchet distance in the classifier's penultimate feature space.
    pub fid: f64,
    /// exp(E KL(p(y|x) ‖ p(y))) with the evaluation classifier.
    pub inception_score: f64,
    /// Predicted classes of the scored set.
    pub class_histogram: Vec<usize>,
    /// KL(reference histogram ‖ scored histogram), both with one pseudo-count per class.
    pub class_kl: f64,
    /// Precision, recall, density and coverage in the same feature space, against the first
    /// `pr_samples` test images (not computed with `pr_samples` 0).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub manifold: Option<ManifoldScores>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ClassifierInfo {
    pub file: String,
    pub test_accuracy: Option<f64>,
    pub feature_dim: usize,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ToyReport {
    pub set: String,
    pub samples: usize,
    pub modes_captured: usize,
    pub modes: usize,
    /// Percentage of samples within 3 standard deviations of their nearest mode.
    pub high_quality_percent: f64,
    pub high_quality_per_mode: Vec<usize>,
}

/// metrics.csv columns of the Parzen estimate, the classifier scores and the toy statistics:
/// what `EvalReport::metrics` gives and `Evaluator::columns` announces.
const PARZEN_COLUMNS: [MetricColumn; 2] = [MetricColumn::ParzenLl, MetricColumn::ParzenSe];
const CLASSIFIER_COLUMNS: [MetricColumn; 3] = [
    MetricColumn::Fid,
    MetricColumn::InceptionScore,
    MetricColumn::ClassKl,
];
const MANIFOLD_COLUMNS: [MetricColumn; 4] = [
    MetricColumn::Precision,
    MetricColumn::Recall,
    MetricColumn::Density,
    MetricColumn::Coverage,
];
const TOY_COLUMNS: [MetricColumn; 2] = [
    MetricColumn::ModesCaptured,
    MetricColumn::HighQualityPercent,
];

/// Everything one evaluation found; serialised as eval.json.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EvalReport {
    pub generator: String,
    pub step: Option<u64>,
    pub data: String,
    pub parzen: Option<ParzenReport>,
    /// The same estimate with real training images as the window (`--parzen-real`).
    pub parzen_real: Option<ParzenReport>,
    pub classifier: Option<ClassifierInfo>,
    /// The generator's samples against the test set.
    pub generated: Option<ClassifierScores>,
    /// The same scores for real images: the test set's first half against its second half.
    pub real_floor: Option<ClassifierScores>,
    pub toy: Option<ToyReport>,
    /// Mean distance to the nearest training image, of samples and of test images.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nearest: Option<NearestReport>,
    /// A conditional run: the classifier's accuracy on samples drawn for each class.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub class_accuracy: Option<ClassAccuracy>,
    pub warnings: Vec<String>,
    pub seconds: f64,
}

/// How often a conditional generator draws the class it is asked for, by the classifier.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ClassAccuracy {
    pub samples_per_class: usize,
    /// The fraction of class c's samples classified as c, for each c.
    pub per_class: Vec<f64>,
    pub mean: f64,
}

impl EvalReport {
    /// (column, value) pairs for metrics.csv: whatever this evaluation computed.
    pub fn metrics(&self) -> Vec<(MetricColumn, f64)> {
        let mut columns = Vec::new();
        if let Some(p) = &self.parzen {
            columns.extend(PARZEN_COLUMNS.into_iter().zip([p.mean, p.standard_error]));
        }
        if let Some(g) = &self.generated {
            let values = [g.fid, g.inception_score, g.class_kl];
            columns.extend(CLASSIFIER_COLUMNS.into_iter().zip(values));
            if let Some(m) = &g.manifold {
                let values = [m.precision, m.recall, m.density, m.coverage];
                columns.extend(MANIFOLD_COLUMNS.into_iter().zip(values));
            }
        }
        if let Some(t) = &self.toy {
            let values = [t.modes_captured as f64, t.high_quality_percent];
            columns.extend(TOY_COLUMNS.into_iter().zip(values));
        }
        if let Some(a) = &self.class_accuracy {
            columns.push((MetricColumn::ClassAccuracy, a.mean));
        }
        columns
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a report always serialises")
    }

    /// The report as a plain-text table.
    pub fn table(&self) -> String {
        let mut out = format!("evaluation of {}", self.generator);
        if let Some(step) = self.step {
            out += &format!(" (step {step})");
        }
        out += &format!(" on {}\n", self.data);
        if let Some(t) = &self.toy {
            out += &format!(
                "  modes captured          {} of {} ({} samples; ≥ {} high-quality samples each)\n",
                t.modes_captured,
                t.modes,
                t.samples,
                crate::data::ModeCriteria::scaled_for(t.samples).min_high_quality
            );
            out += &format!(
                "  high-quality samples    {:.1} % (within 3 σ of a mode)\n",
                t.high_quality_percent
            );
        }
        if let Some(p) = &self.parzen {
            out += &format!(
                "  Parzen log-likelihood   {:.1} ± {:.1} nats (σ = {:.3} chosen on {} held-out images; \
                 {} samples, {} test images)\n",
                p.mean, p.standard_error, p.sigma, p.validation_points, p.samples, p.test_points
            );
        }
        if let Some(p) = &self.parzen_real {
            out += &format!(
                "  Parzen, real images     {:.1} ± {:.1} nats (σ = {:.3}; {} training images as the \
                 window: the data's own score at this size)\n",
                p.mean, p.standard_error, p.sigma, p.samples
            );
        }
        if let (Some(g), Some(r)) = (&self.generated, &self.real_floor) {
            out += &format!("  {:<24}{:>14}{:>16}\n", "", "generated", "real (floor)");
            let sizes = |s: &ClassifierScores| format!("{} vs {}", s.samples, s.reference);
            out += &format!(
                "  {:<24}{:>14}{:>16}\n",
                "images compared",
                sizes(g),
                sizes(r)
            );
            out += &format!(
                "  {:<24}{:>14.3}{:>16.3}\n",
                "FID (classifier)", g.fid, r.fid
            );
            out += &format!(
                "  {:<24}{:>14.3}{:>16.3}\n",
                "Inception score", g.inception_score, r.inception_score
            );
            out += &format!(
                "  {:<24}{:>14.4}{:>16.4}\n",
                "class KL(real ‖ gen)", g.class_kl, r.class_kl
            );
            if let Some(m) = &g.manifold {
                out += &manifold_rows(m, r.manifold.as_ref());
            }
            out += &format!("  class histogram (gen)   {:?}\n", g.class_histogram);
            out += &format!("  class histogram (real)  {:?}\n", r.class_histogram);
        }
        if let Some(n) = &self.nearest {
            out += &format!(
                "  nearest training image  {:.3} (mean distance of {} samples; test images: {:.3} \
                 over {}; pixels in [0, 1], {} training images)\n",
                n.generated_mean_distance,
                n.samples,
                n.test_mean_distance,
                n.test_images,
                n.training_images
            );
        }
        if let Some(a) = &self.class_accuracy {
            let per_class: Vec<String> = a
                .per_class
                .iter()
                .map(|v| format!("{:.1}", 100.0 * v))
                .collect();
            out += &format!(
                "  class accuracy          {:.1} % (the classifier's agreement with the class G \
                 was asked for; {} samples a class)\n  per class (%)           {}\n",
                100.0 * a.mean,
                a.samples_per_class,
                per_class.join(" ")
            );
        }
        if let Some(c) = &self.classifier {
            out += &format!(
                "  classifier              {} ({} features, test accuracy {})\n",
                c.file,
                c.feature_dim,
                c.test_accuracy
                    .map_or("unknown".to_string(), |a| format!("{:.2} %", 100.0 * a))
            );
        }
        for warning in &self.warnings {
            out += &format!("  warning: {warning}\n");
        }
        out += &format!("  ({:.1} s)\n", self.seconds);
        out
    }
}

/// The table's precision, recall, density and coverage rows: generated, then the real floor
/// (the next test images against the same real set; "–" if a report lacks it).
fn manifold_rows(generated: &ManifoldScores, floor: Option<&ManifoldScores>) -> String {
    let sizes = |m: &ManifoldScores| format!("{} vs {}", m.generated, m.real);
    let mut out = format!(
        "  {:<24}{:>14}{:>16}\n",
        format!("k-NN sets (k = {})", generated.k),
        sizes(generated),
        floor.map_or("–".to_string(), sizes)
    );
    let values = |m: &ManifoldScores| [m.precision, m.recall, m.density, m.coverage];
    let floor_values = floor.map(values);
    for (i, label) in ["precision", "recall", "density", "coverage"]
        .into_iter()
        .enumerate()
    {
        out += &format!(
            "  {label:<24}{:>14.3}{:>16}\n",
            values(generated)[i],
            floor_values.map_or("–".to_string(), |f| format!("{:.3}", f[i]))
        );
    }
    out
}

/// The run's held-out count from its config.json (or a checkpoint's config metadata): the last
/// `holdout` training examples were never trained on. Absent or 0: none.
pub fn holdout_of(config_json: &serde_json::Value) -> usize {
    config_json
        .get("holdout")
        .and_then(|h| h.as_u64())
        .unwrap_or(0) as usize
}

/// A classifier with the test set's statistics, loaded once.
struct ClassifierSetup {
    classifier: Classifier,
    file: PathBuf,
    test_stats: GaussianStats,
    test_histogram: Vec<usize>,
    real_floor: ClassifierScores,
    /// The first test images' k-NN manifold and the size of each precision/recall set.
    manifold: Option<(Manifold, usize)>,
}

/// The training images to search and the test images' own mean nearest distance.
struct NearestSetup {
    search: NearestSearch,
    test_images: usize,
    test_mean_distance: f64,
}

struct ImageSetup {
    description: String,
    dim: usize,
    nearest: Option<NearestSetup>,
    validation: Tensor,
    test: Tensor,
    /// The Parzen estimate with real training images as the window, when asked for.
    parzen_real: Option<ParzenReport>,
    classifier: Option<ClassifierSetup>,
}

enum Setup {
    Images(Box<ImageSetup>),
    Toy(ToySet),
}

/// What one run's evaluations share.
pub struct Evaluator {
    setup: Setup,
    options: EvalOptions,
    warnings: Vec<String>,
    /// The generator's input: noise distribution, and a conditional run's classes.
    prior: Prior,
}

fn scores_against(
    outputs: &ClassifierOutputs,
    classes: usize,
    feature_dim: usize,
    reference_stats: &GaussianStats,
    reference_histogram: &[usize],
) -> Result<ClassifierScores> {
    let stats = GaussianStats::from_features(&outputs.features, feature_dim)?;
    let histogram = class_histogram(&outputs.predictions(classes), classes);
    Ok(ClassifierScores {
        samples: outputs.count,
        reference: reference_stats.count,
        fid: frechet_distance(&stats, reference_stats)?,
        inception_score: inception_score(&softmax_rows(&outputs.logits, classes)),
        class_kl: histogram_kl(reference_histogram, &histogram),
        class_histogram: histogram,
        manifold: None,
    })
}

/// The first `rows` rows of a [count, dim] set of outputs.
fn first_rows(
    outputs: &ClassifierOutputs,
    rows: usize,
    classes: usize,
    dim: usize,
) -> ClassifierOutputs {
    ClassifierOutputs {
        count: rows,
        logits: outputs.logits[..rows * classes].to_vec(),
        features: outputs.features[..rows * dim].to_vec(),
    }
}

fn last_rows(
    outputs: &ClassifierOutputs,
    rows: usize,
    classes: usize,
    dim: usize,
) -> ClassifierOutputs {
    let skip = outputs.count - rows;
    ClassifierOutputs {
        count: rows,
        logits: outputs.logits[skip * classes..].to_vec(),
        features: outputs.features[skip * dim..].to_vec(),
    }
}

impl Evaluator {
    /// Load the test and held-out data (and the classifier) for evaluating generators of
    /// `config`; `holdout` is the run's held-out count (see `holdout_of`). `log` hears progress.
    pub fn new(
        ctx: &GpuContext,
        config: &TrainConfig,
        holdout: usize,
        options: &EvalOptions,
        log: &mut dyn FnMut(&str),
    ) -> Result<Evaluator> {
        let folder = match (&config.data, &options.data) {
            (DataSource::Toy(name), _) => {
                let set = match Toy::parse(name)? {
                    Toy::Plane(set) => set,
                    Toy::Line(density) => {
                        return Err(Error::Input(format!(
                            "{}: a 1-D toy set is scored while it trains: its sample steps \
                             draw the paper's Figure 1 and log d_star_gap (mean |D − D*|) in \
                             metrics.csv; gan-gpu eval scores image data and the 2-D toy sets",
                            density.name()
                        )));
                    }
                };
                return Ok(Evaluator {
                    setup: Setup::Toy(set),
                    options: options.clone(),
                    warnings: Vec::new(),
                    prior: Prior::of(config),
                });
            }
            (DataSource::Folder(_), Some(folder)) => folder.clone(),
            (DataSource::Folder(folder), None) => {
                let folder = PathBuf::from(folder);
                if !folder.is_dir() {
                    return Err(Error::Input(format!(
                        "the run was trained on {}, which is not a folder from here; pass \
                         --data DATA with that MNIST-format folder",
                        folder.display()
                    )));
                }
                folder
            }
        };
        let mut warnings = Vec::new();
        let mnist = load_mnist_folder(&folder)?;
        let test = mnist.test.as_ref().ok_or_else(|| {
            Error::Input(format!(
                "{}: no test split (t10k-images-idx3-ubyte[.gz] and t10k-labels-idx1-ubyte[.gz]); \
                 evaluation scores the generator against it",
                folder.display()
            ))
        })?;
        let train = &mnist.train.images;
        let dim = train.rows * train.cols;
        if config.generator.outputs() != dim {
            return Err(Error::Input(format!(
                "the generator makes {} values per sample but the images in {} have {dim} pixels",
                config.generator.outputs(),
                folder.display()
            )));
        }
        let n = train.count;
        let validation_count = options.parzen_validation.min(n).max(1);
        // The σ warnings concern the Parzen estimate only.
        let parzen = options.parzen_test > 0;
        let validation_start = if holdout > 0 && holdout <= n {
            if parzen && holdout < validation_count {
                warnings.push(format!(
                    "the run holds out only {holdout} training images; σ is chosen on those"
                ));
            }
            n - holdout
        } else {
            if parzen {
                warnings.push(format!(
                    "the run has no held-out images (train --holdout N): σ is chosen on the last \
                 {validation_count} training images, which the generator may have been trained on"
                ));
            }
            n - validation_count
        };
        let validation_end = (validation_start + validation_count).min(n);
        let validation_pixels = &train.pixels[validation_start * dim..validation_end * dim];
        let test_count = options.parzen_test.min(test.images.count);
        let validation = ctx.upload(
            "eval validation images",
            &[validation_end - validation_start, dim],
            &pixels_to_inputs(validation_pixels),
        )?;
        let test_tensor = ctx.upload(
            "eval test images",
            &[test_count.max(1), dim],
            &pixels_to_inputs(&test.images.pixels[..test_count.max(1) * dim]),
        )?;

        let parzen_real = if options.parzen_real && options.parzen_test > 0 {
            // Training images the generator learnt from: the first n − holdout.
            let trained = if holdout > 0 && holdout <= n {
                n - holdout
            } else {
                n
            };
            let count = options.samples.min(trained);
            log(&format!(
                "Parzen window of {count} real training images (the data's own score)"
            ));
            let real = ctx.upload(
                "eval real window images",
                &[count, dim],
                &pixels_to_inputs(&train.pixels[..count * dim]),
            )?;
            let window = ParzenWindow::new(ctx, &real)?;
            Some(parzen_estimate(
                ctx,
                &window,
                &validation,
                &test_tensor,
                &options.sigmas,
                options.tiling,
            )?)
        } else {
            None
        };

        let classifier = if options.skip_classifier {
            None
        } else {
            let file = options
                .classifier
                .clone()
                .unwrap_or_else(|| classifier::default_path(&folder));
            if !file.is_file() {
                return Err(Error::Input(format!(
                    "no classifier at {}: train one with `gan-gpu classifier train {}`{} \
                     (a few minutes on a CPU adapter), pass --classifier FILE, or \
                     --no-classifier to skip FID, Inception Score and the class histogram",
                    file.display(),
                    folder.display(),
                    if options.classifier.is_some() {
                        format!(" --out {}", file.display())
                    } else {
                        String::new()
                    }
                )));
            }
            let classifier = Classifier::load(ctx, &file)?;
            if classifier.inputs() != dim {
                return Err(Error::InvalidData {
                    file: file.clone(),
                    field: "classifier inputs".into(),
                    expected: format!("{dim} (the images of {})", folder.display()),
                    found: classifier.inputs().to_string(),
                });
            }
            log(&format!(
                "classifying the {} test images",
                test.images.count
            ));
            let outputs = classifier.classify_pixels(ctx, &test.images.pixels)?;
            let (classes, feature_dim) = (classifier.classes, classifier.feature_dim());
            let test_stats = GaussianStats::from_features(&outputs.features, feature_dim)?;
            let test_histogram = class_histogram(&outputs.predictions(classes), classes);
            // The floor: the test set's first half scored against its second half.
            let half = outputs.count / 2;
            let (a, b) = (
                first_rows(&outputs, half, classes, feature_dim),
                last_rows(&outputs, outputs.count - half, classes, feature_dim),
            );
            let b_stats = GaussianStats::from_features(&b.features, feature_dim)?;
            let b_histogram = class_histogram(&b.predictions(classes), classes);
            let mut real_floor = scores_against(&a, classes, feature_dim, &b_stats, &b_histogram)?;
            let manifold = if options.pr_samples > 0 {
                log(&format!(
                    "precision/recall: k-NN balls (k = {}) of test images' features",
                    options.pr_k
                ));
                let (manifold, floor) =
                    real_manifold(ctx, &outputs.features, feature_dim, options)?;
                let size = floor.real;
                real_floor.manifold = Some(floor);
                Some((manifold, size))
            } else {
                None
            };
            Some(ClassifierSetup {
                classifier,
                file,
                test_stats,
                test_histogram,
                real_floor,
                manifold,
            })
        };
        let nearest = if options.nearest > 0 {
            // The images the generator trained on: all but the held-out tail.
            let trained = if holdout > 0 && holdout <= n {
                n - holdout
            } else {
                n
            };
            let test_images = options.nearest.min(test.images.count);
            log(&format!(
                "nearest training images of {test_images} test images ({trained} training images)"
            ));
            let search =
                NearestSearch::new(ctx, &pixels_to_inputs(&train.pixels[..trained * dim]), dim)?;
            let queries = ctx.upload(
                "eval nearest test images",
                &[test_images, dim],
                &pixels_to_inputs(&test.images.pixels[..test_images * dim]),
            )?;
            let neighbours = search.search(ctx, &queries, options.tiling)?;
            Some(NearestSetup {
                search,
                test_images,
                test_mean_distance: mean_distance(&neighbours),
            })
        } else {
            None
        };
        Ok(Evaluator {
            setup: Setup::Images(Box::new(ImageSetup {
                description: folder.display().to_string(),
                dim,
                nearest,
                validation,
                test: test_tensor,
                parzen_real,
                classifier,
            })),
            options: options.clone(),
            warnings,
            prior: Prior::of(config),
        })
    }

    /// The metrics.csv columns of `EvalReport::metrics` for this evaluator's reports, in order.
    pub fn columns(&self) -> Vec<MetricColumn> {
        match &self.setup {
            Setup::Toy(_) => TOY_COLUMNS.to_vec(),
            Setup::Images(setup) => {
                let mut columns = Vec::new();
                if self.options.parzen_test > 0 {
                    columns.extend(PARZEN_COLUMNS);
                }
                if setup.classifier.is_some() {
                    columns.extend(CLASSIFIER_COLUMNS);
                    if self.options.pr_samples > 0 {
                        columns.extend(MANIFOLD_COLUMNS);
                    }
                    if self.prior.classes.is_some() {
                        columns.push(MetricColumn::ClassAccuracy);
                    }
                }
                columns
            }
        }
    }

    /// Warnings about the data this evaluator scores against (e.g. no held-out images).
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// Score `generator` (whose last layer's activation says its output range).
    pub fn evaluate(
        &self,
        ctx: &GpuContext,
        generator: &Network,
        log: &mut dyn FnMut(&str),
    ) -> Result<EvalReport> {
        let started = Instant::now();
        let options = &self.options;
        let mut report = EvalReport {
            generator: String::new(),
            step: None,
            data: String::new(),
            parzen: None,
            parzen_real: None,
            classifier: None,
            generated: None,
            real_floor: None,
            toy: None,
            class_accuracy: None,
            nearest: None,
            warnings: self.warnings.clone(),
            seconds: 0.0,
        };
        match &self.setup {
            Setup::Toy(set) => {
                report.data = format!("toy set {}", set.name());
                if generator.spec.outputs() != 2 {
                    return Err(Error::Input(format!(
                        "toy set {}: the generator makes {} values per sample, not 2",
                        set.name(),
                        generator.spec.outputs()
                    )));
                }
                let samples = generate::generate(
                    ctx,
                    generator,
                    &self.prior,
                    (options.toy_samples, None),
                    options.seed,
                )?;
                let values = ctx.read_f32(&samples)?;
                let points: Vec<[f32; 2]> = values.chunks_exact(2).map(|p| [p[0], p[1]]).collect();
                let criteria = crate::data::ModeCriteria::scaled_for(points.len());
                let stats = if points.len() == 2500 {
                    mode_stats(&points, *set)
                } else {
                    crate::data::mode_stats_with(&points, *set, criteria)
                };
                report.toy = Some(ToyReport {
                    set: set.name().to_string(),
                    samples: points.len(),
                    modes_captured: stats.modes_captured,
                    modes: stats.num_modes,
                    // From the counts, in f64 (the fraction is an f32).
                    high_quality_percent: 100.0
                        * stats.high_quality_per_mode.iter().sum::<usize>() as f64
                        / points.len() as f64,
                    high_quality_per_mode: stats.high_quality_per_mode,
                });
            }
            Setup::Images(setup) => {
                report.data = setup.description.clone();
                report.parzen_real = setup.parzen_real.clone();
                log(&format!("generating {} samples", options.samples));
                let raw = generate::generate(
                    ctx,
                    generator,
                    &self.prior,
                    (options.samples, None),
                    options.seed,
                )?;
                let (scale, shift) = generate::pixel_map(generator.spec.output_activation());
                let pixels = ctx.zeros("eval sample pixels", &[options.samples, setup.dim])?;
                let mut recorder = Recorder::new(ctx);
                recorder.record(&affine(ctx, &raw, &pixels, scale, shift)?);
                recorder.submit()?;
                if options.parzen_test > 0 {
                    log(&format!(
                        "Parzen window: σ search on {} held-out images, then {} test images",
                        setup.validation.shape()[0],
                        setup.test.shape()[0]
                    ));
                    let window = ParzenWindow::new(ctx, &pixels)?;
                    report.parzen = Some(parzen_estimate(
                        ctx,
                        &window,
                        &setup.validation,
                        &setup.test,
                        &options.sigmas,
                        options.tiling,
                    )?);
                }
                if let Some(nearest) = &setup.nearest {
                    let count = options.nearest.min(options.samples);
                    log(&format!("nearest training images of {count} samples"));
                    let queries = pixels.view(0, &[count, setup.dim]);
                    let neighbours = nearest.search.search(ctx, &queries, options.tiling)?;
                    report.nearest = Some(NearestReport {
                        training_images: nearest.search.count(),
                        samples: count,
                        generated_mean_distance: mean_distance(&neighbours),
                        test_images: nearest.test_images,
                        test_mean_distance: nearest.test_mean_distance,
                    });
                }
                if let Some(c) = &setup.classifier {
                    log("classifier features of the samples");
                    // The classifier reads pixels in [0, 1], like the Parzen window.
                    let outputs = c.classifier.classify(ctx, &pixels)?;
                    let (classes, feature_dim) = (c.classifier.classes, c.classifier.feature_dim());
                    let mut generated = scores_against(
                        &outputs,
                        classes,
                        feature_dim,
                        &c.test_stats,
                        &c.test_histogram,
                    )?;
                    if let Some((real, size)) = &c.manifold {
                        log(&format!(
                            "precision, recall, density, coverage of {size} samples' features"
                        ));
                        let features = &outputs.features[..size * feature_dim];
                        let samples = Manifold::new(
                            ctx,
                            features,
                            feature_dim,
                            options.pr_k,
                            options.tiling,
                        )?;
                        generated.manifold =
                            Some(manifold::compare(ctx, real, &samples, options.tiling)?);
                    }
                    report.generated = Some(generated);
                    report.real_floor = Some(c.real_floor.clone());
                    if let Some(classes) = self.prior.classes {
                        log("classifier accuracy on each class's samples");
                        report.class_accuracy =
                            Some(self.class_accuracy(ctx, generator, &c.classifier, classes)?);
                    }
                    report.classifier = Some(ClassifierInfo {
                        file: c.file.display().to_string(),
                        test_accuracy: c.classifier.test_accuracy,
                        feature_dim,
                    });
                }
            }
        }
        report.seconds = started.elapsed().as_secs_f64();
        Ok(report)
    }
}

impl Evaluator {
    /// A conditional generator asked for each class in turn (an equal share of the samples
    /// each, at least one): the fraction of its samples the classifier assigns to that class.
    fn class_accuracy(
        &self,
        ctx: &GpuContext,
        generator: &Network,
        classifier: &Classifier,
        classes: usize,
    ) -> Result<ClassAccuracy> {
        let per_class = (self.options.samples / classes).max(1);
        let (scale, shift) = generate::pixel_map(generator.spec.output_activation());
        let mut accuracy = Vec::with_capacity(classes);
        for class in 0..classes {
            let raw = generate::generate(
                ctx,
                generator,
                &self.prior,
                (per_class, Some(class as u32)),
                self.options.seed,
            )?;
            let pixels = ctx.zeros("class sample pixels", raw.shape())?;
            let mut recorder = Recorder::new(ctx);
            recorder.record(&affine(ctx, &raw, &pixels, scale, shift)?);
            recorder.submit()?;
            let predictions = classifier
                .classify(ctx, &pixels)?
                .predictions(classifier.classes);
            let hits = predictions.iter().filter(|&&p| p == class).count();
            accuracy.push(hits as f64 / per_class as f64);
        }
        Ok(ClassAccuracy {
            samples_per_class: per_class,
            mean: accuracy.iter().sum::<f64>() / classes as f64,
            per_class: accuracy,
        })
    }
}

/// The real set of precision and recall, the first n test features (n the smallest of
/// `pr_samples`, `samples` and half the test set), and the floor: the next n test features
/// scored against it, as a generator indistinguishable from the test set would score.
fn real_manifold(
    ctx: &GpuContext,
    test_features: &[f32],
    dim: usize,
    options: &EvalOptions,
) -> Result<(Manifold, ManifoldScores)> {
    let test_count = test_features.len() / dim;
    let n = options.pr_samples.min(options.samples).min(test_count / 2);
    let k = options.pr_k;
    if n <= k {
        let prefix = options.flag_prefix;
        return Err(Error::Input(format!(
            "precision/recall: {test_count} test images leave {n} per set (the smallest of              {prefix}pr-samples {}, {prefix}samples {} and half the test set), and k-NN balls of              {prefix}pr-k {k} need more than {k}; pass {prefix}pr-samples 0 to skip them",
            options.pr_samples, options.samples
        )));
    }
    let real = Manifold::new(ctx, &test_features[..n * dim], dim, k, options.tiling)?;
    let next = &test_features[n * dim..2 * n * dim];
    let floor_set = Manifold::new(ctx, next, dim, k, options.tiling)?;
    let floor = manifold::compare(ctx, &real, &floor_set, options.tiling)?;
    Ok((real, floor))
}

/// Evaluate `generator` of a run with `config` in one call (loads the data each time; keep an
/// `Evaluator` to evaluate repeatedly).
pub fn evaluate(
    ctx: &GpuContext,
    generator: &Network,
    config: &TrainConfig,
    holdout: usize,
    options: &EvalOptions,
) -> Result<EvalReport> {
    let mut quiet = |_: &str| {};
    let evaluator = Evaluator::new(ctx, config, holdout, options, &mut quiet)?;
    evaluator.evaluate(ctx, generator, &mut quiet)
}

/// The run folder of a run folder, checkpoint or generator file: where config.json and
/// eval.json live (the file's own folder when it is not inside a run).
pub fn run_folder(path: &Path) -> PathBuf {
    if path.is_dir() {
        return path.to_path_buf();
    }
    let parent = path.parent().unwrap_or(Path::new(".")).to_path_buf();
    if parent.file_name().is_some_and(|n| n == "checkpoints")
        && let Some(run) = parent.parent()
    {
        return run.to_path_buf();
    }
    parent
}
