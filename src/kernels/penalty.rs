//! Lipschitz-penalty kernels (shaders/penalty.wgsl): interpolates with one ε per row, the
//! gradient penalty's value, adjoint and metrics, the φ'' term of double backprop, an in-place
//! add, and the finite-difference Lipschitz penalty with its gradient. `src/gan/critic.rs`
//! assembles them with the matmul and activation kernels into the exact penalty gradient.

use super::reduce::check_slot;
use super::{Activation, expect_len};
use crate::error::{Error, Result};
use crate::gpu::{Access, Dispatch, GpuContext, KernelSpec, Tensor, workgroups_1d};

/// Mirrors `Params` in shaders/penalty.wgsl.
#[repr(C)]
#[derive(Clone, Copy, Default, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    rows: u32,
    cols: u32,
    n: u32,
    form: u32,
    lambda: f32,
    penalty_slot: u32,
    norm_slot: u32,
    loss_slot: u32,
    norm_cols: u32,
    _pad: [u32; 3],
}

/// The function ψ a penalty applies to each slope r.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PenaltyForm {
    /// (r − 1)²: WGAN-GP's two-sided penalty.
    #[default]
    Squared,
    /// max(0, r − 1)²: penalise only slopes above 1 (WGAN-LP).
    OneSidedSquared,
    /// max(0, r − 1), un-squared: Su Jianlin's `mnist_gangp.py` (relu(‖∇D‖ − 1)).
    Hinge,
    /// r²: a zero-centred penalty, R1 (Mescheder et al. 2018) at the real points.
    ZeroCentred,
}

impl PenaltyForm {
    /// The code of `form` in shaders/penalty.wgsl.
    pub fn code(self) -> u32 {
        match self {
            PenaltyForm::Squared => 0,
            PenaltyForm::OneSidedSquared => 1,
            PenaltyForm::Hinge => 2,
            PenaltyForm::ZeroCentred => 3,
        }
    }
}

/// The shape of the penalty ψ(r) applied to a slope r (a gradient norm or a difference quotient).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PenaltyShape {
    /// λ: the penalty is λ/B · Σ_b ψ(r_b).
    pub lambda: f32,
    /// ψ.
    pub form: PenaltyForm,
}

/// Where the penalty kernels add their metrics (all in one metrics tensor).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PenaltySlots {
    /// λ/B · Σ ψ(r_b).
    pub penalty: u32,
    /// mean_b r_b (the gradient norm at x̂, or the difference quotient).
    pub norm: u32,
    /// The critic loss, which the penalty is part of.
    pub loss: u32,
}

fn matrix(kernel: &str, operand: &str, tensor: &Tensor) -> Result<(usize, usize)> {
    match tensor.shape() {
        [rows, cols] if *rows > 0 && *cols > 0 => Ok((*rows, *cols)),
        shape => Err(Error::Input(format!(
            "{kernel}: {operand} must be a non-empty 2-D [rows, columns] tensor, found shape {shape:?}"
        ))),
    }
}

fn check_slots(kernel: &str, metrics: &Tensor, slots: PenaltySlots) -> Result<()> {
    for slot in [slots.penalty, slots.norm, slots.loss] {
        check_slot(kernel, metrics, slot)?;
    }
    if slots.penalty == slots.norm || slots.norm == slots.loss || slots.penalty == slots.loss {
        return Err(Error::Input(format!(
            "{kernel}: the penalty, norm and loss slots must differ, found {slots:?}"
        )));
    }
    Ok(())
}

fn check_lambda(kernel: &str, lambda: f32) -> Result<()> {
    if lambda.is_finite() && lambda >= 0.0 {
        Ok(())
    } else {
        Err(Error::Input(format!(
            "{kernel}: lambda must be a finite number ≥ 0, found {lambda}"
        )))
    }
}

/// The checked Params both penalties share: the metric slots, λ and ψ, over `n`
/// elements of a [rows, cols] operand.
fn penalty_params(
    kernel: &str,
    metrics: &Tensor,
    (rows, cols, n): (usize, usize, usize),
    shape: PenaltyShape,
    slots: PenaltySlots,
) -> Result<Params> {
    check_slots(kernel, metrics, slots)?;
    check_lambda(kernel, shape.lambda)?;
    Ok(Params {
        rows: rows as u32,
        cols: cols as u32,
        n: n as u32,
        form: shape.form.code(),
        lambda: shape.lambda,
        penalty_slot: slots.penalty,
        norm_slot: slots.norm,
        loss_slot: slots.loss,
        norm_cols: cols as u32,
        _pad: [0; 3],
    })
}

fn dispatch(
    ctx: &GpuContext,
    entry: &'static str,
    constants: Vec<(&'static str, f64)>,
    params: Params,
    tensors: Vec<(&Tensor, Access)>,
    workgroups: [u32; 3],
) -> Result<Dispatch> {
    ctx.dispatch(KernelSpec {
        shader: "penalty",
        entry,
        constants,
        params: bytemuck::bytes_of(&params),
        tensors,
        workgroups,
    })
}

/// out[b, :] = ε[b]·real[b, :] + (1 − ε[b])·fake[b, :] for [B, D] tensors and ε [B].
pub fn interpolate(
    ctx: &GpuContext,
    real: &Tensor,
    fake: &Tensor,
    eps: &Tensor,
    out: &Tensor,
) -> Result<Dispatch> {
    let (rows, cols) = matrix("interpolate", "real", real)?;
    expect_len("interpolate", "fake", fake.len(), rows * cols)?;
    expect_len("interpolate", "eps", eps.len(), rows)?;
    expect_len("interpolate", "out", out.len(), rows * cols)?;
    let params = Params {
        rows: rows as u32,
        cols: cols as u32,
        n: (rows * cols) as u32,
        ..Default::default()
    };
    dispatch(
        ctx,
        "interpolate",
        vec![],
        params,
        vec![
            (real, Access::Read),
            (fake, Access::Read),
            (eps, Access::Read),
            (out, Access::ReadWrite),
        ],
        workgroups_1d(rows * cols, 256),
    )
}

/// For the critic's input gradient g [B, D]: adjoint[b, :] = λ/B · ψ'(‖g_b‖) · g_b / ‖g_b‖
/// (0 for a zero row), and metrics[penalty], metrics[loss] += λ/B · Σ ψ(‖g_b‖),
/// metrics[norm] += mean ‖g_b‖. The norm covers the first `norm_cols` columns (all D for an
/// unconditional critic; a conditional critic's label columns follow its image and are not
/// penalised, their adjoint is 0). One workgroup; metrics are always added to.
pub fn gradient_penalty(
    ctx: &GpuContext,
    g: &Tensor,
    adjoint: &Tensor,
    metrics: &Tensor,
    (shape, norm_cols): (PenaltyShape, usize),
    slots: PenaltySlots,
) -> Result<Dispatch> {
    let (rows, cols) = matrix("gradient_penalty", "g", g)?;
    expect_len("gradient_penalty", "adjoint", adjoint.len(), rows * cols)?;
    if norm_cols == 0 || norm_cols > cols {
        return Err(Error::Input(format!(
            "gradient_penalty: the norm must cover 1 to {cols} columns of g, found {norm_cols}"
        )));
    }
    let mut params = penalty_params(
        "gradient_penalty",
        metrics,
        (rows, cols, rows * cols),
        shape,
        slots,
    )?;
    params.norm_cols = norm_cols as u32;
    dispatch(
        ctx,
        "gradient_penalty",
        vec![],
        params,
        vec![
            (g, Access::Read),
            (adjoint, Access::ReadWrite),
            (metrics, Access::ReadWrite),
        ],
        [1, 1, 1],
    )
}

/// out = ē ⊙ δ ⊙ φ''(a), with φ'' computed from the activation's output y (zero for the
/// piecewise-linear activations and the identity).
pub fn second_derivative(
    ctx: &GpuContext,
    ebar: &Tensor,
    delta: &Tensor,
    y: &Tensor,
    out: &Tensor,
    activation: Activation,
) -> Result<Dispatch> {
    let n = ebar.len();
    expect_len("second_derivative", "delta", delta.len(), n)?;
    expect_len("second_derivative", "y", y.len(), n)?;
    expect_len("second_derivative", "out", out.len(), n)?;
    let params = Params {
        n: n as u32,
        ..Default::default()
    };
    dispatch(
        ctx,
        "second_derivative",
        vec![("ACTIVATION", activation.code() as f64)],
        params,
        vec![
            (ebar, Access::Read),
            (delta, Access::Read),
            (y, Access::Read),
            (out, Access::ReadWrite),
        ],
        workgroups_1d(n, 256),
    )
}

/// out += x elementwise.
pub fn add_in_place(ctx: &GpuContext, x: &Tensor, out: &Tensor) -> Result<Dispatch> {
    expect_len("add_in_place", "out", out.len(), x.len())?;
    let params = Params {
        n: x.len() as u32,
        ..Default::default()
    };
    dispatch(
        ctx,
        "add_in_place",
        vec![],
        params,
        vec![(x, Access::Read), (out, Access::ReadWrite)],
        workgroups_1d(x.len(), 256),
    )
}

/// The finite-difference Lipschitz penalty of critic outputs d1, d2 [B] at points y1, y2
/// [B, D]: r_b = |d1_b − d2_b| / ‖y1_b − y2_b‖, grad1_b = λ/B · ψ'(r_b) · sign(d1_b − d2_b) /
/// ‖y1_b − y2_b‖ = −grad2_b (0 where y1_b = y2_b), metrics as [`gradient_penalty`] with r_b.
#[allow(clippy::too_many_arguments)]
pub fn lipschitz_penalty(
    ctx: &GpuContext,
    (d1, d2): (&Tensor, &Tensor),
    (y1, y2): (&Tensor, &Tensor),
    (grad1, grad2): (&Tensor, &Tensor),
    metrics: &Tensor,
    shape: PenaltyShape,
    slots: PenaltySlots,
) -> Result<Dispatch> {
    let (rows, cols) = matrix("lipschitz_penalty", "y1", y1)?;
    expect_len("lipschitz_penalty", "y2", y2.len(), rows * cols)?;
    for (operand, tensor) in [("d1", d1), ("d2", d2), ("grad1", grad1), ("grad2", grad2)] {
        expect_len("lipschitz_penalty", operand, tensor.len(), rows)?;
    }
    let params = penalty_params(
        "lipschitz_penalty",
        metrics,
        (rows, cols, rows),
        shape,
        slots,
    )?;
    dispatch(
        ctx,
        "lipschitz_penalty",
        vec![],
        params,
        vec![
            (d1, Access::Read),
            (d2, Access::Read),
            (y1, Access::Read),
            (y2, Access::Read),
            (grad1, Access::ReadWrite),
            (grad2, Access::ReadWrite),
            (metrics, Access::ReadWrite),
        ],
        [1, 1, 1],
    )
}
