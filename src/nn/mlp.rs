//! A multilayer perceptron on the GPU: flat parameter and gradient buffers, and "passes" that
//! own the activations of one input batch with their forward and backward dispatches built once.
//!
//! Forward per layer: y = f(x·W + b) in one fused matmul. Backward per layer, from dL/dy:
//! g = dL/dy ⊙ f'(y) (in place), dW (+)= xᵀ·g, db (+)= Σ_rows g, and dL/dx = g·Wᵀ when needed.

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

/// The activations of one batch through the network, and the dispatches that compute them.
pub struct MlpPass {
    pub batch: usize,
    pub input: Tensor,
    /// Output of each layer (after its activation), [batch, outputs].
    pub outputs: Vec<Tensor>,
    /// dLoss/d(output of each layer); the loss writes the last one.
    pub output_grads: Vec<Tensor>,
    pub forward: Vec<Dispatch>,
}

impl MlpPass {
    pub fn output(&self) -> &Tensor {
        self.outputs.last().expect("a network has layers")
    }

    pub fn output_grad(&self) -> &Tensor {
        self.output_grads.last().expect("a network has layers")
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

    pub fn weight(&self, layer: usize) -> &Tensor {
        &self.params.views[2 * layer]
    }

    pub fn bias(&self, layer: usize) -> &Tensor {
        &self.params.views[2 * layer + 1]
    }

    /// Allocate activations for `input` ([batch, inputs]) and build the forward dispatches.
    pub fn pass(
        &self,
        ctx: &GpuContext,
        name: &str,
        input: &Tensor,
        batch: usize,
    ) -> Result<MlpPass> {
        let mut outputs = Vec::new();
        let mut output_grads = Vec::new();
        let mut forward = Vec::new();
        for (i, layer) in self.spec.layers.iter().enumerate() {
            let x = if i == 0 { input } else { &outputs[i - 1] };
            let y = ctx.zeros(&format!("{name} layer {i} output"), &[batch, layer.outputs])?;
            forward.push(matmul(
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
            output_grads.push(ctx.zeros(
                &format!("{name} layer {i} output grad"),
                &[batch, layer.outputs],
            )?);
            outputs.push(y);
        }
        Ok(MlpPass {
            batch,
            input: input.clone(),
            outputs,
            output_grads,
            forward,
        })
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
            let g = &pass.output_grads[i];
            if layer.activation != Activation::Identity {
                dispatches.push(activation::activation_backward_in_place(
                    ctx,
                    g,
                    &pass.outputs[i],
                    layer.activation,
                )?);
            }
            let x = if i == 0 {
                &pass.input
            } else {
                &pass.outputs[i - 1]
            };
            if grads != ParamGrads::Skip {
                let accumulate = grads == ParamGrads::Accumulate;
                dispatches.push(matmul(
                    ctx,
                    Layout::XtDy,
                    x,
                    g,
                    &self.grads.views[2 * i],
                    (layer.inputs, layer.outputs, batch),
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
                dispatches.push(matmul(
                    ctx,
                    Layout::DyWt,
                    g,
                    self.weight(i),
                    dx,
                    (batch, layer.inputs, layer.outputs),
                    MatmulOptions::default(),
                )?);
            }
        }
        Ok(dispatches)
    }
}
