//! A multilayer perceptron on the GPU: flat parameter and gradient buffers, and "passes" that
//! own the activations of one input batch with their forward and backward dispatches built once.
//!
//! Forward per layer: in a training pass, inverted dropout of the input (x̃ = x ⊙ mask, the mask
//! 1/keep or 0); then y = f(x̃·W + b) in one fused matmul, or for maxout z = x̃·W + b followed by
//! y = the maximum of each unit's pieces (the winner kept). Backward per layer, from dL/dy:
//! g = dL/dy ⊙ f'(y) (in place), or for maxout g = dL/dy routed to each unit's winning piece;
//! dW (+)= x̃ᵀ·g, db (+)= Σ_rows g, and dL/dx = (g·Wᵀ) ⊙ mask when needed.

use super::spec::MlpSpec;
use crate::error::Result;
use crate::gpu::{Dispatch, FlatBuffer, GpuContext, Tensor};
use crate::kernels::matmul::{Layout, MatmulOptions, matmul};
use crate::kernels::{Activation, activation, reduce};

/// The parameters of one network and their gradients, each one flat buffer.
pub struct Mlp {
    pub spec: MlpSpec,
    pub params: FlatBuffer,
    pub grads: FlatBuffer,
}

/// What a backward pass does with parameter gradients.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParamGrads {
    /// Write them (the first contribution in a step).
    Overwrite,
    /// Add to them (a second batch in the same step, e.g. D's fake half).
    Accumulate,
    /// Skip them (only the input gradient is wanted, e.g. D during G's step).
    Skip,
}

/// Where a training pass's dropout masks come from: layer i draws from Philox stream
/// `stream + i` at the step `counter[0]` holds when the pass runs (read on the GPU, so advancing
/// the counter on the GPU gives new masks with no host write; checkpointing it makes a resumed
/// run draw the same masks).
#[derive(Clone, Copy, Debug)]
pub struct DropoutRng<'a> {
    pub seed: u64,
    pub stream: u32,
    pub counter: &'a Tensor,
}

/// The buffers one layer of a pass needs beyond its output.
#[derive(Clone, Debug, Default)]
pub struct LayerState {
    /// Dropout (training passes of layers with keep < 1): the mask [batch, inputs] (1/keep or
    /// 0), the dropped input x ⊙ mask, and dL/d(dropped input) before the mask is applied.
    pub mask: Option<Tensor>,
    pub dropped_input: Option<Tensor>,
    pub dropped_input_grad: Option<Tensor>,
    /// Maxout: the linear outputs [batch, outputs·pieces], the winning piece of each unit
    /// [batch, outputs] (u32), and dL/d(linear outputs).
    pub linear: Option<Tensor>,
    pub argmax: Option<Tensor>,
    pub linear_grad: Option<Tensor>,
}

/// The activations of one batch through the network, and the dispatches that compute them.
pub struct MlpPass {
    pub batch: usize,
    /// A training pass applies dropout; an evaluation pass (sampling) does not.
    pub training: bool,
    pub input: Tensor,
    /// Output of each layer (after its activation or maxout), [batch, outputs].
    pub outputs: Vec<Tensor>,
    /// dLoss/d(output of each layer); the loss writes the last one.
    pub output_grads: Vec<Tensor>,
    pub layers: Vec<LayerState>,
    pub forward: Vec<Dispatch>,
}

impl MlpPass {
    pub fn output(&self) -> &Tensor {
        self.outputs.last().expect("a network has layers")
    }

    pub fn output_grad(&self) -> &Tensor {
        self.output_grads.last().expect("a network has layers")
    }

    /// What layer i's matmul reads: the dropped input in a training pass with dropout, else
    /// the layer's input.
    fn matmul_input(&self, i: usize) -> &Tensor {
        match &self.layers[i].dropped_input {
            Some(dropped) => dropped,
            None if i == 0 => &self.input,
            None => &self.outputs[i - 1],
        }
    }
}

impl Mlp {
    pub fn new(ctx: &GpuContext, name: &str, spec: MlpSpec, initial: &[Vec<f32>]) -> Result<Mlp> {
        spec.validate(name)?;
        let shapes = spec.parameter_shapes();
        let params = FlatBuffer::zeros(ctx, &format!("{name} parameters"), &shapes)?;
        let grads = FlatBuffer::zeros(ctx, &format!("{name} gradients"), &shapes)?;
        for (view, values) in params.views.iter().zip(initial) {
            ctx.write(view, values);
        }
        Ok(Mlp {
            spec,
            params,
            grads,
        })
    }

    /// W of layer i, [inputs, outputs·pieces].
    pub fn weight(&self, layer: usize) -> &Tensor {
        &self.params.views[2 * layer]
    }

    pub fn bias(&self, layer: usize) -> &Tensor {
        &self.params.views[2 * layer + 1]
    }

    /// An evaluation pass over `input` ([batch, inputs]): no dropout (sampling, evaluation).
    pub fn pass(
        &self,
        ctx: &GpuContext,
        name: &str,
        input: &Tensor,
        batch: usize,
    ) -> Result<MlpPass> {
        self.build_pass(ctx, name, input, batch, None)
    }

    /// A training pass over `input` ([batch, inputs]): layers with keep < 1 drop their inputs
    /// with masks drawn from `rng`.
    pub fn training_pass(
        &self,
        ctx: &GpuContext,
        name: &str,
        input: &Tensor,
        batch: usize,
        rng: DropoutRng<'_>,
    ) -> Result<MlpPass> {
        self.build_pass(ctx, name, input, batch, Some(rng))
    }

    /// Allocate activations and build the forward dispatches.
    fn build_pass(
        &self,
        ctx: &GpuContext,
        name: &str,
        input: &Tensor,
        batch: usize,
        rng: Option<DropoutRng<'_>>,
    ) -> Result<MlpPass> {
        let mut pass = MlpPass {
            batch,
            training: rng.is_some(),
            input: input.clone(),
            outputs: Vec::new(),
            output_grads: Vec::new(),
            layers: Vec::new(),
            forward: Vec::new(),
        };
        for (i, layer) in self.spec.layers.iter().enumerate() {
            let label = |what: &str| format!("{name} layer {i} {what}");
            let mut state = LayerState::default();
            if let Some(rng) = rng.filter(|_| layer.has_dropout()) {
                let shape = [batch, layer.inputs];
                let x = if i == 0 { input } else { &pass.outputs[i - 1] };
                let mask = ctx.zeros(&label("dropout mask"), &shape)?;
                let dropped = ctx.zeros(&label("dropped input"), &shape)?;
                pass.forward.push(activation::dropout_forward(
                    ctx,
                    x,
                    &dropped,
                    &mask,
                    layer.input_keep,
                    rng.seed,
                    rng.stream.wrapping_add(i as u32),
                    rng.counter,
                )?);
                state.dropped_input_grad = Some(ctx.zeros(&label("dropped input grad"), &shape)?);
                state.mask = Some(mask);
                state.dropped_input = Some(dropped);
            }
            let y = ctx.zeros(&label("output"), &[batch, layer.outputs])?;
            let x = match &state.dropped_input {
                Some(dropped) => dropped,
                None if i == 0 => input,
                None => &pass.outputs[i - 1],
            };
            if layer.is_maxout() {
                let linear = ctx.zeros(&label("linear output"), &[batch, layer.width()])?;
                let argmax = ctx.zeros(&label("maxout argmax"), &[batch, layer.outputs])?;
                pass.forward.push(matmul(
                    ctx,
                    Layout::XW,
                    x,
                    self.weight(i),
                    &linear,
                    (batch, layer.width(), layer.inputs),
                    MatmulOptions {
                        bias: Some(self.bias(i)),
                        ..Default::default()
                    },
                )?);
                pass.forward.push(activation::maxout_forward(
                    ctx,
                    &linear,
                    &y,
                    &argmax,
                    layer.pieces,
                )?);
                state.linear_grad =
                    Some(ctx.zeros(&label("linear output grad"), &[batch, layer.width()])?);
                state.linear = Some(linear);
                state.argmax = Some(argmax);
            } else {
                pass.forward.push(matmul(
                    ctx,
                    Layout::XW,
                    x,
                    self.weight(i),
                    &y,
                    (batch, layer.outputs, layer.inputs),
                    MatmulOptions {
                        bias: Some(self.bias(i)),
                        activation: layer.activation,
                        ..Default::default()
                    },
                )?);
            }
            pass.output_grads
                .push(ctx.zeros(&label("output grad"), &[batch, layer.outputs])?);
            pass.outputs.push(y);
            pass.layers.push(state);
        }
        Ok(pass)
    }

    /// Dispatches that backpropagate from `pass.output_grad()`: parameter gradients as `grads`
    /// says, and dLoss/dinput into `input_grad` when given ([batch, inputs]).
    pub fn backward(
        &self,
        ctx: &GpuContext,
        pass: &MlpPass,
        grads: ParamGrads,
        input_grad: Option<&Tensor>,
    ) -> Result<Vec<Dispatch>> {
        let batch = pass.batch;
        let mut dispatches = Vec::new();
        for (i, layer) in self.spec.layers.iter().enumerate().rev() {
            let state = &pass.layers[i];
            // g: dLoss/d(this layer's linear outputs) [batch, width].
            let g = match (&state.argmax, &state.linear_grad) {
                (Some(argmax), Some(linear_grad)) => {
                    dispatches.push(activation::maxout_backward(
                        ctx,
                        &pass.output_grads[i],
                        argmax,
                        linear_grad,
                        layer.pieces,
                    )?);
                    linear_grad
                }
                _ => {
                    let g = &pass.output_grads[i];
                    if layer.activation != Activation::Identity {
                        dispatches.push(activation::activation_backward_in_place(
                            ctx,
                            g,
                            &pass.outputs[i],
                            layer.activation,
                        )?);
                    }
                    g
                }
            };
            let x = pass.matmul_input(i);
            if grads != ParamGrads::Skip {
                let accumulate = grads == ParamGrads::Accumulate;
                dispatches.push(matmul(
                    ctx,
                    Layout::XtDy,
                    x,
                    g,
                    &self.grads.views[2 * i],
                    (layer.inputs, layer.width(), batch),
                    MatmulOptions {
                        accumulate,
                        ..Default::default()
                    },
                )?);
                dispatches.push(reduce::bias_gradient(
                    ctx,
                    g,
                    &self.grads.views[2 * i + 1],
                    accumulate,
                )?);
            }
            let dx = if i == 0 {
                input_grad
            } else {
                Some(&pass.output_grads[i - 1])
            };
            if let Some(dx) = dx {
                // With dropout, the matmul gives dL/d(dropped input); the mask takes it to dx.
                let (target, mask) = match (&state.dropped_input_grad, &state.mask) {
                    (Some(dropped_grad), Some(mask)) => (dropped_grad, Some(mask)),
                    _ => (dx, None),
                };
                dispatches.push(matmul(
                    ctx,
                    Layout::DyWt,
                    g,
                    self.weight(i),
                    target,
                    (batch, layer.inputs, layer.width()),
                    MatmulOptions::default(),
                )?);
                if let Some(mask) = mask {
                    dispatches.push(activation::dropout_backward(ctx, target, mask, dx)?);
                }
            }
        }
        Ok(dispatches)
    }
}
