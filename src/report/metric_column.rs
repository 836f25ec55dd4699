//! The extra metrics.csv columns as one type: each knows its CSV name, how the progress line
//! shows it, and where the curves draw it (so no file matches column names as strings).

/// A metrics.csv column beyond step, losses, D(x), D(G(z)) and it/s.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MetricColumn {
    /// wgan, wgan-gp: mean D(x) − mean D(G(z)).
    Wasserstein,
    /// wgan-gp: λ · mean penalty term.
    Penalty,
    /// wgan-gp: mean ‖∇ₓD(x̂)‖ (lipschitz-fd: the mean difference quotient); with R1 the mean
    /// ‖∇ₓD(x)‖ at the real batch.
    GradNorm,
    /// nsgan and minimax with `--r1-gamma`: γ/2 · mean ‖∇ₓD(x)‖².
    R1Penalty,
    /// Toy sets during training: modes captured and the high-quality fraction of 2,500 samples.
    Modes,
    HighQuality,
    /// `train --eval-every` on image data: the Parzen estimate and the classifier scores.
    ParzenLl,
    ParzenSe,
    Fid,
    InceptionScore,
    ClassKl,
    /// `train --eval-every` on image data with the classifier: the k-NN manifold scores of its
    /// features (precision and recall, Kynkäänniemi et al. 2019; density and coverage, Naeem
    /// et al. 2020).
    Precision,
    Recall,
    Density,
    Coverage,
    /// `train --eval-every` reports of toy sets (`gan-gpu eval`'s toy statistics).
    ModesCaptured,
    HighQualityPercent,
    /// A conditional run's evaluation: the classifier's mean accuracy on samples of each class
    /// (did G draw the class it was asked for?).
    ClassAccuracy,
    /// 1-D toy sets: mean |D(x) − D*(x)| under p_data, D* = p_data / (p_data + p_g)
    /// the optimal discriminator for the current G (Goodfellow et al. 2014, Proposition 1).
    DStarGap,
    /// Sample rows of image and 2-D toy runs: the fixed-noise samples' mean pairwise distance
    /// over the data's (`gan::collapse`).
    Diversity,
    /// Every row: 1 when a sign of failure holds (D has won, G's loss keeps rising, samples
    /// alike), else 0.
    CollapseWarning,
}

impl MetricColumn {
    /// The column's name in metrics.csv.
    pub fn name(self) -> &'static str {
        match self {
            MetricColumn::Wasserstein => "wasserstein",
            MetricColumn::Penalty => "penalty",
            MetricColumn::GradNorm => "grad_norm",
            MetricColumn::R1Penalty => "r1_penalty",
            MetricColumn::Modes => "modes",
            MetricColumn::HighQuality => "high_quality",
            MetricColumn::ParzenLl => "parzen_ll",
            MetricColumn::ParzenSe => "parzen_se",
            MetricColumn::Fid => "fid",
            MetricColumn::InceptionScore => "inception_score",
            MetricColumn::ClassKl => "class_kl",
            MetricColumn::Precision => "precision",
            MetricColumn::Recall => "recall",
            MetricColumn::Density => "density",
            MetricColumn::Coverage => "coverage",
            MetricColumn::ModesCaptured => "modes_captured",
            MetricColumn::HighQualityPercent => "high_quality_percent",
            MetricColumn::ClassAccuracy => "class_accuracy",
            MetricColumn::DStarGap => "d_star_gap",
            MetricColumn::Diversity => "diversity",
            MetricColumn::CollapseWarning => "collapse_warning",
        }
    }

    /// How the progress line shows a value (empty: metrics.csv only).
    pub fn progress_text(self, v: f64) -> String {
        match self {
            MetricColumn::Wasserstein => format!("  W {v:.3}"),
            MetricColumn::Penalty => format!("  GP {v:.3}"),
            MetricColumn::GradNorm => format!("  ‖∇D‖ {v:.3}"),
            MetricColumn::R1Penalty => format!("  R1 {v:.4}"),
            MetricColumn::Modes | MetricColumn::ModesCaptured => format!("  modes {v}"),
            MetricColumn::HighQuality => format!("  HQ {:.1}%", 100.0 * v),
            MetricColumn::HighQualityPercent => format!("  HQ {v:.1}%"),
            MetricColumn::ParzenLl => format!("  Parzen {v:.1}"),
            MetricColumn::ParzenSe => String::new(), // the bar shows the mean
            MetricColumn::Fid => format!("  FID {v:.2}"),
            MetricColumn::InceptionScore => format!("  IS {v:.2}"),
            MetricColumn::ClassKl => format!("  KL {v:.3}"),
            MetricColumn::Precision => format!("  P {v:.3}"),
            MetricColumn::Recall => format!("  R {v:.3}"),
            MetricColumn::Density => format!("  dens {v:.3}"),
            MetricColumn::Coverage => format!("  cov {v:.3}"),
            MetricColumn::ClassAccuracy => format!("  class acc {:.1}%", 100.0 * v),
            MetricColumn::DStarGap => format!("  |D−D*| {v:.3}"),
            MetricColumn::Diversity => format!("  diversity {v:.2}"),
            MetricColumn::CollapseWarning if v > 0.0 => "  ⚠ failing".to_string(),
            MetricColumn::CollapseWarning => String::new(),
        }
    }

    /// The scalar's tag in the run's TensorBoard log: the CSV name under its group.
    pub fn tensorboard_tag(self) -> &'static str {
        match self {
            MetricColumn::Wasserstein => "critic/wasserstein",
            MetricColumn::Penalty => "critic/penalty",
            MetricColumn::GradNorm => "critic/grad_norm",
            MetricColumn::R1Penalty => "discriminator/r1_penalty",
            MetricColumn::Modes => "toy/modes",
            MetricColumn::HighQuality => "toy/high_quality",
            MetricColumn::ParzenLl => "eval/parzen_ll",
            MetricColumn::ParzenSe => "eval/parzen_se",
            MetricColumn::Fid => "eval/fid",
            MetricColumn::InceptionScore => "eval/inception_score",
            MetricColumn::ClassKl => "eval/class_kl",
            MetricColumn::Precision => "eval/precision",
            MetricColumn::Recall => "eval/recall",
            MetricColumn::Density => "eval/density",
            MetricColumn::Coverage => "eval/coverage",
            MetricColumn::ModesCaptured => "eval/modes_captured",
            MetricColumn::HighQualityPercent => "eval/high_quality_percent",
            MetricColumn::ClassAccuracy => "eval/class_accuracy",
            MetricColumn::DStarGap => "toy/d_star_gap",
            MetricColumn::Diversity => "collapse/diversity",
            MetricColumn::CollapseWarning => "collapse/warning",
        }
    }

    /// The curve's label in loss_curves.png, for columns on the losses' scale.
    pub fn loss_curve_label(self) -> Option<&'static str> {
        match self {
            MetricColumn::Wasserstein => Some("W estimate"),
            MetricColumn::Penalty => Some("penalty"),
            MetricColumn::GradNorm => Some("grad norm"),
            MetricColumn::R1Penalty => Some("R1 penalty"),
            MetricColumn::DStarGap => Some("mean |D - D*|"),
            _ => None,
        }
    }

    /// The loss_curves.png panel a column on a loss-like scale is drawn in.
    pub fn loss_panel(self) -> Option<super::curves::LossPanel> {
        use super::curves::LossPanel;
        match self {
            MetricColumn::Wasserstein => Some(LossPanel::Losses),
            MetricColumn::Penalty | MetricColumn::GradNorm | MetricColumn::R1Penalty => {
                Some(LossPanel::Penalty)
            }
            // On D's output scale: how far D is from the optimal D*.
            MetricColumn::DStarGap => Some(LossPanel::DiscriminatorOutputs),
            _ => None,
        }
    }

    /// The panel's label in eval_curves.png, for evaluation scores (each on its own scale).
    pub fn eval_panel_label(self) -> Option<&'static str> {
        match self {
            MetricColumn::ParzenLl => Some("Parzen log-likelihood (nats)"),
            MetricColumn::Fid => Some("FID (classifier features)"),
            MetricColumn::InceptionScore => Some("Inception score"),
            MetricColumn::ClassKl => Some("class KL (real vs generated)"),
            MetricColumn::Precision => Some("precision (k-NN manifold of real features)"),
            MetricColumn::Recall => Some("recall (k-NN manifold of generated features)"),
            MetricColumn::Density => Some("density (real k-NN balls per sample / k)"),
            MetricColumn::Coverage => Some("coverage (real k-NN balls with a sample)"),
            MetricColumn::ClassAccuracy => Some("class accuracy (conditional samples)"),
            _ => None,
        }
    }
}

/// The base metrics.csv columns after `step` (which is the events' step) with their
/// TensorBoard tags, in `METRICS_BASE_COLUMNS` order.
pub const BASE_TENSORBOARD_TAGS: [(&str, &str); 5] = [
    ("d_loss", "loss/d"),
    ("g_loss", "loss/g"),
    ("d_real", "discriminator/real"),
    ("d_fake", "discriminator/fake"),
    ("it_per_s", "speed/it_per_s"),
];

/// The CSV names of `columns`, in order.
pub fn names(columns: &[MetricColumn]) -> Vec<&'static str> {
    columns.iter().map(|c| c.name()).collect()
}
