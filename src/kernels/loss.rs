//! Losses (shaders/loss.wgsl): binary cross-entropy on logits, the GAN losses, and softmax
//! cross-entropy, the evaluation classifier's loss. Forward kernels write (or add) a scalar into a
//! slot of a metrics tensor; backward kernels write the gradient with respect to the logits.
//!
//! The GAN losses in terms of these: the discriminator's loss is BCE(real logits, t = 1) plus
//! BCE(fake logits, t = 0); the non-saturating generator loss is BCE(fake logits, t = 1), scale 1;
//! the minimax generator loss log(1 − D(G(z))) is BCE(fake logits, t = 0) with scale −1.

use super::expect_len;
use super::reduce::check_slot;
use crate::error::{Error, Result};
use crate::gpu::{Access, Dispatch, GpuContext, KernelSpec, Tensor, workgroups_1d};

/// Mirrors `Params` in shaders/loss.wgsl.
#[repr(C)]
#[derive(Clone, Copy, Default, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    rows: u32,
    classes: u32,
    label_target: f32,
    scale: f32,
    loss_slot: u32,
    probability_slot: u32,
}

fn flag(on: bool) -> f64 {
    if on { 1.0 } else { 0.0 }
}

fn nonempty(kernel: &str, operand: &str, tensor: &Tensor) -> Result<()> {
    if tensor.is_empty() {
        Err(Error::Input(format!("{kernel}: {operand} is empty")))
    } else {
        Ok(())
    }
}

/// out[loss_slot] (+)= scale · mean_b [max(z, 0) − z·t + log(1 + exp(−|z|))] over logits [B];
/// with `probability_slot`, also out[probability_slot] (+)= mean_b σ(z) (the D(x) and D(G(z))
/// metrics; not scaled). Exact and finite for |z| up to 1e4.
#[allow(clippy::too_many_arguments)]
pub fn bce_with_logits(
    ctx: &GpuContext,
    logits: &Tensor,
    target: f32,
    out: &Tensor,
    loss_slot: u32,
    probability_slot: Option<u32>,
    scale: f32,
    accumulate: bool,
) -> Result<Dispatch> {
    nonempty("bce_with_logits", "logits", logits)?;
    check_slot("bce_with_logits", out, loss_slot)?;
    if let Some(slot) = probability_slot {
        check_slot("bce_with_logits", out, slot)?;
        if slot == loss_slot {
            return Err(Error::Input(format!(
                "bce_with_logits: probability_slot and loss_slot are both {slot}"
            )));
        }
    }
    let params = Params {
        rows: logits.len() as u32,
        label_target: target,
        scale,
        loss_slot,
        probability_slot: probability_slot.unwrap_or(0),
        ..Default::default()
    };
    ctx.dispatch(KernelSpec {
        shader: "loss",
        entry: "bce_with_logits",
        constants: vec![
            ("ACCUMULATE", flag(accumulate)),
            ("HAS_PROBABILITY", flag(probability_slot.is_some())),
        ],
        params: bytemuck::bytes_of(&params),
        tensors: vec![(logits, Access::Read), (out, Access::ReadWrite)],
        workgroups: [1, 1, 1],
    })
}

/// dlogits[b] = scale · (σ(z_b) − t) / B, the gradient of `bce_with_logits`'s loss.
pub fn bce_with_logits_backward(
    ctx: &GpuContext,
    logits: &Tensor,
    target: f32,
    dlogits: &Tensor,
    scale: f32,
) -> Result<Dispatch> {
    nonempty("bce_with_logits_backward", "logits", logits)?;
    expect_len(
        "bce_with_logits_backward",
        "dlogits",
        dlogits.len(),
        logits.len(),
    )?;
    let params = Params {
        rows: logits.len() as u32,
        label_target: target,
        scale,
        ..Default::default()
    };
    ctx.dispatch(KernelSpec {
        shader: "loss",
        entry: "bce_with_logits_backward",
        constants: vec![],
        params: bytemuck::bytes_of(&params),
        tensors: vec![(logits, Access::Read), (dlogits, Access::ReadWrite)],
        workgroups: workgroups_1d(logits.len(), 256),
    })
}

/// Rows and classes of logits [B, C], checked against labels [B].
fn classifier_shape(kernel: &str, logits: &Tensor, labels: &Tensor) -> Result<(usize, usize)> {
    let (rows, classes) = match logits.shape() {
        [rows, classes] if *rows > 0 && *classes > 0 => (*rows, *classes),
        shape => {
            return Err(Error::Input(format!(
                "{kernel}: logits must be a non-empty [rows, classes] matrix, found shape {shape:?}"
            )));
        }
    };
    expect_len(kernel, "labels", labels.len(), rows)?;
    Ok((rows, classes))
}

/// out[slot] (+)= mean_b −log softmax(z_b)[label_b] for logits [B, C] and u32 labels [B], using
/// the max-subtraction trick (finite for logits of ±1e4). A label ≥ C is treated as C − 1 (the
/// kernel clamps rather than reading past the row; the data loaders never produce one).
pub fn softmax_cross_entropy(
    ctx: &GpuContext,
    logits: &Tensor,
    labels: &Tensor,
    out: &Tensor,
    slot: u32,
    accumulate: bool,
) -> Result<Dispatch> {
    let (rows, classes) = classifier_shape("softmax_cross_entropy", logits, labels)?;
    check_slot("softmax_cross_entropy", out, slot)?;
    let params = Params {
        rows: rows as u32,
        classes: classes as u32,
        loss_slot: slot,
        ..Default::default()
    };
    ctx.dispatch(KernelSpec {
        shader: "loss",
        entry: "softmax_cross_entropy",
        constants: vec![("ACCUMULATE", flag(accumulate))],
        params: bytemuck::bytes_of(&params),
        tensors: vec![
            (logits, Access::Read),
            (labels, Access::Read),
            (out, Access::ReadWrite),
        ],
        workgroups: [1, 1, 1],
    })
}

/// dlogits[b, c] = (softmax(z_b)_c − [c = label_b]) / B, labels clamped as in the forward.
pub fn softmax_cross_entropy_backward(
    ctx: &GpuContext,
    logits: &Tensor,
    labels: &Tensor,
    dlogits: &Tensor,
) -> Result<Dispatch> {
    let (rows, classes) = classifier_shape("softmax_cross_entropy_backward", logits, labels)?;
    expect_len(
        "softmax_cross_entropy_backward",
        "dlogits",
        dlogits.len(),
        logits.len(),
    )?;
    let params = Params {
        rows: rows as u32,
        classes: classes as u32,
        ..Default::default()
    };
    ctx.dispatch(KernelSpec {
        shader: "loss",
        entry: "softmax_cross_entropy_backward",
        constants: vec![],
        params: bytemuck::bytes_of(&params),
        tensors: vec![
            (logits, Access::Read),
            (labels, Access::Read),
            (dlogits, Access::ReadWrite),
        ],
        workgroups: workgroups_1d(rows, 256),
    })
}
