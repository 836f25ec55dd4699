//! The Lipschitz penalties' exact parameter gradients: (a) the f64 reference double backprop
//! against central finite differences of the reference penalty, for every critic parameter;
//! (b) the GPU penalty (src/gan/critic.rs) against the f64 reference. LeakyReLU, ReLU, tanh and
//! sigmoid critics of two shapes, batch 1 and 4 or 5, two-sided, one-sided and lipschitz-fd.
//!
//! Piecewise-linear critics are not differentiable at a kink, where a finite difference is
//! wrong: a probe whose ±h points see another activation pattern (or, one-sided, another set of
//! penalised rows) than the base point is skipped, and the tests assert that few are.

mod support;

use gan_gpu::data::SplitMix64;
use gan_gpu::gan::critic::{GradientPenalty, LipschitzPenalty};
use gan_gpu::gpu::Recorder;
use gan_gpu::kernels::Activation;
use gan_gpu::kernels::penalty::{PenaltyForm, PenaltyShape, PenaltySlots};
use gan_gpu::nn::init::linear_init;
use gan_gpu::nn::{MlpSpec, Network};
use gan_gpu::reference::{mlp, penalty as reference};
use support::{assert_close_to_scale, fresh_rng, gpu, to_f64};

const LAMBDA: f64 = 10.0;
const SHAPES: [&[usize]; 2] = [&[7, 65, 33, 1], &[3, 5, 1]];
const ACTIVATIONS: [Activation; 4] = [
    Activation::LeakyRelu(0.2),
    Activation::Relu,
    Activation::Tanh,
    Activation::Sigmoid,
];

#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    Gradient { form: PenaltyForm },
    FiniteDifference { form: PenaltyForm },
}

const FORMS: [PenaltyForm; 4] = [
    PenaltyForm::Squared,
    PenaltyForm::OneSidedSquared,
    PenaltyForm::Hinge,
    PenaltyForm::ZeroCentred,
];

fn kinds() -> impl Iterator<Item = Kind> {
    FORMS
        .into_iter()
        .flat_map(|form| [Kind::Gradient { form }, Kind::FiniteDifference { form }])
}

impl Kind {
    fn form(self) -> PenaltyForm {
        match self {
            Kind::Gradient { form } | Kind::FiniteDifference { form } => form,
        }
    }

    /// ψ has a kink at r = 1 (the one-sided and hinge forms).
    fn kinked(self) -> bool {
        matches!(
            self.form(),
            PenaltyForm::OneSidedSquared | PenaltyForm::Hinge
        )
    }
}

/// A problem: critic, its parameters (f32 values, as the GPU holds them), and the points.
struct Problem {
    spec: MlpSpec,
    params: Vec<Vec<f32>>,
    batch: usize,
    /// x̂ for the gradient penalty; y₁ for lipschitz-fd.
    y1: Vec<f32>,
    /// lipschitz-fd's second point (unused by the gradient penalty).
    y2: Vec<f32>,
}

impl Problem {
    fn params64(&self) -> Vec<Vec<f64>> {
        self.params.iter().map(|p| to_f64(p)).collect()
    }

    fn penalty(&self, kind: Kind, params: &[Vec<f64>]) -> reference::PenaltyRows {
        let (y1, y2) = (to_f64(&self.y1), to_f64(&self.y2));
        match kind {
            Kind::Gradient { form } => reference::critic_gradient_penalty(
                &self.spec, params, &y1, self.batch, LAMBDA, form,
            ),
            Kind::FiniteDifference { form } => reference::critic_lipschitz_penalty(
                &self.spec,
                params,
                (&y1, &y2),
                self.batch,
                LAMBDA,
                form,
            ),
        }
    }

    fn backward(&self, kind: Kind) -> (reference::PenaltyRows, Vec<Vec<f64>>) {
        let (y1, y2) = (to_f64(&self.y1), to_f64(&self.y2));
        let params = self.params64();
        match kind {
            Kind::Gradient { form } => reference::critic_gradient_penalty_backward(
                &self.spec, &params, &y1, self.batch, LAMBDA, form,
            ),
            Kind::FiniteDifference { form } => reference::critic_lipschitz_penalty_backward(
                &self.spec,
                &params,
                (&y1, &y2),
                self.batch,
                LAMBDA,
                form,
            ),
        }
    }

    /// Which side of every kink the problem sits on: the sign of each piecewise-linear
    /// pre-activation at the points, and for one-sided penalties which rows are penalised.
    fn pattern(&self, kind: Kind, params: &[Vec<f64>]) -> Vec<bool> {
        let mut pattern = Vec::new();
        for points in [&self.y1, &self.y2] {
            let trace = mlp::forward(&self.spec, params, &to_f64(points), self.batch);
            for (layer, pre) in self.spec.layers.iter().zip(&trace.pre) {
                if matches!(
                    layer.activation,
                    Activation::Relu | Activation::LeakyRelu(_)
                ) {
                    pattern.extend(pre.iter().map(|&a| a > 0.0));
                }
            }
        }
        if kind.kinked() {
            pattern.extend(slopes(self, kind, params).iter().map(|&r| r > 1.0));
        }
        if let Kind::FiniteDifference { .. } = kind {
            // |D₁ − D₂| has a kink where the outputs cross.
            let (d1, d2) = (
                self.outputs(&self.y1, params),
                self.outputs(&self.y2, params),
            );
            pattern.extend(d1.iter().zip(&d2).map(|(a, b)| a > b));
        }
        pattern
    }

    /// D at each row of `points`.
    fn outputs(&self, points: &[f32], params: &[Vec<f64>]) -> Vec<f64> {
        self.outputs_and_summands(points, params).0
    }

    /// D at each row of `points`, and Σᵢ|wᵢ·hᵢ| + |b| of the critic's last layer (one output)
    /// there: the size f32's rounding of D is relative to, however much the sum cancels.
    fn outputs_and_summands(&self, points: &[f32], params: &[Vec<f64>]) -> (Vec<f64>, Vec<f64>) {
        let trace = mlp::forward(&self.spec, params, &to_f64(points), self.batch);
        let last = self.spec.layers.len() - 1;
        let hidden = if last == 0 {
            &trace.inputs
        } else {
            &trace.outputs[last - 1]
        };
        let (w, bias) = (&params[2 * last], &params[2 * last + 1]);
        let summands = hidden
            .chunks(self.spec.layers[last].inputs)
            .map(|h| h.iter().zip(w).map(|(h, w)| (h * w).abs()).sum::<f64>() + bias[0].abs())
            .collect();
        let outputs = trace.outputs[last].clone();
        (outputs, summands)
    }

    /// The smallest distance of any piecewise-linear pre-activation from its kink and of any
    /// one-sided slope from 1, relative to their scale: how safely f32 and f64 agree on sides.
    fn margin(&self, kind: Kind) -> f64 {
        let params = self.params64();
        let mut margin = f64::INFINITY;
        for points in [&self.y1, &self.y2] {
            let trace = mlp::forward(&self.spec, &params, &to_f64(points), self.batch);
            for (layer, pre) in self.spec.layers.iter().zip(&trace.pre) {
                if matches!(
                    layer.activation,
                    Activation::Relu | Activation::LeakyRelu(_)
                ) {
                    let scale = pre.iter().fold(0.0f64, |m, a| m.max(a.abs()));
                    margin = pre.iter().fold(margin, |m, a| m.min(a.abs() / scale));
                }
            }
        }
        for r in slopes(self, kind, &params) {
            if kind.kinked() {
                margin = margin.min((r - 1.0).abs());
            }
        }
        margin
    }

    /// The share of f32's digits that survive a difference quotient's cancellation (1 for
    /// the other kinds). D₁ − D₂ and ∂D₁/∂θ − ∂D₂/∂θ keep |D₁ − D₂| / S of them, S the size of
    /// D's summands (all of them are lost, and the sign, when D₁ ≈ D₂), and the penalty's
    /// r − 1 keeps |r − 1| / r of r's.
    fn digits_kept(&self, kind: Kind) -> f64 {
        let Kind::FiniteDifference { .. } = kind else {
            return 1.0;
        };
        let params = self.params64();
        let (d1, s1) = self.outputs_and_summands(&self.y1, &params);
        let (d2, s2) = self.outputs_and_summands(&self.y2, &params);
        slopes(self, kind, &params)
            .into_iter()
            .enumerate()
            .map(|(b, r)| {
                let kept = (d1[b] - d2[b]).abs() / s1[b].max(s2[b]).max(f64::MIN_POSITIVE);
                kept * ((r - 1.0).abs() / r.max(f64::MIN_POSITIVE)).min(1.0)
            })
            .fold(1.0, f64::min)
    }
}

/// Each row's slope: ‖∂D/∂x̂‖, or |D(y₁) − D(y₂)| / ‖y₁ − y₂‖.
fn slopes(problem: &Problem, kind: Kind, params: &[Vec<f64>]) -> Vec<f64> {
    let dim = problem.spec.inputs();
    let (y1, y2) = (to_f64(&problem.y1), to_f64(&problem.y2));
    match kind {
        Kind::Gradient { .. } => {
            reference::critic_input_gradient(&problem.spec, params, &y1, problem.batch)
                .chunks(dim)
                .map(|row| row.iter().map(|v| v * v).sum::<f64>().sqrt())
                .collect()
        }
        Kind::FiniteDifference { .. } => {
            let d1 = problem.outputs(&problem.y1, params);
            let d2 = problem.outputs(&problem.y2, params);
            (0..problem.batch)
                .map(|b| {
                    let distance = (0..dim)
                        .map(|j| (y1[b * dim + j] - y2[b * dim + j]).powi(2))
                        .sum::<f64>()
                        .sqrt();
                    (d1[b] - d2[b]).abs() / distance
                })
                .collect()
        }
    }
}

/// A random critic whose slopes straddle 1, so every penalty form has active rows: the last
/// layer is rescaled to put the median slope at 1.25 (slopes are linear in its weights).
fn problem(
    rng: &mut SplitMix64,
    sizes: &[usize],
    hidden: Activation,
    batch: usize,
    kind: Kind,
) -> Problem {
    let spec = MlpSpec::from_sizes(sizes, hidden, Activation::Identity);
    let dim = spec.inputs();
    let mut params = linear_init(&spec, rng.next_u64());
    let normal = |rng: &mut SplitMix64, n: usize| -> Vec<f32> {
        (0..n).map(|_| rng.next_normal() as f32).collect()
    };
    // Biases drawn too (they start at 0), so every layer's term is exercised.
    for l in 0..spec.layers.len() {
        let len = params[2 * l + 1].len();
        params[2 * l + 1] = normal(rng, len).iter().map(|v| 0.1 * v).collect();
    }
    let y1 = normal(rng, batch * dim);
    let y2 = normal(rng, batch * dim);
    let mut problem = Problem {
        spec,
        params,
        batch,
        y1,
        y2,
    };
    let mut r = slopes(&problem, kind, &problem.params64());
    r.sort_by(f64::total_cmp);
    let median = r[r.len() / 2].max(1e-3);
    let last = 2 * (problem.spec.layers.len() - 1);
    for w in &mut problem.params[last] {
        *w *= (1.25 / median) as f32;
    }
    problem
}

// One test per penalty kind, so the harness checks them in parallel.
#[test]
fn reference_gradient_penalty_matches_finite_differences() {
    check_reference(Kind::Gradient {
        form: PenaltyForm::Squared,
    });
}

#[test]
fn reference_one_sided_gradient_penalty_matches_finite_differences() {
    check_reference(Kind::Gradient {
        form: PenaltyForm::OneSidedSquared,
    });
}

#[test]
fn reference_hinge_gradient_penalty_matches_finite_differences() {
    check_reference(Kind::Gradient {
        form: PenaltyForm::Hinge,
    });
}

#[test]
fn reference_zero_centred_gradient_penalty_matches_finite_differences() {
    check_reference(Kind::Gradient {
        form: PenaltyForm::ZeroCentred,
    });
}

#[test]
fn reference_lipschitz_fd_penalty_matches_finite_differences() {
    check_reference(Kind::FiniteDifference {
        form: PenaltyForm::Squared,
    });
}

#[test]
fn reference_one_sided_lipschitz_fd_penalty_matches_finite_differences() {
    check_reference(Kind::FiniteDifference {
        form: PenaltyForm::OneSidedSquared,
    });
}

#[test]
fn reference_hinge_lipschitz_fd_penalty_matches_finite_differences() {
    check_reference(Kind::FiniteDifference {
        form: PenaltyForm::Hinge,
    });
}

/// Every parameter of every critic: central differences of the reference penalty value against
/// the reference double backprop.
fn check_reference(kind: Kind) {
    let mut rng = fresh_rng(&format!("reference {kind:?}"));
    let h = 1e-5;
    for hidden in ACTIVATIONS {
        for sizes in SHAPES {
            for batch in [1, 4] {
                let what = format!("{kind:?} {hidden:?} {sizes:?} batch {batch}");
                // Kept clear of kinks: a draw with a pre-activation within a probe's reach of
                // zero makes most of its probes straddle it (one did: 295 of 2,732).
                let problem = safe_problem(&mut rng, sizes, hidden, batch, kind);
                let params = problem.params64();
                let (value, grads) = problem.backward(kind);
                let base = problem.penalty(kind, &params);
                assert!(
                    (value.value - base.value).abs() <= 1e-12 * base.value.abs().max(1.0),
                    "{what}: penalty value"
                );
                let pattern = problem.pattern(kind, &params);
                let (mut probes, mut skipped) = (0, 0);
                for (p, tensor) in params.iter().enumerate() {
                    for index in 0..tensor.len() {
                        let mut plus = params.clone();
                        plus[p][index] += h;
                        let mut minus = params.clone();
                        minus[p][index] -= h;
                        probes += 1;
                        if problem.pattern(kind, &plus) != pattern
                            || problem.pattern(kind, &minus) != pattern
                        {
                            skipped += 1; // a kink between the probes
                            continue;
                        }
                        let numeric = (problem.penalty(kind, &plus).value
                            - problem.penalty(kind, &minus).value)
                            / (2.0 * h);
                        let analytic = grads[p][index];
                        assert!(
                            (numeric - analytic).abs() <= 1e-5 * analytic.abs().max(1e-2),
                            "{what}: parameter {p}[{index}]: finite difference {numeric} vs double backprop {analytic}"
                        );
                    }
                }
                assert!(
                    skipped * 20 <= probes,
                    "{what}: {skipped} of {probes} probes straddled a kink"
                );
            }
        }
    }
}

/// A problem whose kinks and one-sided thresholds are far enough that f32 and f64 agree on
/// every side, and whose difference quotients keep a thousandth of f32's digits (redrawn
/// otherwise; the margin is relative to each layer's scale).
fn safe_problem(
    rng: &mut SplitMix64,
    sizes: &[usize],
    hidden: Activation,
    batch: usize,
    kind: Kind,
) -> Problem {
    loop {
        let candidate = problem(rng, sizes, hidden, batch, kind);
        let (margin, kept) = (candidate.margin(kind), candidate.digits_kept(kind));
        if margin > 1e-3 && kept > 1e-3 {
            return candidate;
        }
    }
}

#[test]
fn gpu_penalty_gradients_match_reference() {
    let ctx = gpu();
    let mut rng = fresh_rng("gpu_penalty_gradients_match_reference");
    let slots = PenaltySlots {
        penalty: 0,
        norm: 1,
        loss: 2,
    };
    for kind in kinds() {
        for hidden in ACTIVATIONS {
            for sizes in SHAPES {
                for batch in [1, 5] {
                    let what = format!("{kind:?} {hidden:?} {sizes:?} batch {batch}");
                    let problem = safe_problem(&mut rng, sizes, hidden, batch, kind);
                    let spec = problem.spec.clone();
                    let dim = spec.inputs();
                    let critic =
                        Network::new(ctx, "critic", spec.clone(), &problem.params).unwrap();
                    // Gradients start poisoned-free at 0 (the penalty adds to them); metrics hold
                    // earlier sums, which the kernels must add to.
                    let metrics = ctx.upload("metrics", &[3], &[0.5f32, 0.25, -1.0]).unwrap();
                    let shape = PenaltyShape {
                        lambda: LAMBDA as f32,
                        form: kind.form(),
                    };
                    let y1 = ctx.upload("y1", &[batch, dim], &problem.y1).unwrap();
                    let y2 = ctx.upload("y2", &[batch, dim], &problem.y2).unwrap();
                    let (dispatches, input_gradient) = match kind {
                        Kind::Gradient { .. } => {
                            let gp = GradientPenalty::new(
                                ctx,
                                &critic,
                                &y1,
                                batch,
                                (shape, dim),
                                &metrics,
                                slots,
                            )
                            .unwrap();
                            (gp.dispatches, Some(gp.input_gradient))
                        }
                        Kind::FiniteDifference { .. } => {
                            let lp = LipschitzPenalty::new(
                                ctx,
                                &critic,
                                (&y1, &y2),
                                batch,
                                shape,
                                &metrics,
                                slots,
                            )
                            .unwrap();
                            (lp.dispatches, None)
                        }
                    };
                    let mut recorder = Recorder::new(ctx);
                    recorder.record_all(&dispatches);
                    recorder.submit().unwrap();

                    let (expected, grads) = problem.backward(kind);
                    let got = ctx.read_f32(&metrics).unwrap();
                    let close = |name: &str, gpu: f32, reference: f64, floor: f64| {
                        assert!(
                            ((gpu as f64) - reference).abs() <= 1e-4 * reference.abs().max(floor),
                            "{what}: {name}: gpu {gpu} vs reference {reference}"
                        );
                    };
                    close("penalty", got[0] - 0.5, expected.value, LAMBDA);
                    close("mean slope", got[1] - 0.25, expected.mean_slope, 1.0);
                    close("loss slot", got[2] + 1.0, expected.value, LAMBDA);
                    if let Some(g) = input_gradient {
                        let reference = reference::critic_input_gradient(
                            &spec,
                            &problem.params64(),
                            &to_f64(&problem.y1),
                            batch,
                        );
                        assert_close_to_scale(
                            &format!("{what}: input gradient"),
                            &ctx.read_f32(&g).unwrap(),
                            &reference,
                            2e-4,
                        );
                    }
                    for (p, view) in critic.gradients().unwrap().views.iter().enumerate() {
                        assert_close_to_scale(
                            &format!("{what}: parameter {p} gradient"),
                            &ctx.read_f32(view).unwrap(),
                            &grads[p],
                            2e-4,
                        );
                    }
                }
            }
        }
    }
}
