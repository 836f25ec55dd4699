//! Figure 3 of Goodfellow et al. 2014: samples along paths in z between random pairs of noise
//! vectors, straight (linear) or on the great circle between them (spherical, `--slerp`, which
//! keeps a Gaussian z at the norms the prior puts its mass at; White 2016).

use super::prior::Prior;

/// How the path between two noise vectors is drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Path {
    Linear,
    Spherical,
}

/// The point at fraction t ∈ [0, 1] of the path from a to b; t = 0 and t = 1 give a and b
/// exactly.
pub fn interpolate(a: &[f32], b: &[f32], t: f64, path: Path) -> Vec<f32> {
    if t == 0.0 {
        return a.to_vec();
    }
    if t == 1.0 {
        return b.to_vec();
    }
    let (wa, wb) = match path {
        Path::Linear => (1.0 - t, t),
        Path::Spherical => {
            let dot: f64 = a.iter().zip(b).map(|(&x, &y)| x as f64 * y as f64).sum();
            let norm = |v: &[f32]| v.iter().map(|&x| (x as f64).powi(2)).sum::<f64>().sqrt();
            let cos = (dot / (norm(a) * norm(b))).clamp(-1.0, 1.0);
            let omega = cos.acos();
            // Parallel (or zero) vectors: the great circle is not defined, the line is.
            if !omega.is_finite() || omega.sin().abs() < 1e-9 {
                (1.0 - t, t)
            } else {
                (
                    ((1.0 - t) * omega).sin() / omega.sin(),
                    (t * omega).sin() / omega.sin(),
                )
            }
        }
    };
    a.iter()
        .zip(b)
        .map(|(&x, &y)| (wa * x as f64 + wb * y as f64) as f32)
        .collect()
}

/// G's inputs for a grid of `rows` paths of `steps` points each (row r from noise pair r; a
/// conditional run's rows take the classes in turn, or all `class`), row by row, with each
/// row's labels; and the endpoints' noise, [rows, 2, noise_dim].
pub struct Interpolation {
    pub input: Vec<f32>,
    pub labels: Vec<u32>,
    pub endpoints: Vec<f32>,
}

pub fn interpolation(
    prior: &Prior,
    (rows, steps): (usize, usize),
    path: Path,
    seed: u64,
    class: Option<u32>,
) -> Interpolation {
    let dim = prior.noise_dim;
    let endpoints = prior.host_noise(2 * rows, seed);
    let mut noise = Vec::with_capacity(rows * steps * dim);
    let mut labels = Vec::new();
    for r in 0..rows {
        let pair = &endpoints[2 * r * dim..2 * (r + 1) * dim];
        let (a, b) = pair.split_at(dim);
        for s in 0..steps {
            let t = if steps == 1 {
                0.0
            } else {
                s as f64 / (steps - 1) as f64
            };
            noise.extend(interpolate(a, b, t, path));
        }
        if let Some(classes) = prior.classes {
            let label = class.unwrap_or((r % classes) as u32);
            labels.extend(std::iter::repeat_n(label, steps));
        }
    }
    Interpolation {
        input: prior.host_input(&noise, &labels),
        labels,
        endpoints,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gan::prior::Noise;

    fn prior(classes: Option<usize>) -> Prior {
        Prior {
            noise: Noise::Normal,
            noise_scale: 1.0,
            noise_dim: 5,
            classes,
        }
    }

    #[test]
    fn paths_start_and_end_at_their_endpoints() {
        let prior = prior(None);
        for path in [Path::Linear, Path::Spherical] {
            let grid = interpolation(&prior, (3, 7), path, 4, None);
            let dim = prior.noise_dim;
            for r in 0..3 {
                let row = &grid.input[r * 7 * dim..(r + 1) * 7 * dim];
                let pair = &grid.endpoints[2 * r * dim..2 * (r + 1) * dim];
                assert_eq!(&row[..dim], &pair[..dim], "{path:?} row {r}: start");
                assert_eq!(&row[6 * dim..], &pair[dim..], "{path:?} row {r}: end");
            }
        }
    }

    #[test]
    fn linear_midpoints_are_means_and_spherical_ones_keep_the_norm() {
        let a = [1.0f32, 0.0, 0.0];
        let b = [0.0f32, 2.0, 0.0];
        assert_eq!(interpolate(&a, &b, 0.5, Path::Linear), [0.5, 1.0, 0.0]);
        // Orthogonal unit vectors: the great-circle midpoint is (1, 1)/√2, of norm 1.
        let b = [0.0f32, 1.0, 0.0];
        let mid = interpolate(&a, &b, 0.5, Path::Spherical);
        let h = std::f32::consts::FRAC_1_SQRT_2;
        assert!(
            (mid[0] - h).abs() < 1e-6 && (mid[1] - h).abs() < 1e-6,
            "{mid:?}"
        );
        // Parallel vectors fall back to the line.
        assert_eq!(interpolate(&a, &a, 0.25, Path::Spherical), a);
    }

    #[test]
    fn conditional_rows_take_the_classes_in_turn() {
        let prior = prior(Some(3));
        let grid = interpolation(&prior, (4, 2), Path::Linear, 0, None);
        assert_eq!(grid.labels, [0, 0, 1, 1, 2, 2, 0, 0]);
        assert_eq!(grid.input.len(), 8 * (5 + 3));
        let one = interpolation(&prior, (2, 2), Path::Linear, 0, Some(2));
        assert_eq!(one.labels, [2, 2, 2, 2]);
        // The one-hot follows the noise.
        assert_eq!(&one.input[5..8], &[0.0, 0.0, 1.0]);
    }
}
