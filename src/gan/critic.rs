//! The critic step of the Wasserstein losses: critic loss mean D(G(z)) − mean D(x), a Lipschitz
//! penalty with its exact parameter gradient, and the generator loss −mean D(G(z)).
//!
//! The gradient penalty P = λ/B Σ_b ψ(‖∂D/∂x̂_b‖) depends on the parameters through the input
//! gradient, so its parameter gradient is a second derivative. Without autograd it is written
//! out over the critic's *primitives*: linear maps (dense and linear layers' x·W + b), convolutions,
//! elementwise activations φ and reshapes. With G_i the gradient of D with respect to the input of
//! primitive i (G_n = 1 at the output):
//!
//! 1. forward at x̂, keeping every layer's output;
//! 2. the input-gradient chain G_i = J_iᵀ G_{i+1}: G·Wᵀ for a linear map, the convolution's input
//!    gradient for a convolution, G ⊙ φ'(y) for an activation; g = G_0;
//! 3. Ḡ_0 = dP/dg = λ/B ψ'(‖g‖) g/‖g‖ (gradient_penalty kernel, which also writes the metrics);
//! 4. that chain forwards again with adjoints: a linear map adds W̄ += Ḡ_iᵀ·G_{i+1} and passes
//!    Ḡ_{i+1} = Ḡ_i·W; a convolution adds the weight gradient of (input Ḡ_i, output gradient
//!    G_{i+1}) and passes its forward (no bias) of Ḡ_i; an activation passes Ḡ_i ⊙ φ'(y);
//! 5. a smooth activation (tanh, sigmoid) also depends on its input z through φ'(y(z)), which adds
//!    ā = Ḡ_i ⊙ G_{i+1} ⊙ φ''(y) to the gradient with respect to z; these flow down the ordinary
//!    backward chain from the highest one, adding to every W̄ and b̄ below. Piecewise-linear
//!    critics have φ'' = 0 and skip this part entirely.
//!
//! Every step is a matmul in one of the three layouts, a convolution op, or an elementwise
//! kernel, so the whole penalty is a fixed list of dispatches like the rest of the training
//! graph. (src/reference/penalty.rs has the MLP algorithm in f64; tests/penalty_gradients.rs
//! checks MLP and convolutional critics against finite differences.)

use super::config::{GanLoss, Penalty, TrainConfig};
use super::graph::{slot, stream};
use crate::error::{Error, Result};
use crate::gpu::{Dispatch, GpuContext, Tensor};
use crate::kernels::conv::{ConvOp, ConvScratch};
use crate::kernels::matmul::{Layout, MatmulOptions, matmul};
use crate::kernels::penalty::{self, PenaltyForm, PenaltyShape, PenaltySlots};
use crate::kernels::{Activation, activation, random, reduce};
use crate::nn::conv::conv_op;
use crate::nn::{Layer, Network, ParamGrads, Pass};

/// The metric slots the penalties of a training graph write.
pub const TRAINING_SLOTS: PenaltySlots = PenaltySlots {
    penalty: slot::PENALTY,
    norm: slot::GRAD_NORM,
    loss: slot::D_LOSS,
};

fn smooth(activation: Activation) -> bool {
    matches!(activation, Activation::Tanh | Activation::Sigmoid)
}

fn check_critic(critic: &Network) -> Result<()> {
    let spec = &critic.spec;
    if spec.outputs() == 1 && spec.output_activation() == Activation::Identity {
        Ok(())
    } else {
        Err(Error::Input(format!(
            "a gradient penalty needs a critic with one linear output, found {} ending in {:?}",
            spec.sizes_text(),
            spec.output_activation()
        )))
    }
}

/// One step of the critic's chain (see the module notes).
enum Primitive {
    /// x·W + b of layer `layer` (a dense or linear layer), W [inputs, outputs].
    Linear {
        layer: usize,
        inputs: usize,
        outputs: usize,
    },
    Conv {
        layer: usize,
        op: ConvOp,
    },
    /// φ, whose output is layer `layer`'s output.
    Act {
        layer: usize,
        activation: Activation,
    },
    Reshape,
}

/// The critic's layers as primitives, with the values each primitive's input has per example.
fn primitives(critic: &Network, batch: usize) -> Result<Vec<(Primitive, usize)>> {
    let spec = &critic.spec;
    let mut list = Vec::new();
    let mut input_shape = spec.input_shape();
    for (l, layer) in spec.layers.iter().enumerate() {
        let size: usize = input_shape.iter().product();
        match layer {
            Layer::Dense(_) | Layer::Linear(_) => {
                let dense = layer.as_dense().expect("dense or linear");
                let linear = Primitive::Linear {
                    layer: l,
                    inputs: dense.inputs,
                    outputs: dense.outputs,
                };
                list.push((linear, size));
                if dense.activation != Activation::Identity {
                    let act = Primitive::Act {
                        layer: l,
                        activation: dense.activation,
                    };
                    list.push((act, dense.outputs));
                }
            }
            Layer::Conv2d(conv) | Layer::ConvTranspose2d(conv) => {
                let transposed = matches!(layer, Layer::ConvTranspose2d(_));
                let op = conv_op(conv, transposed, batch, &input_shape)?;
                list.push((Primitive::Conv { layer: l, op }, size));
            }
            Layer::Activation(activation) => {
                let act = Primitive::Act {
                    layer: l,
                    activation: *activation,
                };
                list.push((act, size));
            }
            Layer::Flatten | Layer::Unflatten(_) => list.push((Primitive::Reshape, size)),
            other => {
                return Err(Error::Input(format!(
                    "a gradient penalty's exact gradient is written for dense, linear, conv and \
                     activation layers; critic layer {l} is {}",
                    other.kind_name()
                )));
            }
        }
        input_shape = critic.layer_shape(l).to_vec();
    }
    Ok(list)
}

/// The gate (its output and activation) of primitive `i` when it is a piecewise-linear
/// activation, which a matmul's epilogue can apply: φ' then depends on the output alone and
/// φ'' is zero, so nothing else needs the gradient it would have written.
fn gate_of<'p>(
    prims: &[(Primitive, usize)],
    i: usize,
    pass: &'p Pass,
) -> Option<(&'p Tensor, Activation)> {
    match prims.get(i)?.0 {
        Primitive::Act { layer, activation } if !smooth(activation) => {
            Some((&pass.outputs[layer], activation))
        }
        _ => None,
    }
}

/// The gradient penalty of `critic` at fixed points (the interpolates x̂), its metrics, and its
/// exact gradient added to the critic's parameter gradients.
pub struct GradientPenalty {
    /// The critic's forward pass at the points.
    pub pass: Pass,
    /// g = ∂D/∂x at the points, [batch, inputs].
    pub input_gradient: Tensor,
    /// Forward, input gradient, penalty and its parameter gradient, in order.
    pub dispatches: Vec<Dispatch>,
}

impl GradientPenalty {
    pub fn new(
        ctx: &GpuContext,
        critic: &Network,
        points: &Tensor,
        batch: usize,
        (shape, norm_cols): (PenaltyShape, usize),
        metrics: &Tensor,
        slots: PenaltySlots,
    ) -> Result<GradientPenalty> {
        let pass = critic.pass(ctx, "D x̂", points, batch)?;
        let mut dispatches = pass.forward.clone();
        let (input_gradient, chain) =
            penalty_after_pass(ctx, critic, &pass, (shape, norm_cols), metrics, slots)?;
        dispatches.extend(chain);
        Ok(GradientPenalty {
            pass,
            input_gradient,
            dispatches,
        })
    }
}

/// The penalty at the points of a forward pass already recorded (steps 2–5 of the module
/// notes): g = ∂D/∂x and the dispatches that compute it, the penalty and its parameter
/// gradient. R1 reuses the D step's own pass at the real batch this way: D has neither
/// dropout nor batch norm under a penalty, so its training pass is the plain forward.
pub fn penalty_after_pass(
    ctx: &GpuContext,
    critic: &Network,
    pass: &Pass,
    (shape, norm_cols): (PenaltyShape, usize),
    metrics: &Tensor,
    slots: PenaltySlots,
) -> Result<(Tensor, Vec<Dispatch>)> {
    check_critic(critic)?;
    let batch = pass.batch;
    let prims = primitives(critic, batch)?;
    let n = prims.len();
    let mut dispatches = Vec::new();
    let buffer = |name: String, width: usize| ctx.zeros(&name, &[batch, width]);
    let accumulate = || MatmulOptions {
        accumulate: true,
        ..Default::default()
    };
    let scratch = |i: usize, op: &ConvOp, what: &str| {
        ConvScratch::new(ctx, &format!("penalty {what} {i}"), op)
    };
    // The forward value of the input of layer l, and of the output of an activation.
    let layer_input = |l: usize| pass.layer_input(l);
    let output = |l: usize| &pass.outputs[l];

    // 2. grads[i] = ∂D/∂(input of primitive i); grads[n] = 1.
    let mut grads: Vec<Tensor> = Vec::with_capacity(n + 1);
    for (i, (_, size)) in prims.iter().enumerate() {
        grads.push(buffer(format!("penalty G{i}"), *size)?);
    }
    grads.push(ctx.upload("penalty ∂D/∂D", &[batch, 1], &vec![1.0f32; batch])?);
    // A piecewise-linear activation below a linear map rides in that map's matmul as a gate
    // (saving a launch per activation); its skipped input gradient is needed by nothing.
    let mut gated_below = false;
    for i in (0..n).rev() {
        if std::mem::take(&mut gated_below) {
            continue;
        }
        let (above, here) = (&grads[i + 1], &grads[i]);
        match &prims[i].0 {
            Primitive::Linear {
                layer,
                inputs,
                outputs,
            } => {
                let gate = i
                    .checked_sub(1)
                    .and_then(|below| gate_of(&prims, below, pass));
                gated_below = gate.is_some();
                dispatches.push(matmul(
                    ctx,
                    Layout::DyWt,
                    above,
                    critic.weight(*layer),
                    if gated_below { &grads[i - 1] } else { here },
                    (batch, *inputs, *outputs),
                    MatmulOptions {
                        gate,
                        ..Default::default()
                    },
                )?);
            }
            Primitive::Conv { layer, op } => {
                let scratch = scratch(i, op, "chain")?;
                dispatches.extend(op.backward_input(
                    ctx,
                    above,
                    critic.weight(*layer),
                    here,
                    &scratch,
                )?);
            }
            Primitive::Act { layer, activation } => {
                dispatches.push(activation::activation_backward(
                    ctx,
                    above,
                    output(*layer),
                    here,
                    *activation,
                )?);
            }
            Primitive::Reshape => dispatches.push(activation::activation_backward(
                ctx,
                above,
                above,
                here,
                Activation::Identity,
            )?),
        }
    }

    // 3. adjoint[0] = dP/dg, the value and the metrics.
    let mut adjoint = buffer("penalty adjoint 0".into(), prims[0].1)?;
    dispatches.push(penalty::gradient_penalty(
        ctx,
        &grads[0],
        &adjoint,
        metrics,
        (shape, norm_cols),
        slots,
    )?);

    // 4. The chain again with adjoints; 5a. the φ'' terms of smooth activations, at the
    // input of primitive i (the output of primitive i − 1).
    let mut injections: Vec<Option<Tensor>> = (0..n).map(|_| None).collect();
    // As in step 2: a piecewise-linear activation after a linear map is that map's gate.
    let mut gated = false;
    for i in 0..n {
        if std::mem::take(&mut gated) {
            continue;
        }
        let gate = match prims[i].0 {
            Primitive::Linear { .. } => gate_of(&prims, i + 1, pass),
            _ => None,
        };
        gated = gate.is_some();
        // The adjoint at the input of the next primitive not folded into this one. The last
        // primitive's output is D itself: its adjoint is not needed, but is made (one value per
        // example) to keep the walk uniform.
        let after = if gated { i + 2 } else { i + 1 };
        let width = if after == n { 1 } else { prims[after].1 };
        let next = buffer(format!("penalty adjoint {after}"), width)?;
        match &prims[i].0 {
            Primitive::Linear {
                layer,
                inputs,
                outputs,
            } => {
                dispatches.push(matmul(
                    ctx,
                    Layout::XtDy,
                    &adjoint,
                    &grads[i + 1],
                    &critic.layer_grads(*layer)[0],
                    (*inputs, *outputs, batch),
                    accumulate(),
                )?);
                dispatches.push(matmul(
                    ctx,
                    Layout::XW,
                    &adjoint,
                    critic.weight(*layer),
                    &next,
                    (batch, *outputs, *inputs),
                    MatmulOptions {
                        gate,
                        ..Default::default()
                    },
                )?);
            }
            Primitive::Conv { layer, op } => {
                // Its forward of the adjoint (no bias) is the next adjoint, and leaves the
                // adjoint's columns in the scratch for the weight gradient.
                let scratch = scratch(i, op, "adjoint")?;
                dispatches.extend(op.forward(
                    ctx,
                    &adjoint,
                    critic.weight(*layer),
                    None,
                    &next,
                    &scratch,
                )?);
                dispatches.extend(op.backward_params(
                    ctx,
                    &grads[i + 1],
                    &critic.layer_grads(*layer)[0],
                    None,
                    true,
                    &scratch,
                )?);
            }
            Primitive::Act { layer, activation } => {
                let y = output(*layer);
                if smooth(*activation) && i > 0 {
                    let a = buffer(format!("penalty injection {i}"), prims[i].1)?;
                    dispatches.push(penalty::second_derivative(
                        ctx,
                        &adjoint,
                        &grads[i + 1],
                        y,
                        &a,
                        *activation,
                    )?);
                    injections[i] = Some(a);
                }
                dispatches.push(activation::activation_backward(
                    ctx,
                    &adjoint,
                    y,
                    &next,
                    *activation,
                )?);
            }
            Primitive::Reshape => dispatches.push(activation::activation_backward(
                ctx,
                &adjoint,
                &adjoint,
                &next,
                Activation::Identity,
            )?),
        }
        adjoint = next;
    }

    // 5b. The injections down the ordinary backward chain: s is the gradient with respect
    // to the input of primitive i + 1, i.e. the output of primitive i.
    if let Some(top) = (0..n).rev().find(|&i| injections[i].is_some()) {
        let mut s: Option<Tensor> = None;
        for i in (0..top).rev() {
            // The gradient at the output of primitive i: from above, plus the injection.
            let s_out = match (s.take(), &injections[i + 1]) {
                (None, Some(a)) => a.clone(),
                (Some(from_above), Some(a)) => {
                    dispatches.push(penalty::add_in_place(ctx, &from_above, a)?);
                    a.clone()
                }
                (Some(from_above), None) => from_above,
                (None, None) => unreachable!("the walk starts at an injection"),
            };
            let below = (i > 0).then(|| buffer(format!("penalty s{i}"), prims[i].1));
            let below = below.transpose()?;
            match &prims[i].0 {
                Primitive::Linear {
                    layer,
                    inputs,
                    outputs,
                } => {
                    let grads = critic.layer_grads(*layer);
                    dispatches.push(matmul(
                        ctx,
                        Layout::XtDy,
                        layer_input(*layer),
                        &s_out,
                        &grads[0],
                        (*inputs, *outputs, batch),
                        accumulate(),
                    )?);
                    if let Some(db) = grads.get(1) {
                        dispatches.push(reduce::bias_gradient(ctx, &s_out, db, true)?);
                    }
                    if let Some(below) = &below {
                        dispatches.push(matmul(
                            ctx,
                            Layout::DyWt,
                            &s_out,
                            critic.weight(*layer),
                            below,
                            (batch, *inputs, *outputs),
                            MatmulOptions::default(),
                        )?);
                    }
                }
                Primitive::Conv { layer, op } => {
                    let grads = critic.layer_grads(*layer);
                    let forward = pass.layers[*layer]
                        .conv
                        .as_ref()
                        .expect("a conv layer's pass keeps its scratch");
                    dispatches.extend(op.backward_params(
                        ctx,
                        &s_out,
                        &grads[0],
                        grads.get(1),
                        true,
                        forward,
                    )?);
                    if let Some(below) = &below {
                        let scratch = scratch(i, op, "injection")?;
                        dispatches.extend(op.backward_input(
                            ctx,
                            &s_out,
                            critic.weight(*layer),
                            below,
                            &scratch,
                        )?);
                    }
                }
                Primitive::Act { layer, activation } => {
                    if let Some(below) = &below {
                        dispatches.push(activation::activation_backward(
                            ctx,
                            &s_out,
                            output(*layer),
                            below,
                            *activation,
                        )?);
                    }
                }
                Primitive::Reshape => {
                    if let Some(below) = &below {
                        dispatches.push(activation::activation_backward(
                            ctx,
                            &s_out,
                            &s_out,
                            below,
                            Activation::Identity,
                        )?);
                    }
                }
            }
            s = below;
        }
    }
    Ok((grads.swap_remove(0), dispatches))
}

/// The finite-difference Lipschitz penalty of `critic` between fixed points y₁ and y₂: two
/// forward passes, the penalty kernel, and two ordinary backward passes adding its gradient to
/// the critic's parameter gradients.
pub struct LipschitzPenalty {
    pub passes: [Pass; 2],
    pub dispatches: Vec<Dispatch>,
}

impl LipschitzPenalty {
    pub fn new(
        ctx: &GpuContext,
        critic: &Network,
        (y1, y2): (&Tensor, &Tensor),
        batch: usize,
        shape: PenaltyShape,
        metrics: &Tensor,
        slots: PenaltySlots,
    ) -> Result<LipschitzPenalty> {
        check_critic(critic)?;
        let p1 = critic.pass(ctx, "D y1", y1, batch)?;
        let p2 = critic.pass(ctx, "D y2", y2, batch)?;
        let mut dispatches = p1.forward.clone();
        dispatches.extend(p2.forward.iter().cloned());
        dispatches.push(penalty::lipschitz_penalty(
            ctx,
            (p1.output(), p2.output()),
            (y1, y2),
            (p1.output_grad(), p2.output_grad()),
            metrics,
            shape,
            slots,
        )?);
        dispatches.extend(critic.backward(ctx, &p1, ParamGrads::Accumulate, None)?);
        dispatches.extend(critic.backward(ctx, &p2, ParamGrads::Accumulate, None)?);
        Ok(LipschitzPenalty {
            passes: [p1, p2],
            dispatches,
        })
    }
}

/// The Wasserstein critic loss mean D(G(z)) − mean D(x) after both forward passes (D(x) in
/// `real`, D(G(z)) in `fake`): its metrics, and ∂/∂D(x) = −1/B, ∂/∂D(G(z)) = +1/B into the
/// passes' output gradients, from which the graph's ordinary backward passes run.
pub fn critic_loss(
    ctx: &GpuContext,
    (real, fake): (&Pass, &Pass),
    metrics: &Tensor,
) -> Result<Vec<Dispatch>> {
    let mut dispatches = Vec::new();
    for (pass, scale, value_slot) in [(real, -1.0, slot::D_REAL), (fake, 1.0, slot::D_FAKE)] {
        let output = pass.output();
        dispatches.push(reduce::mean(ctx, output, metrics, value_slot, 1.0, true)?);
        dispatches.push(reduce::mean(
            ctx,
            output,
            metrics,
            slot::D_LOSS,
            scale,
            true,
        )?);
        dispatches.push(reduce::mean_backward(ctx, pass.output_grad(), scale)?);
    }
    Ok(dispatches)
}

/// The D step's gradient penalty, adding its exact gradient to D's parameter gradients after
/// the loss's backward passes have written them: wgan-gp's at interpolates, R1 at the real
/// batch for nsgan and minimax with `--r1-gamma` (at γ · `--r1-every`: the graph records it in
/// that share of the D steps); no dispatches otherwise.
pub fn penalty(
    ctx: &GpuContext,
    config: &TrainConfig,
    critic: &Network,
    (real, fake): (&Pass, &Pass),
    metrics: &Tensor,
    rng_counter: &Tensor,
) -> Result<Vec<Dispatch>> {
    if config.loss == GanLoss::WganGp {
        return wasserstein_penalty(ctx, config, critic, (real, fake), metrics, rng_counter);
    }
    match config.r1_gamma() {
        // Lazy R1 weighs its fewer steps up, so the penalty's average weight stays γ.
        Some(gamma) => r1_penalty(
            ctx,
            config,
            critic,
            real,
            metrics,
            gamma * config.r1_every as f32,
        ),
        None => Ok(Vec::new()),
    }
}

/// The values of a D input row the penalty's norm covers: a conditional D's label columns
/// (after the image) are the same wherever the image is, so only the image values count. A
/// packed D's row is all images (packing a conditional one is refused).
fn image_values(config: &TrainConfig, critic: &Network) -> usize {
    match config.classes {
        Some(_) => config.generator.outputs(),
        None => critic.spec.inputs(),
    }
}

/// R1 (Mescheder et al. 2018): γ/2 · mean ‖∇ₓ D(x)‖² of D's logit at the step's real batch,
/// the zero-centred gradient penalty with the same exact double backprop as wgan-gp's.
fn r1_penalty(
    ctx: &GpuContext,
    config: &TrainConfig,
    critic: &Network,
    real: &Pass,
    metrics: &Tensor,
    gamma: f32,
) -> Result<Vec<Dispatch>> {
    let shape = PenaltyShape {
        lambda: gamma / 2.0,
        form: PenaltyForm::ZeroCentred,
    };
    let (_, dispatches) = penalty_after_pass(
        ctx,
        critic,
        real,
        (shape, image_values(config, critic)),
        metrics,
        TRAINING_SLOTS,
    )?;
    Ok(dispatches)
}

/// wgan-gp's penalty at fresh interpolates of the step's real and generated batches (one
/// ε ~ U(0, 1] per sample from the GPU counter `rng_counter`).
fn wasserstein_penalty(
    ctx: &GpuContext,
    config: &TrainConfig,
    critic: &Network,
    (real, fake): (&Pass, &Pass),
    metrics: &Tensor,
    rng_counter: &Tensor,
) -> Result<Vec<Dispatch>> {
    let mut dispatches = Vec::new();
    // A packed critic (PacGAN) judges batch / pack rows of pack examples each.
    let batch = config.batch_size / config.pack;
    let dim = critic.spec.inputs();
    let settings = config.wasserstein;
    let shape = PenaltyShape {
        lambda: settings.lambda,
        form: settings.penalty.form(),
    };
    let mut interpolate = |name: &str, stream: u32| -> Result<Tensor> {
        let eps = ctx.zeros(&format!("{name} ε"), &[batch])?;
        let points = ctx.zeros(name, &[batch, dim])?;
        dispatches.push(random::fill_uniform(
            ctx,
            &eps,
            0.0,
            1.0,
            config.seed,
            stream,
            rng_counter,
        )?);
        // The passes see [batch, c, h, w] images; the penalty works on [batch, values] rows.
        dispatches.push(penalty::interpolate(
            ctx,
            &real.input.reshaped(&[batch, dim]),
            &fake.input.reshaped(&[batch, dim]),
            &eps,
            &points,
        )?);
        Ok(points)
    };
    match settings.penalty {
        Penalty::TwoSided | Penalty::OneSided | Penalty::Hinge => {
            let points = interpolate("x̂", stream::EPSILON)?;
            let gp = GradientPenalty::new(
                ctx,
                critic,
                &points,
                batch,
                (shape, image_values(config, critic)),
                metrics,
                TRAINING_SLOTS,
            )?;
            dispatches.extend(gp.dispatches);
        }
        Penalty::LipschitzFd | Penalty::LipschitzFdOneSided | Penalty::LipschitzFdHinge => {
            let y1 = interpolate("y1", stream::EPSILON)?;
            let y2 = interpolate("y2", stream::EPSILON_2)?;
            let lp = LipschitzPenalty::new(
                ctx,
                critic,
                (&y1, &y2),
                batch,
                shape,
                metrics,
                TRAINING_SLOTS,
            )?;
            dispatches.extend(lp.dispatches);
        }
    }
    Ok(dispatches)
}

/// The generator's Wasserstein loss −mean D(G(z)) into the G_LOSS slot, and its gradient
/// −1/B into `fake`'s output gradient (the graph then backpropagates through D into G).
pub fn generator_loss(ctx: &GpuContext, fake: &Pass, metrics: &Tensor) -> Result<Vec<Dispatch>> {
    Ok(vec![
        reduce::mean(ctx, fake.output(), metrics, slot::G_LOSS, -1.0, true)?,
        reduce::mean_backward(ctx, fake.output_grad(), -1.0)?,
    ])
}
