//! The 2-D toy distributions of the WGAN-GP authors' `gan_toy.py`
//! (gulrajani/improved_wgan_training), and the mode-coverage statistics that
//! VEEGAN and PacGAN report on them.
//!
//! * `Ring8` ("8gaussians"): centres at radius 2 at angles k·π/4, k = 0..7;
//!   point = centre + N(0, 0.02²) per coordinate; the whole point / 1.414.
//! * `Grid25` ("25gaussians"): centres (2x, 2y) for x, y in -2..=2;
//!   point = centre + N(0, 0.05²); the whole point / 2.828.
//!
//! Sampling uses a self-contained SplitMix64 + Box-Muller generator so a
//! (set, n, seed) triple gives the same points on every platform and with
//! every version of `rand`: test expectations and plots stay reproducible.

use std::f64::consts::PI;

use crate::error::{Error, Result};

/// SplitMix64 (Steele, Lea & Flood 2014): tiny, fast, statistically good
/// enough for toy data, and fully specified, hence reproducible.
#[derive(Debug, Clone)]
pub struct SplitMix64 {
    state: u64,
    /// Second Box-Muller output, kept for the next call.
    spare_normal: Option<f64>,
}

impl SplitMix64 {
    pub fn new(seed: u64) -> Self {
        SplitMix64 {
            state: seed,
            spare_normal: None,
        }
    }

    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1) with 53 random bits.
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform integer in 0..n (n > 0), unbiased (Lemire's method with rejection).
    pub fn below(&mut self, n: u64) -> u64 {
        assert!(n > 0, "SplitMix64::below(0)");
        let threshold = n.wrapping_neg() % n;
        loop {
            let m = (self.next_u64() as u128) * (n as u128);
            if (m as u64) >= threshold {
                return (m >> 64) as u64;
            }
        }
    }

    /// Standard normal via the Box-Muller transform (both outputs used).
    pub fn next_normal(&mut self) -> f64 {
        if let Some(z) = self.spare_normal.take() {
            return z;
        }
        // 1 - u lies in (0, 1], so the logarithm is finite.
        let u1 = 1.0 - self.next_f64();
        let u2 = self.next_f64();
        let r = (-2.0 * u1.ln()).sqrt();
        let (s, c) = (2.0 * PI * u2).sin_cos();
        self.spare_normal = Some(r * s);
        r * c
    }
}

/// A built-in toy set: 2-D Gaussians (ring8, grid25) or a 1-D density (gauss1d, mix1d).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Toy {
    Plane(ToySet),
    Line(super::toy1d::Density1d),
}

impl Toy {
    /// Every toy set's name, for messages.
    pub const NAMES: [&str; 4] = ["ring8", "grid25", "gauss1d", "mix1d"];

    pub fn parse(s: &str) -> Result<Toy> {
        if let Some(density) = super::toy1d::Density1d::parse(s) {
            return Ok(Toy::Line(density));
        }
        ToySet::parse(s).map(Toy::Plane).map_err(|_| {
            Error::Input(format!(
                "unknown toy data set {s:?}: expected one of ring8 (alias 8gaussians), grid25 \
                 (alias 25gaussians), gauss1d or mix1d"
            ))
        })
    }

    /// Whether `s` names a toy set.
    pub fn is_toy(s: &str) -> bool {
        Self::parse(s).is_ok()
    }

    pub fn name(self) -> &'static str {
        match self {
            Toy::Plane(set) => set.name(),
            Toy::Line(density) => density.name(),
        }
    }
}

/// A built-in 2-D toy data set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ToySet {
    /// 8 Gaussians on a ring ("8gaussians" in gan_toy.py).
    Ring8,
    /// 25 Gaussians on a 5×5 grid ("25gaussians" in gan_toy.py).
    Grid25,
}

impl ToySet {
    pub const ALL: [ToySet; 2] = [ToySet::Ring8, ToySet::Grid25];

    pub fn name(self) -> &'static str {
        match self {
            ToySet::Ring8 => "ring8",
            ToySet::Grid25 => "grid25",
        }
    }

    /// Parse a name; the gan_toy.py names are accepted as aliases.
    pub fn parse(s: &str) -> Result<ToySet> {
        match s.trim().to_ascii_lowercase().as_str() {
            "ring8" | "8gaussians" => Ok(ToySet::Ring8),
            "grid25" | "25gaussians" => Ok(ToySet::Grid25),
            _ => Err(Error::Input(format!(
                "unknown toy data set {s:?}: expected one of ring8 (alias 8gaussians), \
                 grid25 (alias 25gaussians)"
            ))),
        }
    }

    /// The divisor gan_toy.py applies to every point ("stdev" in its comments).
    fn divisor(self) -> f64 {
        match self {
            ToySet::Ring8 => 1.414,
            ToySet::Grid25 => 2.828,
        }
    }

    /// Per-coordinate std of each mode before the division.
    fn raw_std(self) -> f64 {
        match self {
            ToySet::Ring8 => 0.02,
            ToySet::Grid25 => 0.05,
        }
    }

    fn raw_centers(self) -> Vec<[f64; 2]> {
        match self {
            ToySet::Ring8 => (0..8)
                .map(|k| {
                    let a = k as f64 * PI / 4.0;
                    [2.0 * a.cos(), 2.0 * a.sin()]
                })
                .collect(),
            ToySet::Grid25 => (-2..=2)
                .flat_map(|x| (-2..=2).map(move |y| [2.0 * x as f64, 2.0 * y as f64]))
                .collect(),
        }
    }

    /// The mode centres, already divided like the samples.
    pub fn centers(self) -> Vec<[f32; 2]> {
        let d = self.divisor();
        self.raw_centers()
            .iter()
            .map(|c| [(c[0] / d) as f32, (c[1] / d) as f32])
            .collect()
    }

    /// Per-coordinate standard deviation of each mode, after the division.
    pub fn std(self) -> f32 {
        (self.raw_std() / self.divisor()) as f32
    }

    /// `n` points, each from a uniformly chosen mode; deterministic in `seed`.
    pub fn sample(self, n: usize, seed: u64) -> Vec<[f32; 2]> {
        let centers = self.raw_centers();
        let (sd, div) = (self.raw_std(), self.divisor());
        let mut rng = SplitMix64::new(seed);
        (0..n)
            .map(|_| {
                let c = centers[rng.below(centers.len() as u64) as usize];
                let x = c[0] + sd * rng.next_normal();
                let y = c[1] + sd * rng.next_normal();
                [(x / div) as f32, (y / div) as f32]
            })
            .collect()
    }
}

/// When a sample is "high quality" and when a mode counts as "captured".
///
/// The rule of VEEGAN (Srivastava et al. 2017) as used by PacGAN (Lin et al.
/// 2018): a sample is high quality when it lies within `std_multiple` (3)
/// standard deviations of its nearest mode centre; a mode is captured when
/// at least `min_high_quality` (20) high-quality samples are assigned to it,
/// out of 2,500 generated samples. With another sample count, scale the
/// threshold (see [`ModeCriteria::scaled_for`]) so the rule means the same.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ModeCriteria {
    pub std_multiple: f32,
    pub min_high_quality: usize,
}

impl Default for ModeCriteria {
    fn default() -> Self {
        ModeCriteria {
            std_multiple: 3.0,
            min_high_quality: 20,
        }
    }
}

impl ModeCriteria {
    /// The PacGAN threshold (20 of 2,500) rescaled to `n` samples, at least 1.
    pub fn scaled_for(n: usize) -> Self {
        ModeCriteria {
            min_high_quality: (20 * n).div_ceil(2500).max(1),
            ..Self::default()
        }
    }
}

/// Mode-coverage statistics of a set of samples against a toy set.
#[derive(Debug, Clone, PartialEq)]
pub struct ModeStats {
    /// Number of modes with at least `min_high_quality` high-quality samples.
    pub modes_captured: usize,
    /// Number of modes of the set (8 or 25).
    pub num_modes: usize,
    /// Fraction of samples within `std_multiple` std of their nearest centre
    /// (0 for an empty sample set).
    pub high_quality_fraction: f32,
    /// High-quality samples assigned to each mode, in `centers()` order.
    pub high_quality_per_mode: Vec<usize>,
}

/// [`mode_stats_with`] using the PacGAN criteria (3 std, 20 samples per mode;
/// meant for 2,500 samples).
pub fn mode_stats(samples: &[[f32; 2]], set: ToySet) -> ModeStats {
    mode_stats_with(samples, set, ModeCriteria::default())
}

/// Mode coverage under explicit criteria. Non-finite samples are never
/// high quality.
pub fn mode_stats_with(samples: &[[f32; 2]], set: ToySet, criteria: ModeCriteria) -> ModeStats {
    let centers = set.centers();
    let radius = criteria.std_multiple as f64 * set.std() as f64;
    let mut per_mode = vec![0usize; centers.len()];
    let mut high_quality = 0usize;
    for p in samples {
        let (x, y) = (p[0] as f64, p[1] as f64);
        if !x.is_finite() || !y.is_finite() {
            continue;
        }
        let (best, d2) = centers
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let (dx, dy) = (x - c[0] as f64, y - c[1] as f64);
                (i, dx * dx + dy * dy)
            })
            .fold((0, f64::INFINITY), |a, b| if b.1 < a.1 { b } else { a });
        if d2 <= radius * radius {
            high_quality += 1;
            per_mode[best] += 1;
        }
    }
    ModeStats {
        modes_captured: per_mode
            .iter()
            .filter(|&&c| c >= criteria.min_high_quality)
            .count(),
        num_modes: centers.len(),
        high_quality_fraction: if samples.is_empty() {
            0.0
        } else {
            high_quality as f32 / samples.len() as f32
        },
        high_quality_per_mode: per_mode,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rng_is_deterministic_and_normal() {
        let a: Vec<u64> = {
            let mut r = SplitMix64::new(1);
            (0..4).map(|_| r.next_u64()).collect()
        };
        // Reference value of SplitMix64 seeded with 1 (first output).
        assert_eq!(a[0], 0x910a_2dec_8902_5cc1);
        let mut r = SplitMix64::new(7);
        let n = 200_000;
        let xs: Vec<f64> = (0..n).map(|_| r.next_normal()).collect();
        let mean = xs.iter().sum::<f64>() / n as f64;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n as f64;
        assert!(mean.abs() < 0.01, "mean {mean}");
        assert!((var - 1.0).abs() < 0.02, "var {var}");
        let mut counts = [0usize; 3];
        (0..30_000).for_each(|_| counts[r.below(3) as usize] += 1);
        assert!(
            counts.iter().all(|&c| (9_500..10_500).contains(&c)),
            "{counts:?}"
        );
    }

    #[test]
    fn names_and_centers() {
        for s in ToySet::ALL {
            assert_eq!(ToySet::parse(s.name()).unwrap(), s);
        }
        assert_eq!(ToySet::parse("8Gaussians").unwrap(), ToySet::Ring8);
        assert!(
            ToySet::parse("swissroll")
                .unwrap_err()
                .to_string()
                .contains("ring8")
        );
        let r = ToySet::Ring8.centers();
        assert_eq!(r.len(), 8);
        assert!((r[0][0] - 2.0 / 1.414).abs() < 1e-6 && r[0][1].abs() < 1e-6);
        assert!((r[2][1] - 2.0 / 1.414).abs() < 1e-6);
        let g = ToySet::Grid25.centers();
        assert_eq!(g.len(), 25);
        assert!(g.contains(&[(-4.0f64 / 2.828) as f32, (4.0f64 / 2.828) as f32]));
        assert!((ToySet::Ring8.std() - 0.02 / 1.414).abs() < 1e-7);
        assert!((ToySet::Grid25.std() - 0.05 / 2.828).abs() < 1e-7);
    }

    /// Per-mode mean ≈ centre and per-coordinate std ≈ std(), every mode used.
    #[test]
    fn samples_match_centers_and_spread() {
        for set in ToySet::ALL {
            let centers = set.centers();
            let pts = set.sample(50_000, 42);
            assert_eq!(pts, set.sample(50_000, 42), "same seed, same points");
            assert_ne!(pts[..10], set.sample(10, 43)[..], "seed matters");
            let k = centers.len();
            let mut sum = vec![[0f64; 2]; k];
            let mut sq = vec![[0f64; 2]; k];
            let mut cnt = vec![0usize; k];
            for p in &pts {
                let i = (0..k)
                    .min_by(|&a, &b| {
                        let da = (p[0] - centers[a][0]).powi(2) + (p[1] - centers[a][1]).powi(2);
                        let db = (p[0] - centers[b][0]).powi(2) + (p[1] - centers[b][1]).powi(2);
                        da.total_cmp(&db)
                    })
                    .unwrap();
                cnt[i] += 1;
                for d in 0..2 {
                    let v = (p[d] - centers[i][d]) as f64;
                    sum[i][d] += v;
                    sq[i][d] += v * v;
                }
            }
            let sd = set.std() as f64;
            for i in 0..k {
                let expect = pts.len() as f64 / k as f64;
                assert!(
                    (cnt[i] as f64 - expect).abs() < 0.15 * expect,
                    "{set:?} mode {i}: {cnt:?}"
                );
                for d in 0..2 {
                    let m = sum[i][d] / cnt[i] as f64;
                    let s = (sq[i][d] / cnt[i] as f64 - m * m).sqrt();
                    assert!(m.abs() < 0.2 * sd, "{set:?} mode {i} mean offset {m}");
                    assert!(
                        (s / sd - 1.0).abs() < 0.1,
                        "{set:?} mode {i} std {s} vs {sd}"
                    );
                }
            }
        }
    }

    #[test]
    fn mode_stats_real_and_collapsed() {
        let real = ToySet::Ring8.sample(2500, 1);
        let s = mode_stats(&real, ToySet::Ring8);
        assert_eq!((s.modes_captured, s.num_modes), (8, 8));
        // P(|N(0, I₂)| ≤ 3) = 1 - e^{-4.5} ≈ 0.989.
        assert!(s.high_quality_fraction > 0.97, "{s:?}");
        assert_eq!(
            s.high_quality_per_mode.iter().sum::<usize>() as f32 / 2500.0,
            s.high_quality_fraction
        );

        let g = ToySet::Grid25.sample(2500, 2);
        let s = mode_stats(&g, ToySet::Grid25);
        assert_eq!(s.modes_captured, 25);
        assert!(s.high_quality_fraction > 0.97);

        // Mode collapse: everything at one centre.
        let c = ToySet::Ring8.centers()[3];
        let s = mode_stats(&vec![c; 2500], ToySet::Ring8);
        assert_eq!(s.modes_captured, 1);
        assert_eq!(s.high_quality_fraction, 1.0);

        // Far-off and non-finite samples are low quality; nothing captured.
        let junk = vec![[10.0, 10.0], [f32::NAN, 0.0]];
        let s = mode_stats(&junk, ToySet::Ring8);
        assert_eq!((s.modes_captured, s.high_quality_fraction), (0, 0.0));
        assert_eq!(mode_stats(&[], ToySet::Ring8).high_quality_fraction, 0.0);

        // The threshold is a parameter: 19 samples at a mode is not enough
        // under PacGAN's rule but is with a lower threshold.
        let few = vec![c; 19];
        assert_eq!(mode_stats(&few, ToySet::Ring8).modes_captured, 0);
        let lax = ModeCriteria {
            min_high_quality: 1,
            ..ModeCriteria::default()
        };
        assert_eq!(mode_stats_with(&few, ToySet::Ring8, lax).modes_captured, 1);
        assert_eq!(ModeCriteria::scaled_for(250).min_high_quality, 2);
        assert_eq!(ModeCriteria::scaled_for(2500).min_high_quality, 20);
    }
}
