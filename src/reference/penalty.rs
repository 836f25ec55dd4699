//! Lipschitz penalties in f64: the kernels of shaders/penalty.wgsl one by one, and whole-critic
//! penalties with their exact parameter gradients (double backprop), which the tests check
//! against central finite differences of the penalty values computed here.
//!
//! Critic: h₀ = x, a_l = h_{l−1}W_l + b_l, h_l = φ_l(a_l), D = a_L (identity last layer, one
//! output). Input gradient g = ∂D/∂x by the chain e_L = 1, δ_{l−1} = e_l W_lᵀ,
//! e_l = δ_l ⊙ φ_l'(a_l). The penalty P = λ/B Σ_b ψ(‖g_b‖) is differentiated by running that
//! chain backwards (adjoints ē, δ̄), plus, for smooth activations, the φ'' terms ā_l that then
//! flow down the ordinary forward chain (adjoints s).

use super::activation::derivative;
use super::matmul::matmul;
use super::mlp;
use crate::kernels::Activation;
use crate::kernels::matmul::Layout;
use crate::kernels::penalty::PenaltyForm;
use crate::nn::MlpSpec;

/// ψ(r): (r − 1)², max(0, r − 1)², max(0, r − 1), or r².
pub fn psi(r: f64, form: PenaltyForm) -> f64 {
    match form {
        PenaltyForm::Squared => (r - 1.0).powi(2),
        PenaltyForm::OneSidedSquared => (r - 1.0).max(0.0).powi(2),
        PenaltyForm::Hinge => (r - 1.0).max(0.0),
        PenaltyForm::ZeroCentred => r * r,
    }
}

/// ψ'(r) (the hinge's kink at r = 1 takes the derivative 0 from the left).
pub fn psi_derivative(r: f64, form: PenaltyForm) -> f64 {
    match form {
        PenaltyForm::Squared => 2.0 * (r - 1.0),
        PenaltyForm::OneSidedSquared => 2.0 * (r - 1.0).max(0.0),
        PenaltyForm::ZeroCentred => 2.0 * r,
        PenaltyForm::Hinge => {
            if r > 1.0 {
                1.0
            } else {
                0.0
            }
        }
    }
}

/// ε[b]·real[b, :] + (1 − ε[b])·fake[b, :].
pub fn interpolate(real: &[f64], fake: &[f64], eps: &[f64], cols: usize) -> Vec<f64> {
    real.iter()
        .zip(fake)
        .enumerate()
        .map(|(i, (&x, &f))| {
            let e = eps[i / cols];
            e * x + (1.0 - e) * f
        })
        .collect()
}

/// A penalty over a batch of slopes r_b: its value, the mean slope and the adjoints.
#[derive(Clone, Debug)]
pub struct PenaltyRows {
    /// λ/B · Σ_b ψ(r_b).
    pub value: f64,
    /// mean_b r_b.
    pub mean_slope: f64,
    /// gradient_penalty: dP/dg [B, D]; lipschitz_penalty: dP/dD₁ [B].
    pub adjoint: Vec<f64>,
    /// lipschitz_penalty only: dP/dD₂ [B].
    pub adjoint2: Vec<f64>,
}

/// The gradient penalty of input gradients g [B, D]: r_b = ‖g_b[..norm_cols]‖, adjoint
/// λ/B · ψ'(r_b) g_b / r_b on those columns (0 for a zero row) and 0 on the rest.
pub fn gradient_penalty(
    g: &[f64],
    (cols, norm_cols): (usize, usize),
    lambda: f64,
    form: PenaltyForm,
) -> PenaltyRows {
    let rows = g.len() / cols;
    let scale = lambda / rows as f64;
    let (mut value, mut slopes) = (0.0, 0.0);
    let mut adjoint = Vec::with_capacity(g.len());
    for row in g.chunks(cols) {
        let norm = row[..norm_cols].iter().map(|v| v * v).sum::<f64>().sqrt();
        let coefficient = if norm > 0.0 {
            scale * psi_derivative(norm, form) / norm
        } else {
            0.0
        };
        adjoint.extend(
            row.iter()
                .enumerate()
                .map(|(j, v)| if j < norm_cols { coefficient * v } else { 0.0 }),
        );
        value += psi(norm, form);
        slopes += norm;
    }
    PenaltyRows {
        value: scale * value,
        mean_slope: slopes / rows as f64,
        adjoint,
        adjoint2: Vec::new(),
    }
}

/// φ'' expressed through the output y = φ(a).
pub fn second_derivative_from_output(y: f64, activation: Activation) -> f64 {
    match activation {
        Activation::Tanh => -2.0 * y * (1.0 - y * y),
        Activation::Sigmoid => y * (1.0 - y) * (1.0 - 2.0 * y),
        _ => 0.0,
    }
}

/// ē ⊙ δ ⊙ φ''(y).
pub fn second_derivative(
    ebar: &[f64],
    delta: &[f64],
    y: &[f64],
    activation: Activation,
) -> Vec<f64> {
    ebar.iter()
        .zip(delta)
        .zip(y)
        .map(|((&e, &d), &y)| e * d * second_derivative_from_output(y, activation))
        .collect()
}

/// The finite-difference Lipschitz penalty: r_b = |d1_b − d2_b| / ‖y1_b − y2_b‖ (0 where the
/// points coincide), adjoints dP/dd1 and dP/dd2 = −dP/dd1.
pub fn lipschitz_penalty(
    (d1, d2): (&[f64], &[f64]),
    (y1, y2): (&[f64], &[f64]),
    cols: usize,
    lambda: f64,
    form: PenaltyForm,
) -> PenaltyRows {
    let rows = d1.len();
    let scale = lambda / rows as f64;
    let (mut value, mut slopes) = (0.0, 0.0);
    let (mut adjoint, mut adjoint2) = (Vec::new(), Vec::new());
    for b in 0..rows {
        let distance = (0..cols)
            .map(|j| (y1[b * cols + j] - y2[b * cols + j]).powi(2))
            .sum::<f64>()
            .sqrt();
        let difference = d1[b] - d2[b];
        let (ratio, grad) = if distance > 0.0 {
            let ratio = difference.abs() / distance;
            let sign = if difference > 0.0 {
                1.0
            } else if difference < 0.0 {
                -1.0
            } else {
                0.0
            };
            (ratio, scale * psi_derivative(ratio, form) * sign / distance)
        } else {
            (0.0, 0.0)
        };
        adjoint.push(grad);
        adjoint2.push(-grad);
        value += psi(ratio, form);
        slopes += ratio;
    }
    PenaltyRows {
        value: scale * value,
        mean_slope: slopes / rows as f64,
        adjoint,
        adjoint2,
    }
}

fn check_critic(spec: &MlpSpec) {
    let last = spec.layers.last().expect("a critic has layers");
    assert!(
        last.outputs == 1 && last.activation == Activation::Identity,
        "a critic ends in one identity output"
    );
}

/// The chain of the input gradient: e[l] = ∂D/∂a_l and d[l] = ∂D/∂(input of layer l), so
/// d[0] = g. Layers are 0-based here (layer l has weights params[2l]).
struct InputGradient {
    e: Vec<Vec<f64>>,
    d: Vec<Vec<f64>>,
}

fn input_gradient_chain(
    spec: &MlpSpec,
    params: &[Vec<f64>],
    trace: &mlp::Trace,
    batch: usize,
) -> InputGradient {
    let layers = spec.layers.len();
    let mut e = vec![Vec::new(); layers];
    let mut d = vec![Vec::new(); layers];
    e[layers - 1] = vec![1.0; batch];
    for l in (0..layers).rev() {
        let layer = &spec.layers[l];
        d[l] = matmul(
            Layout::DyWt,
            &e[l],
            &params[2 * l],
            (batch, layer.inputs, layer.outputs),
        );
        if l > 0 {
            let below = &spec.layers[l - 1];
            e[l - 1] = d[l]
                .iter()
                .zip(&trace.pre[l - 1])
                .map(|(v, &a)| v * derivative(a, below.activation))
                .collect();
        }
    }
    InputGradient { e, d }
}

/// g = ∂D/∂x [batch, inputs] of a critic.
pub fn critic_input_gradient(
    spec: &MlpSpec,
    params: &[Vec<f64>],
    x: &[f64],
    batch: usize,
) -> Vec<f64> {
    check_critic(spec);
    let trace = mlp::forward(spec, params, x, batch);
    input_gradient_chain(spec, params, &trace, batch)
        .d
        .swap_remove(0)
}

/// The gradient penalty of the critic at the points x [batch, inputs].
pub fn critic_gradient_penalty(
    spec: &MlpSpec,
    params: &[Vec<f64>],
    x: &[f64],
    batch: usize,
    lambda: f64,
    form: PenaltyForm,
) -> PenaltyRows {
    let g = critic_input_gradient(spec, params, x, batch);
    gradient_penalty(&g, (spec.inputs(), spec.inputs()), lambda, form)
}

/// The gradient penalty and its exact gradient with respect to every parameter (in
/// `MlpSpec::parameter_shapes` order), by double backprop.
pub fn critic_gradient_penalty_backward(
    spec: &MlpSpec,
    params: &[Vec<f64>],
    x: &[f64],
    batch: usize,
    lambda: f64,
    form: PenaltyForm,
) -> (PenaltyRows, Vec<Vec<f64>>) {
    check_critic(spec);
    let layers = spec.layers.len();
    let trace = mlp::forward(spec, params, x, batch);
    let InputGradient { e, d } = input_gradient_chain(spec, params, &trace, batch);
    let penalty = gradient_penalty(&d[0], (spec.inputs(), spec.inputs()), lambda, form);
    let mut grads: Vec<Vec<f64>> = params.iter().map(|p| vec![0.0; p.len()]).collect();

    // The input-gradient chain in reverse: δ̄ (dbar) flows up from ū = dP/dg.
    let mut abar: Vec<Vec<f64>> = (0..layers)
        .map(|l| vec![0.0; batch * spec.layers[l].outputs])
        .collect();
    let mut dbar = penalty.adjoint.clone();
    for l in 0..layers {
        let layer = &spec.layers[l];
        let dw = matmul(
            Layout::XtDy,
            &dbar,
            &e[l],
            (layer.inputs, layer.outputs, batch),
        );
        add(&mut grads[2 * l], &dw);
        if l + 1 < layers {
            let ebar = matmul(
                Layout::XW,
                &dbar,
                &params[2 * l],
                (batch, layer.outputs, layer.inputs),
            );
            abar[l] = ebar
                .iter()
                .zip(&d[l + 1])
                .zip(&trace.outputs[l])
                .map(|((&eb, &delta), &y)| {
                    eb * delta * second_derivative_from_output(y, layer.activation)
                })
                .collect();
            dbar = ebar
                .iter()
                .zip(&trace.pre[l])
                .map(|(eb, &a)| eb * derivative(a, layer.activation))
                .collect();
        }
    }

    // The φ'' terms enter the forward chain at each layer's pre-activation and flow down.
    let mut s = vec![0.0; batch]; // ∂P/∂a of the last layer: D itself is not penalised
    for l in (0..layers).rev() {
        let layer = &spec.layers[l];
        if l + 1 < layers {
            let above = &spec.layers[l + 1];
            let t = matmul(
                Layout::DyWt,
                &s,
                &params[2 * (l + 1)],
                (batch, above.inputs, above.outputs),
            );
            s = t
                .iter()
                .zip(&trace.pre[l])
                .zip(&abar[l])
                .map(|((v, &a), ab)| ab + v * derivative(a, layer.activation))
                .collect();
        }
        let input = if l == 0 { x } else { &trace.outputs[l - 1] };
        let dw = matmul(
            Layout::XtDy,
            input,
            &s,
            (layer.inputs, layer.outputs, batch),
        );
        add(&mut grads[2 * l], &dw);
        let db = super::reduce::column_sums(&s, layer.outputs);
        add(&mut grads[2 * l + 1], &db);
    }
    (penalty, grads)
}

fn add(into: &mut [f64], values: &[f64]) {
    for (a, b) in into.iter_mut().zip(values) {
        *a += b;
    }
}

/// The finite-difference Lipschitz penalty of the critic between the points y1 and y2.
pub fn critic_lipschitz_penalty(
    spec: &MlpSpec,
    params: &[Vec<f64>],
    (y1, y2): (&[f64], &[f64]),
    batch: usize,
    lambda: f64,
    form: PenaltyForm,
) -> PenaltyRows {
    check_critic(spec);
    let d1 = mlp::forward(spec, params, y1, batch).outputs.pop().unwrap();
    let d2 = mlp::forward(spec, params, y2, batch).outputs.pop().unwrap();
    lipschitz_penalty((&d1, &d2), (y1, y2), spec.inputs(), lambda, form)
}

/// The Lipschitz penalty and its gradient with respect to every parameter: two ordinary
/// backward passes from dP/dD₁ and dP/dD₂.
pub fn critic_lipschitz_penalty_backward(
    spec: &MlpSpec,
    params: &[Vec<f64>],
    (y1, y2): (&[f64], &[f64]),
    batch: usize,
    lambda: f64,
    form: PenaltyForm,
) -> (PenaltyRows, Vec<Vec<f64>>) {
    let penalty = critic_lipschitz_penalty(spec, params, (y1, y2), batch, lambda, form);
    let trace1 = mlp::forward(spec, params, y1, batch);
    let trace2 = mlp::forward(spec, params, y2, batch);
    let (mut grads, _) = mlp::backward(spec, params, &trace1, &penalty.adjoint, batch);
    let (grads2, _) = mlp::backward(spec, params, &trace2, &penalty.adjoint2, batch);
    for (g, g2) in grads.iter_mut().zip(&grads2) {
        add(g, g2);
    }
    (penalty, grads)
}
