//! 1-D toy sets for the paper's Figure 1 (Goodfellow et al. 2014): a Gaussian (`gauss1d`) and
//! a two-Gaussian mixture (`mix1d`), their closed-form densities, a kernel density estimate of
//! the generator's density, and the optimal discriminator D*(x) = p_data(x) / (p_data(x) +
//! p_g(x)) of Proposition 1.

use std::f64::consts::PI;

use super::toy::SplitMix64;

/// A built-in 1-D data density: equal-weight Gaussians of one standard deviation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Density1d {
    /// N(1, 0.5²).
    Gauss1d,
    /// ½ N(−1.5, 0.4²) + ½ N(1.5, 0.4²).
    Mix1d,
}

impl Density1d {
    pub const ALL: [Density1d; 2] = [Density1d::Gauss1d, Density1d::Mix1d];

    pub fn name(self) -> &'static str {
        match self {
            Density1d::Gauss1d => "gauss1d",
            Density1d::Mix1d => "mix1d",
        }
    }

    pub fn parse(s: &str) -> Option<Density1d> {
        Self::ALL
            .into_iter()
            .find(|d| d.name() == s.trim().to_ascii_lowercase())
    }

    /// The components' means.
    pub fn centers(self) -> Vec<f64> {
        match self {
            Density1d::Gauss1d => vec![1.0],
            Density1d::Mix1d => vec![-1.5, 1.5],
        }
    }

    /// Every component's standard deviation.
    pub fn std(self) -> f64 {
        match self {
            Density1d::Gauss1d => 0.5,
            Density1d::Mix1d => 0.4,
        }
    }

    /// p_data(x).
    pub fn pdf(self, x: f64) -> f64 {
        let centers = self.centers();
        let s = self.std();
        centers
            .iter()
            .map(|m| normal_pdf((x - m) / s) / s)
            .sum::<f64>()
            / centers.len() as f64
    }

    /// `n` points, each from a uniformly chosen component; deterministic in `seed`.
    pub fn sample(self, n: usize, seed: u64) -> Vec<f32> {
        let centers = self.centers();
        let mut rng = SplitMix64::new(seed);
        (0..n)
            .map(|_| {
                let m = centers[rng.below(centers.len() as u64) as usize];
                (m + self.std() * rng.next_normal()) as f32
            })
            .collect()
    }

    /// The x range of the figure: 4σ beyond the outer means.
    pub fn plot_range(self) -> (f64, f64) {
        let centers = self.centers();
        let (low, high) = centers
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &m| {
                (l.min(m), h.max(m))
            });
        (low - 4.0 * self.std(), high + 4.0 * self.std())
    }

    /// Whether x is on the data's support, taken as within 3σ of a component's mean (where
    /// p_data is not negligible, so D* is defined by the data and not by rounding).
    pub fn on_support(self, x: f64) -> bool {
        self.centers()
            .iter()
            .any(|m| (x - m).abs() <= 3.0 * self.std())
    }
}

fn normal_pdf(z: f64) -> f64 {
    (-0.5 * z * z).exp() / (2.0 * PI).sqrt()
}

/// A Gaussian kernel density estimate of `samples` at each x, with Silverman's bandwidth
/// 1.06·σ̂·n^(−1/5) (σ̂ the samples' standard deviation, at least `min_bandwidth`, so a collapsed
/// generator gives a narrow spike rather than a division by zero). Non-finite samples are
/// ignored.
pub fn kernel_density(samples: &[f32], xs: &[f64], min_bandwidth: f64) -> Vec<f64> {
    let finite: Vec<f64> = samples
        .iter()
        .filter(|v| v.is_finite())
        .map(|&v| v as f64)
        .collect();
    if finite.is_empty() {
        return vec![0.0; xs.len()];
    }
    let n = finite.len() as f64;
    let mean = finite.iter().sum::<f64>() / n;
    let variance = finite.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
    let h = (1.06 * variance.sqrt() * n.powf(-0.2)).max(min_bandwidth);
    xs.iter()
        .map(|&x| finite.iter().map(|&v| normal_pdf((x - v) / h)).sum::<f64>() / (n * h))
        .collect()
}

/// D*(x) = p_data / (p_data + p_g): the best discriminator against the current generator
/// (Proposition 1); ½ where both densities vanish.
pub fn optimal_discriminator(p_data: f64, p_g: f64) -> f64 {
    let total = p_data + p_g;
    if total > 0.0 { p_data / total } else { 0.5 }
}

/// One Figure-1 panel's curves on a grid of x: the data density, the generator's (estimated)
/// density, D(x) and D*(x), and the mean |D − D*| under p_data.
#[derive(Clone, Debug, PartialEq)]
pub struct Figure1Curves {
    pub xs: Vec<f64>,
    pub p_data: Vec<f64>,
    pub p_g: Vec<f64>,
    pub d: Vec<f64>,
    pub d_star: Vec<f64>,
    pub d_star_gap: f64,
}

/// Points of the figure's x grid.
pub const FIGURE1_GRID: usize = 400;

/// The x grid of `density`'s figure: FIGURE1_GRID points across its plot range.
pub fn figure1_grid(density: Density1d) -> Vec<f64> {
    let (low, high) = density.plot_range();
    (0..FIGURE1_GRID)
        .map(|i| low + (high - low) * i as f64 / (FIGURE1_GRID - 1) as f64)
        .collect()
}

/// The curves from G's samples and D(x) on `figure1_grid(density)`.
pub fn figure1_curves(density: Density1d, samples: &[f32], d: &[f64]) -> Figure1Curves {
    let xs = figure1_grid(density);
    let (low, high) = density.plot_range();
    // Densities below 1e-12 are 0 on the figure's scale (its axis then starts at 0).
    let visible = |p: f64| if p < 1e-12 { 0.0 } else { p };
    let p_data: Vec<f64> = xs.iter().map(|&x| visible(density.pdf(x))).collect();
    // The kernel no narrower than two grid steps: finer structure could not be drawn.
    let p_g: Vec<f64> = kernel_density(samples, &xs, 2.0 * (high - low) / FIGURE1_GRID as f64)
        .into_iter()
        .map(visible)
        .collect();
    let d_star: Vec<f64> = p_data
        .iter()
        .zip(&p_g)
        .map(|(&p, &q)| optimal_discriminator(p, q))
        .collect();
    // Mean |D − D*| under p_data: the grid's points weighted by the data density, so the
    // data's support counts and its far tails, where a finite sample of G says little, fade.
    let (mut gap, mut weight) = (0.0, 0.0);
    for ((&p, &d), &star) in p_data.iter().zip(d).zip(&d_star) {
        gap += p * (d - star).abs();
        weight += p;
    }
    Figure1Curves {
        // No D given: no gap.
        d_star_gap: if d.is_empty() || weight == 0.0 {
            f64::NAN
        } else {
            gap / weight
        },
        xs,
        p_data,
        p_g,
        d: d.to_vec(),
        d_star,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The densities integrate to 1 and match the Gaussian formula at the means.
    #[test]
    fn densities_are_normalised_gaussians() {
        for density in Density1d::ALL {
            let (low, high) = density.plot_range();
            let (a, b) = (low - 2.0, high + 2.0);
            let steps = 20_000;
            let dx = (b - a) / steps as f64;
            let integral: f64 = (0..steps)
                .map(|i| density.pdf(a + (i as f64 + 0.5) * dx) * dx)
                .sum();
            assert!(
                (integral - 1.0).abs() < 1e-9,
                "{density:?}: ∫p = {integral}"
            );
        }
        let peak = 1.0 / (0.5 * (2.0 * PI).sqrt());
        assert!((Density1d::Gauss1d.pdf(1.0) - peak).abs() < 1e-12);
        // The mixture's means are 7.5σ apart: each peak is half a component's.
        let half = 0.5 / (0.4 * (2.0 * PI).sqrt());
        assert!((Density1d::Mix1d.pdf(1.5) - half).abs() < 1e-6);
        assert_eq!(Density1d::parse("MIX1D"), Some(Density1d::Mix1d));
        assert_eq!(Density1d::parse("ring8"), None);
    }

    /// Samples follow the density: mean and variance of many draws.
    #[test]
    fn samples_have_the_densitys_moments() {
        let n = 40_000;
        for (density, variance) in [
            (Density1d::Gauss1d, 0.25),
            (Density1d::Mix1d, 0.16 + 1.5 * 1.5),
        ] {
            let xs = density.sample(n, 3);
            let mean = xs.iter().map(|&v| v as f64).sum::<f64>() / n as f64;
            let var = xs.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / n as f64;
            let centers = density.centers();
            let expected_mean = centers.iter().sum::<f64>() / centers.len() as f64;
            assert!(
                (mean - expected_mean).abs() < 0.03,
                "{density:?}: mean {mean}"
            );
            assert!(
                (var - variance).abs() < 0.05 * variance,
                "{density:?}: var {var}"
            );
        }
    }

    /// D* is ½ where G matches the data, and p/(p+q) in closed form elsewhere; a KDE of the
    /// data's own samples is close to its density, so D* ≈ ½ and D ≡ ½ has a small gap.
    #[test]
    fn optimal_discriminator_is_half_at_the_global_optimum() {
        assert_eq!(optimal_discriminator(0.3, 0.3), 0.5);
        assert!((optimal_discriminator(0.3, 0.1) - 0.75).abs() < 1e-15);
        assert_eq!(optimal_discriminator(0.0, 0.0), 0.5);
        let density = Density1d::Gauss1d;
        let samples = density.sample(20_000, 11);
        let half = vec![0.5; FIGURE1_GRID];
        let curves = figure1_curves(density, &samples, &half);
        assert!(curves.d_star_gap < 0.03, "gap {}", curves.d_star_gap);
        for ((&x, &p), &q) in curves.xs.iter().zip(&curves.p_data).zip(&curves.p_g) {
            if density.on_support(x) {
                assert!((p - q).abs() < 0.05, "x {x}: p {p} vs KDE {q}");
            }
        }
        // A generator stuck at one point: D* is 1 on the support away from it, and D ≡ ½
        // misses it by about ½.
        let collapsed = vec![3.0f32; 1000];
        let curves = figure1_curves(density, &collapsed, &half);
        assert!(curves.d_star_gap > 0.4, "gap {}", curves.d_star_gap);
    }
}
