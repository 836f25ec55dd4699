//! Signs that a run is failing, watched as it trains (Goodfellow et al. 2014 §6 and every
//! GAN practitioner since: D wins and G's gradient vanishes; G maps all noise to a few
//! outputs). The first sign is reported once, with what usually helps; every metrics.csv row
//! records whether a sign holds (`collapse_warning`), and sample rows the fixed-noise
//! samples' spread (`diversity`).

use std::collections::VecDeque;

use super::real_data::{HostData, SampleShape};
use crate::kernels::data::PixelRange;
use crate::report::MetricsRow;

/// Logged rows in a row with D(x) > 0.99 and D(G(z)) < 0.01 before "D has won" is said.
pub const D_WINS_ROWS: usize = 3;
/// Logged rows over which G's loss rises at every row, to at least twice where it started and
/// past [`RISING_LOSS`], before it is said (G's loss also climbs for a while in a healthy run,
/// as D first learns).
pub const RISING_ROWS: usize = 10;
/// G's loss −log D(G(z)) past which a steady rise counts: D(G(z)) below e⁻³ ≈ 0.05.
pub const RISING_LOSS: f64 = 3.0;
/// Fixed-noise samples whose mean pairwise distance is below this fraction of the data's are
/// "alike" (a collapsed generator draws near-copies).
pub const MIN_DIVERSITY: f64 = 0.4;

/// Examples of the data whose spread `diversity` is measured against.
const DATA_SPREAD_EXAMPLES: usize = 256;

/// What was seen.
#[derive(Clone, Debug, PartialEq)]
pub enum CollapseSign {
    DiscriminatorWins { d_real: f64, d_fake: f64 },
    GeneratorLossRising { from: f64, to: f64 },
    SamplesAlike { diversity: f64 },
}

impl CollapseSign {
    /// The sign and what usually helps, for the progress line and the log.
    pub fn warning(&self, step: u64) -> String {
        let seen = match self {
            CollapseSign::DiscriminatorWins { d_real, d_fake } => format!(
                "D has won: mean D(x) {d_real:.3} and D(G(z)) {d_fake:.3} for {D_WINS_ROWS} \
                 logged rows, so G's gradient is vanishing"
            ),
            CollapseSign::GeneratorLossRising { from, to } => format!(
                "G's loss has risen at each of the last {RISING_ROWS} logged rows, from {from:.3} \
                 to {to:.3}"
            ),
            CollapseSign::SamplesAlike { diversity } => format!(
                "the fixed-noise samples have collapsed: their mean pairwise distance is {:.0} % \
                 of the data's (below {:.0} %), a sign of mode collapse",
                100.0 * diversity,
                100.0 * MIN_DIVERSITY
            ),
        };
        format!(
            "warning at step {step}: {seen}. What usually helps: a lower D learning rate \
             (--lr-d), PacGAN packing (--pack 2), an EMA generator (--ema 0.999), or another \
             loss (--loss wgan-gp)"
        )
    }
}

/// Watches the logged rows and the sample steps' diversity.
pub struct CollapseMonitor {
    /// D(x) and D(G(z)) are probabilities and G's loss a BCE (not a Wasserstein critic's).
    probabilities: bool,
    d_wins: usize,
    g_losses: VecDeque<f64>,
    warned: bool,
}

impl CollapseMonitor {
    pub fn new(probabilities: bool) -> CollapseMonitor {
        CollapseMonitor {
            probabilities,
            d_wins: 0,
            g_losses: VecDeque::with_capacity(RISING_ROWS + 1),
            warned: false,
        }
    }

    /// The sign that holds at this row, if any (`diversity`: the row's fixed-noise spread
    /// relative to the data's, on sample rows).
    pub fn observe(&mut self, row: &MetricsRow, diversity: Option<f64>) -> Option<CollapseSign> {
        if let Some(diversity) = diversity.filter(|&d| d < MIN_DIVERSITY) {
            return Some(CollapseSign::SamplesAlike { diversity });
        }
        if !self.probabilities {
            return None;
        }
        let wins = row.d_real > 0.99 && row.d_fake < 0.01;
        self.d_wins = if wins { self.d_wins + 1 } else { 0 };
        if self.d_wins >= D_WINS_ROWS {
            return Some(CollapseSign::DiscriminatorWins {
                d_real: row.d_real,
                d_fake: row.d_fake,
            });
        }
        if self.g_losses.len() > RISING_ROWS {
            self.g_losses.pop_front();
        }
        self.g_losses.push_back(row.g_loss);
        let (first, last) = (self.g_losses[0], row.g_loss);
        let rising = self.g_losses.len() > RISING_ROWS
            && self
                .g_losses
                .iter()
                .zip(self.g_losses.iter().skip(1))
                .all(|(a, b)| b > a)
            && last >= 2.0 * first.max(1e-6)
            && last >= RISING_LOSS;
        rising.then_some(CollapseSign::GeneratorLossRising {
            from: first,
            to: last,
        })
    }

    /// The warning for `sign` the first time one is seen, None after that.
    pub fn warn_once(&mut self, sign: &CollapseSign, step: u64) -> Option<String> {
        if self.warned {
            return None;
        }
        self.warned = true;
        Some(sign.warning(step))
    }
}

/// Mean Euclidean distance over all pairs of `rows` (`dim` values each); 0 for fewer than two.
pub fn mean_pairwise_distance(values: &[f32], dim: usize) -> f64 {
    let rows: Vec<&[f32]> = values.chunks_exact(dim).collect();
    let n = rows.len();
    if n < 2 {
        return 0.0;
    }
    let mut sum = 0.0;
    for (i, a) in rows.iter().enumerate() {
        for b in &rows[i + 1..] {
            let squared: f64 = a
                .iter()
                .zip(b.iter())
                .map(|(&x, &y)| (x as f64 - y as f64).powi(2))
                .sum();
            sum += squared.sqrt();
        }
    }
    sum / (n * (n - 1) / 2) as f64
}

/// The data's own spread, which the samples' is measured against: the mean pairwise distance
/// of up to 256 examples spread over the data set (in `range`), or of as many points of a 2-D
/// toy set; None for the 1-D toys, whose Figure 1 shows G's density directly.
pub fn data_spread(host: &HostData, range: PixelRange, seed: u64) -> Option<f64> {
    match host.shape {
        SampleShape::Image { .. } => {
            let dim = host.shape.dim();
            let count = host.count.min(DATA_SPREAD_EXAMPLES);
            let stride = (host.count / count.max(1)).max(1);
            let values: Vec<f32> = (0..count)
                .flat_map(|i| &host.pixels[i * stride * dim..(i * stride + 1) * dim])
                .map(|&byte| range.from_byte(byte))
                .collect();
            Some(mean_pairwise_distance(&values, dim))
        }
        SampleShape::Point2d(set) => {
            let points = set.sample(DATA_SPREAD_EXAMPLES, seed);
            let values: Vec<f32> = points.iter().flatten().copied().collect();
            Some(mean_pairwise_distance(&values, 2))
        }
        SampleShape::Point1d(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(d_real: f64, d_fake: f64, g_loss: f64) -> MetricsRow {
        MetricsRow {
            step: 0,
            d_loss: 0.5,
            g_loss,
            d_real,
            d_fake,
            it_per_s: 1.0,
        }
    }

    #[test]
    fn pairwise_distance_matches_a_hand_computed_case() {
        // (0,0), (3,4), (0,4): distances 5, 4, 3.
        let d = mean_pairwise_distance(&[0.0, 0.0, 3.0, 4.0, 0.0, 4.0], 2);
        assert!((d - 4.0).abs() < 1e-12, "{d}");
        assert_eq!(mean_pairwise_distance(&[1.0, 2.0], 2), 0.0);
    }

    #[test]
    fn d_winning_is_seen_after_enough_rows_and_reset_by_a_normal_row() {
        let mut monitor = CollapseMonitor::new(true);
        for _ in 0..D_WINS_ROWS - 1 {
            assert_eq!(monitor.observe(&row(0.995, 0.005, 5.0), None), None);
        }
        assert_eq!(monitor.observe(&row(0.7, 0.3, 5.0), None), None);
        for _ in 0..D_WINS_ROWS - 1 {
            assert_eq!(monitor.observe(&row(0.995, 0.005, 5.0), None), None);
        }
        let sign = monitor.observe(&row(0.999, 0.001, 5.0), None).unwrap();
        assert!(
            matches!(sign, CollapseSign::DiscriminatorWins { .. }),
            "{sign:?}"
        );
        let text = monitor.warn_once(&sign, 300).unwrap();
        assert!(text.contains("step 300") && text.contains("--pack") && text.contains("--ema"));
        assert_eq!(monitor.warn_once(&sign, 350), None, "warned once only");
    }

    #[test]
    fn a_steadily_rising_generator_loss_is_seen_and_a_noisy_one_is_not() {
        let mut monitor = CollapseMonitor::new(true);
        let noisy = [1.0, 1.4, 1.3, 1.9, 1.8, 2.5, 2.4, 3.1, 3.0, 3.5, 3.4, 4.0];
        let quiet = |monitor: &mut CollapseMonitor, losses: &[f64], d: (f64, f64)| {
            losses
                .iter()
                .all(|&g| monitor.observe(&row(d.0, d.1, g), None).is_none())
        };
        assert!(quiet(&mut monitor, &noisy, (0.8, 0.2)));
        // A healthy run's early climb (as D learns) stays below RISING_LOSS.
        let mut monitor = CollapseMonitor::new(true);
        let early: Vec<f64> = (0..=RISING_ROWS).map(|i| 0.7 + 0.2 * i as f64).collect();
        assert!(quiet(&mut monitor, &early, (0.7, 0.3)));
        let mut monitor = CollapseMonitor::new(true);
        let rising: Vec<f64> = (0..RISING_ROWS).map(|i| 1.5 + 0.1 * i as f64).collect();
        assert!(quiet(&mut monitor, &rising, (0.9, 0.1)));
        let sign = monitor.observe(&row(0.95, 0.04, 3.2), None).unwrap();
        assert_eq!(
            sign,
            CollapseSign::GeneratorLossRising { from: 1.5, to: 3.2 }
        );
        // A Wasserstein critic's outputs are no probabilities: only diversity counts.
        let mut critic = CollapseMonitor::new(false);
        for g in [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0] {
            assert_eq!(critic.observe(&row(5.0, -5.0, g), None), None);
        }
        let sign = critic.observe(&row(5.0, -5.0, 8.0), Some(0.1)).unwrap();
        assert_eq!(sign, CollapseSign::SamplesAlike { diversity: 0.1 });
    }
}
