//! A network on the GPU: its layers' parameters and gradients in flat buffers, its running
//! buffers, and "passes" that own the activations of one input batch with their forward and
//! backward dispatches built once.

use super::layer::Layer;
use super::layer_io::{DropoutRng, LayerIo, LayerState, ParamGrads};
use super::network_spec::NetworkSpec;
use super::{batch_norm, conv, dense, elementwise};
use crate::error::{Error, Result};
use crate::gpu::{Dispatch, FlatBuffer, GpuContext, Recorder, Tensor, TextureCopy};
use crate::kernels::Activation;
use crate::kernels::matmul_tuning::texture_matmuls_likely;

/// The parameters of one network and their gradients, each one flat buffer, and the running
/// buffers of its batch-norm layers.
pub struct Network {
    pub spec: NetworkSpec,
    pub params: FlatBuffer,
    /// The texture mirroring `params`, where matmuls read their weights from textures (held
    /// here so it lives as long as the network): every layer's weight matmuls find it, and the
    /// optimizer writes it as it updates the parameters, so no weight needs a copy.
    pub params_texture: Option<TextureCopy>,
    /// None for a network that is never trained (the EMA generator): no gradient buffer.
    grads: Option<FlatBuffer>,
    /// Running means and variances (`NetworkSpec::buffer_shapes`), not trained.
    pub buffers: FlatBuffer,
    /// The shape of the input and of each layer's output, per example.
    input_shape: Vec<usize>,
    shapes: Vec<Vec<usize>>,
    /// Index of each layer's first tensor in `params.views` and in `buffers.views`.
    param_start: Vec<usize>,
    buffer_start: Vec<usize>,
}

/// The activations of one batch through the network, and the dispatches that compute them.
pub struct Pass {
    pub batch: usize,
    /// A training pass applies dropout and normalises with batch statistics (updating the
    /// running ones); an evaluation pass (sampling) uses the running statistics.
    pub training: bool,
    pub input: Tensor,
    /// Output of each layer, [batch, ...shape].
    pub outputs: Vec<Tensor>,
    /// dLoss/d(output of each layer); the loss writes the last one. Flatten, unflatten and
    /// evaluation-mode dropout share their input's buffers.
    pub output_grads: Vec<Tensor>,
    pub layers: Vec<LayerState>,
    pub forward: Vec<Dispatch>,
}

impl Pass {
    pub fn output(&self) -> &Tensor {
        self.outputs.last().expect("a network has layers")
    }

    pub fn output_grad(&self) -> &Tensor {
        self.output_grads.last().expect("a network has layers")
    }

    /// The input of layer i.
    pub fn layer_input(&self, i: usize) -> &Tensor {
        if i == 0 {
            &self.input
        } else {
            &self.outputs[i - 1]
        }
    }
}

/// Initial running buffers: mean 0 and variance 1 for every batch-norm layer.
pub fn initial_buffers(spec: &NetworkSpec) -> Vec<Vec<f32>> {
    spec.buffer_shapes()
        .chunks(2)
        .flat_map(|pair| {
            let features = pair[0][0];
            [vec![0.0; features], vec![1.0; features]]
        })
        .collect()
}

impl Network {
    /// Upload `initial` parameters (`NetworkSpec::parameter_shapes` order); running buffers
    /// start at mean 0, variance 1.
    pub fn new(
        ctx: &GpuContext,
        name: &str,
        spec: impl Into<NetworkSpec>,
        initial: &[Vec<f32>],
    ) -> Result<Network> {
        Network::build(ctx, name, spec.into(), initial, true)
    }

    fn build(
        ctx: &GpuContext,
        name: &str,
        spec: NetworkSpec,
        initial: &[Vec<f32>],
        trainable: bool,
    ) -> Result<Network> {
        spec.validate(name)?;
        let shapes = spec.parameter_shapes();
        if initial.len() != shapes.len() {
            return Err(Error::Input(format!(
                "{name}: {} parameter tensors given, the network has {}",
                initial.len(),
                shapes.len()
            )));
        }
        let params = FlatBuffer::zeros(ctx, &format!("{name} parameters"), &shapes)?;
        let grads = match trainable {
            true => Some(FlatBuffer::zeros(
                ctx,
                &format!("{name} gradients"),
                &shapes,
            )?),
            false => None,
        };
        let buffers = FlatBuffer::zeros(ctx, &format!("{name} buffers"), &spec.buffer_shapes())?;
        // Made before any dispatch reads a weight, so that every weight matmul finds it.
        let params_texture = if texture_matmuls_likely(ctx) && ctx.fits_texture(params.whole.len())
        {
            Some(
                ctx.texture_copy_of(&format!("{name} parameters texture"), &params.whole)?
                    .1,
            )
        } else {
            None
        };
        let network = Network {
            input_shape: spec.input_shape(),
            shapes: spec.shapes(),
            param_start: spec.parameter_starts(),
            buffer_start: spec.buffer_starts(),
            spec,
            params,
            params_texture,
            grads,
            buffers,
        };
        for (view, values) in network.params.views.iter().zip(initial) {
            ctx.write(view, values);
        }
        network.write_buffers(ctx, &initial_buffers(&network.spec));
        Ok(network)
    }

    /// A second network of the same spec that starts from this one's parameters and running
    /// statistics, copied on the GPU (the EMA generator starts as G). It is for inference: it
    /// has no gradient buffer, and `backward` refuses it.
    pub fn copy(&self, ctx: &GpuContext, name: &str) -> Result<Network> {
        let zeros: Vec<Vec<f32>> = self
            .spec
            .parameter_shapes()
            .iter()
            .map(|shape| vec![0.0; shape.iter().product()])
            .collect();
        let copy = Network::build(ctx, name, self.spec.clone(), &zeros, false)?;
        let mut recorder = Recorder::new(ctx);
        recorder.copy(&self.params.whole, &copy.params.whole);
        copy.copy_buffers_from(self, &mut recorder);
        recorder.submit()?;
        Ok(copy)
    }

    /// Record a copy of `other`'s running statistics into this network's (same spec).
    pub fn copy_buffers_from(&self, other: &Network, recorder: &mut Recorder<'_>) {
        if !self.buffers.whole.is_empty() {
            recorder.copy(&other.buffers.whole, &self.buffers.whole);
        }
    }

    /// Overwrite the running buffers (`NetworkSpec::buffer_shapes` order).
    pub fn write_buffers(&self, ctx: &GpuContext, values: &[Vec<f32>]) {
        for (view, values) in self.buffers.views.iter().zip(values) {
            ctx.write(view, values);
        }
    }

    /// The trainable tensors of layer i, and their gradients.
    pub fn layer_params(&self, i: usize) -> &[Tensor] {
        let count = self.spec.layers[i].parameter_shapes().len();
        &self.params.views[self.param_start[i]..self.param_start[i] + count]
    }

    /// Layer i's parameter gradients (none for an inference network).
    pub fn layer_grads(&self, i: usize) -> &[Tensor] {
        let Some(grads) = &self.grads else {
            return &[];
        };
        let count = self.spec.layers[i].parameter_shapes().len();
        &grads.views[self.param_start[i]..self.param_start[i] + count]
    }

    /// The gradient buffer, or an error for a network built for inference only.
    pub fn gradients(&self) -> Result<&FlatBuffer> {
        self.grads.as_ref().ok_or_else(|| {
            Error::Gpu(
                "this network is for inference (the EMA generator): it has no gradients".into(),
            )
        })
    }

    pub fn layer_buffers(&self, i: usize) -> &[Tensor] {
        let count = self.spec.layers[i].buffer_shapes().len();
        &self.buffers.views[self.buffer_start[i]..self.buffer_start[i] + count]
    }

    /// W of layer i (its first parameter tensor).
    pub fn weight(&self, layer: usize) -> &Tensor {
        &self.layer_params(layer)[0]
    }

    /// The output shape of layer i, per example.
    pub fn layer_shape(&self, i: usize) -> &[usize] {
        &self.shapes[i]
    }

    /// An evaluation pass over `input` ([batch, inputs]): no dropout, running statistics.
    pub fn pass(&self, ctx: &GpuContext, name: &str, input: &Tensor, batch: usize) -> Result<Pass> {
        self.build_pass(ctx, name, input, batch, None)
    }

    /// A training pass over `input` ([batch, inputs]): dropout with masks drawn from `rng`,
    /// batch statistics.
    pub fn training_pass(
        &self,
        ctx: &GpuContext,
        name: &str,
        input: &Tensor,
        batch: usize,
        rng: DropoutRng<'_>,
    ) -> Result<Pass> {
        self.build_pass(ctx, name, input, batch, Some(rng))
    }

    fn io<'a>(
        &'a self,
        ctx: &'a GpuContext,
        name: &str,
        pass: &'a Pass,
        i: usize,
        rng: Option<DropoutRng<'a>>,
    ) -> LayerIo<'a> {
        let input_shape: &[usize] = if i == 0 {
            &self.input_shape
        } else {
            &self.shapes[i - 1]
        };
        LayerIo {
            ctx,
            label: format!("{name} layer {i}"),
            index: i,
            batch: pass.batch,
            input: pass.layer_input(i),
            input_shape,
            params: self.layer_params(i),
            buffers: self.layer_buffers(i),
            rng,
        }
    }

    /// Allocate activations and build the forward dispatches.
    fn build_pass(
        &self,
        ctx: &GpuContext,
        name: &str,
        input: &Tensor,
        batch: usize,
        rng: Option<DropoutRng<'_>>,
    ) -> Result<Pass> {
        let input_len = batch * self.spec.inputs();
        if input.len() != input_len {
            return Err(Error::Input(format!(
                "{name}: the input has {} values, expected {batch} × {:?}",
                input.len(),
                self.spec.input_shape()
            )));
        }
        let mut input_shape = vec![batch];
        input_shape.extend(self.spec.input_shape());
        let mut pass = Pass {
            batch,
            training: rng.is_some(),
            input: input.reshaped(&input_shape),
            outputs: Vec::new(),
            output_grads: Vec::new(),
            layers: Vec::new(),
            forward: Vec::new(),
        };
        for (i, layer) in self.spec.layers.iter().enumerate() {
            let mut shape = vec![batch];
            shape.extend(&self.shapes[i]);
            let label = |what: &str| format!("{name} layer {i} {what}");
            let io = self.io(ctx, name, &pass, i, rng);
            let mut forward = Vec::new();
            // Layers that only reinterpret their input share its buffers.
            let (output, output_grad, state) = if elementwise::aliases_input(layer, rng.is_some()) {
                let grad = match i {
                    0 => ctx.zeros(&label("input grad"), &shape)?,
                    _ => pass.output_grads[i - 1].reshaped(&shape),
                };
                (io.input.reshaped(&shape), grad, LayerState::default())
            } else {
                let y = ctx.zeros(&label("output"), &shape)?;
                let state = match layer {
                    Layer::Dense(_) | Layer::Linear(_) => {
                        let dense = layer.as_dense().expect("dense or linear");
                        dense::forward(&io, &dense, &y, &mut forward)?
                    }
                    Layer::Conv2d(spec) | Layer::ConvTranspose2d(spec) => conv::forward(
                        &io,
                        spec,
                        matches!(layer, Layer::ConvTranspose2d(_)),
                        &y,
                        &mut forward,
                    )?,
                    Layer::BatchNorm(_) => batch_norm::forward(&io, &y, &mut forward)?,
                    Layer::Activation(activation) => {
                        elementwise::activation_forward(&io, *activation, &y, &mut forward)?
                    }
                    Layer::Dropout(spec) => {
                        elementwise::dropout_forward(&io, spec.keep, &y, &mut forward)?
                    }
                    Layer::Flatten | Layer::Unflatten(_) => {
                        unreachable!("reshapes alias their input")
                    }
                };
                (y, ctx.zeros(&label("output grad"), &shape)?, state)
            };
            drop(io);
            pass.forward.extend(forward);
            pass.outputs.push(output);
            pass.output_grads.push(output_grad);
            pass.layers.push(state);
        }
        Ok(pass)
    }

    /// The activation of layer i − 1 whose backward layer i's input-gradient matmul does (a
    /// dispatch saved per pair of dense layers), or None. Both must be dense; layer i − 1 plain
    /// (not maxout) with an activation, layer i without dropout in this pass (its mask comes
    /// between the matmul and dx).
    fn gated_activation(&self, pass: &Pass, i: usize) -> Option<Activation> {
        let previous = self.spec.layers.get(i.checked_sub(1)?)?;
        let (Layer::Dense(previous), Some(_)) = (previous, self.spec.layers.get(i)?.as_dense())
        else {
            return None;
        };
        let dropout = pass.layers[i].mask.is_some();
        let plain = !previous.is_maxout() && previous.activation != Activation::Identity;
        (plain && !dropout).then_some(previous.activation)
    }

    /// Dispatches that backpropagate from `pass.output_grad()`: parameter gradients as `grads`
    /// says, and dLoss/dinput into `input_grad` when given ([batch, inputs]).
    pub fn backward(
        &self,
        ctx: &GpuContext,
        pass: &Pass,
        grads: ParamGrads,
        input_grad: Option<&Tensor>,
    ) -> Result<Vec<Dispatch>> {
        self.gradients()?;
        let mut dispatches = Vec::new();
        for (i, layer) in self.spec.layers.iter().enumerate().rev() {
            let io = self.io(ctx, "backward", pass, i, None);
            let dx = if i == 0 {
                input_grad
            } else {
                Some(&pass.output_grads[i - 1])
            };
            let (y, dy, state) = (&pass.outputs[i], &pass.output_grads[i], &pass.layers[i]);
            let param_grads = self.layer_grads(i);
            let recorded = match layer {
                Layer::Dense(_) | Layer::Linear(_) => {
                    let dense = layer.as_dense().expect("dense or linear");
                    let fusion = dense::Fusion {
                        activation_applied: self.gated_activation(pass, i + 1).is_some(),
                        gate_dx: self.gated_activation(pass, i),
                    };
                    dense::backward(&io, &dense, state, y, dy, param_grads, grads, dx, fusion)?
                }
                Layer::Conv2d(spec) | Layer::ConvTranspose2d(spec) => conv::backward(
                    &io,
                    spec,
                    matches!(layer, Layer::ConvTranspose2d(_)),
                    state,
                    dy,
                    param_grads,
                    grads,
                    dx,
                )?,
                Layer::BatchNorm(_) => {
                    batch_norm::backward(&io, state, dy, param_grads, grads, dx)?
                }
                Layer::Activation(activation) => {
                    elementwise::activation_backward(&io, *activation, y, dy, dx)?
                }
                Layer::Dropout(_) | Layer::Flatten | Layer::Unflatten(_) => {
                    elementwise::pass_through_backward(&io, state, dy, dx, i == 0)?
                }
            };
            dispatches.extend(recorded);
        }
        Ok(dispatches)
    }
}
