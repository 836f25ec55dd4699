//! The training graph: every buffer of both networks and every dispatch of Algorithm 1, built
//! once. An iteration is k D steps then one G step, recorded from these fixed lists: noise,
//! batch indices and step counters are made on the GPU, so an iteration needs no host write or read.

use super::config::{GanLoss, TrainConfig};
use super::critic;
use super::optimizer::Optimizer;
use super::prior::{GeneratorInput, Prior, label_layout};
use super::real_data::RealData;
use crate::error::Result;
use crate::gpu::{Dispatch, GpuContext, Recorder, Tensor};
use crate::kernels::condition::{append_one_hot, take_columns};
use crate::kernels::{loss, optim, random};
use crate::nn::{DropoutRng, Network, ParamGrads, Pass, init::initial_parameters};

/// Slots of the metrics tensor (summed over the iterations since the last readback).
pub mod slot {
    pub const D_LOSS: u32 = 0;
    pub const G_LOSS: u32 = 1;
    pub const D_REAL: u32 = 2;
    pub const D_FAKE: u32 = 3;
    /// wgan-gp: λ/B Σ ψ(slope), also included in D_LOSS.
    pub const PENALTY: u32 = 4;
    /// wgan-gp: mean ‖∇ₓD(x̂)‖ (lipschitz-fd: mean difference quotient).
    pub const GRAD_NORM: u32 = 5;
    pub const COUNT: usize = 6;
}

/// Philox streams: independent random numbers for each use under one seed.
pub mod stream {
    pub const NOISE: u32 = 1;
    pub const BATCH: u32 = 2;
    /// wgan-gp's interpolation weights ε (the second for lipschitz-fd's second point).
    pub const EPSILON: u32 = 3;
    pub const EPSILON_2: u32 = 4;
    /// Dropout masks: layer i of a pass draws from its base + i.
    pub const DROPOUT_G: u32 = 0x100;
    pub const DROPOUT_D_REAL: u32 = 0x200;
    pub const DROPOUT_D_FAKE: u32 = 0x300;
}

/// What D reads: the real batch and G's output, each followed by its label in a conditional
/// run (then in tensors of their own, filled by `append`), seen as PacGAN's packs (`pack`
/// consecutive examples side by side: [batch / pack, pack · example], the same memory); for
/// the G step, D's input gradient of the generated batch, whose image part is G's output
/// gradient.
struct DiscriminatorInputs {
    real: Tensor,
    fake: Tensor,
    /// Appends the labels to both batches (empty when unconditional).
    append: Vec<Dispatch>,
    /// Appends them to the generated batch only (the G step).
    append_fake: Option<Dispatch>,
    /// Where D's backward writes ∂D/∂(its input) of the generated packs: G's output gradient
    /// itself when unconditional, else ∂D/∂[G(z), c] in a tensor of its own.
    fake_grad: Tensor,
    /// Copies the image part of ∂D/∂[G(z), c] into G's output gradient (None when
    /// unconditional).
    take_image_grad: Option<Dispatch>,
}

impl DiscriminatorInputs {
    fn new(
        ctx: &GpuContext,
        config: &TrainConfig,
        real: &RealData,
        g_pass: &Pass,
        labels: Option<&Tensor>,
    ) -> Result<DiscriminatorInputs> {
        let batch = config.batch_size;
        let packed = [batch / config.pack, config.discriminator.inputs()];
        let (fake, fake_grad) = (g_pass.output(), g_pass.output_grad());
        let (Some(classes), Some(labels)) = (config.classes, labels) else {
            return Ok(DiscriminatorInputs {
                real: real.batch.reshaped(&packed),
                fake: fake.reshaped(&packed),
                append: Vec::new(),
                append_fake: None,
                fake_grad: fake_grad.reshaped(&packed),
                take_image_grad: None,
            });
        };
        let layout = label_layout(&config.discriminator, classes);
        let shape = [batch, config.discriminator.inputs() / config.pack];
        let real_input = ctx.zeros("D real input", &shape)?;
        let fake_input = ctx.zeros("D fake input", &shape)?;
        let labelled_grad = ctx.zeros("∂D/∂[G(z), c]", &shape)?;
        let append_real = append_one_hot(ctx, &real.batch, labels, &real_input, layout)?;
        let append_fake = append_one_hot(ctx, fake, labels, &fake_input, layout)?;
        Ok(DiscriminatorInputs {
            real: real_input.reshaped(&packed),
            fake: fake_input.reshaped(&packed),
            append: vec![append_real, append_fake.clone()],
            append_fake: Some(append_fake),
            take_image_grad: Some(take_columns(ctx, &labelled_grad, fake_grad, batch)?),
            fake_grad: labelled_grad.reshaped(&packed),
        })
    }
}

pub struct TrainGraph {
    pub config: TrainConfig,
    pub generator: Network,
    /// The EMA generator (`--ema β`): a moving average of `generator`'s parameters, updated
    /// in every G step; its running statistics are G's, copied by [`TrainGraph::sampler`].
    pub ema: Option<Network>,
    pub discriminator: Network,
    pub g_optimizer: Optimizer,
    pub d_optimizer: Optimizer,
    /// Incremented once per D step and once per G step; keys the noise and dropout masks.
    pub rng_counter: Tensor,
    pub metrics: Tensor,
    pub real: RealData,
    /// A D step with its gradient penalty (if the loss has one).
    d_step: Vec<Dispatch>,
    /// Under lazy R1 (`r1_every` > 1), the D step without it; None otherwise.
    d_step_unpenalized: Option<Vec<Dispatch>>,
    g_step: Vec<Dispatch>,
}

impl TrainGraph {
    pub fn new(ctx: &GpuContext, config: &TrainConfig, real: RealData) -> Result<TrainGraph> {
        config.validate()?;
        let batch = config.batch_size;
        let (g_spec, d_spec) = (&config.generator, &config.discriminator);
        // Distinct init seeds for G and D, derived from the run seed.
        let generator = Network::new(
            ctx,
            "G",
            g_spec.clone(),
            &initial_parameters(g_spec, config.seed ^ 0x0047_454E, Some(&real.feature_means))?,
        )?;
        let discriminator = Network::new(
            ctx,
            "D",
            d_spec.clone(),
            &initial_parameters(d_spec, config.seed ^ 0x0044_4953, Some(&real.feature_means))?,
        )?;
        let g_optimizer = Optimizer::new(ctx, "G", config.generator_optimizer, &generator)?;
        let d_optimizer = Optimizer::new(ctx, "D", config.discriminator_optimizer, &discriminator)?;
        let rng_counter = ctx.upload("rng counter", &[1], &[0u32])?;
        let metrics = ctx.zeros("metrics", &[slot::COUNT])?;
        // G's input: noise, and for a conditional run the real batch's labels after it (so
        // in D steps the generated batch has the real batch's class mix; the G step reuses
        // the labels of the last D step's batch, a fresh draw from the data's class mix).
        let labels = real.batch_labels();
        let g_input = GeneratorInput::new(ctx, &Prior::of(config), batch, labels, "G")?;

        let dropout = |stream: u32| DropoutRng {
            seed: config.seed,
            stream,
            counter: &rng_counter,
        };
        let g_pass =
            generator.training_pass(ctx, "G", &g_input.input, batch, dropout(stream::DROPOUT_G))?;
        let d_input = DiscriminatorInputs::new(ctx, config, &real, &g_pass, labels)?;
        // D judges batch / pack packs (PacGAN; one example each without packing).
        let packs = batch / config.pack;
        let d_real = discriminator.training_pass(
            ctx,
            "D real",
            &d_input.real,
            packs,
            dropout(stream::DROPOUT_D_REAL),
        )?;
        let d_fake = discriminator.training_pass(
            ctx,
            "D fake",
            &d_input.fake,
            packs,
            dropout(stream::DROPOUT_D_FAKE),
        )?;

        let draw_noise = |ctx: &GpuContext| -> Result<Vec<Dispatch>> {
            let mut dispatches = vec![random::increment_counter(ctx, &rng_counter)?];
            dispatches.extend(g_input.draw(ctx, config.seed, stream::NOISE, &rng_counter)?);
            Ok(dispatches)
        };

        // D step: maximise log D(x) + log(1 − D(G(z))), i.e. BCE with targets 1 (real), 0 (fake).
        // The real batch first: a conditional G takes its labels.
        let mut d_step = real.draw_batch(ctx, config.seed, stream::BATCH, config.pixel_range)?;
        d_step.extend(draw_noise(ctx)?);
        d_step.extend(g_pass.forward.iter().cloned());
        d_step.extend(d_input.append.iter().cloned());
        d_step.extend(d_real.forward.iter().cloned());
        d_step.extend(d_fake.forward.iter().cloned());
        // The Wasserstein losses' critic replaces BCE (src/gan/critic.rs).
        let wasserstein = config.loss.is_wasserstein();
        let bce_halves = match wasserstein {
            false => vec![(&d_real, 1.0, slot::D_REAL), (&d_fake, 0.0, slot::D_FAKE)],
            true => vec![],
        };
        if wasserstein {
            d_step.extend(critic::critic_loss(ctx, (&d_real, &d_fake), &metrics)?);
        }
        for (pass, target, probability) in bce_halves {
            let logits = pass.output();
            d_step.push(loss::bce_with_logits(
                ctx,
                logits,
                target,
                &metrics,
                slot::D_LOSS,
                Some(probability),
                1.0,
                true,
            )?);
            d_step.push(loss::bce_with_logits_backward(
                ctx,
                logits,
                target,
                pass.output_grad(),
                1.0,
            )?);
        }
        d_step.extend(discriminator.backward(ctx, &d_real, ParamGrads::Overwrite, None)?);
        d_step.extend(discriminator.backward(ctx, &d_fake, ParamGrads::Accumulate, None)?);
        // Under lazy R1 most D steps skip the penalty: the same step, without it.
        let mut d_step_unpenalized = None;
        let mut update_d = d_optimizer.dispatches.clone();
        if config.loss == GanLoss::Wgan {
            // The original WGAN keeps the critic Lipschitz by clipping every parameter.
            update_d.push(optim::clip_weights(
                ctx,
                &discriminator.params.whole,
                config.wasserstein.clip,
            )?);
        }
        if config.r1_every > 1 {
            d_step_unpenalized = Some([d_step.clone(), update_d.clone()].concat());
        }
        // wgan-gp's penalty adds its exact gradient to the critic's, as R1 does for nsgan and
        // minimax (nothing for other losses).
        d_step.extend(critic::penalty(
            ctx,
            config,
            &discriminator,
            (&d_real, &d_fake),
            &metrics,
            &rng_counter,
        )?);
        d_step.extend(update_d);

        // G step: the gradient flows through D (its parameters untouched) into G.
        let (target, scale) = match config.loss {
            GanLoss::Nsgan => (1.0, 1.0),    // minimise −log D(G(z))
            GanLoss::Minimax => (0.0, -1.0), // minimise log(1 − D(G(z))) = −BCE(z, 0)
            // unused: the critic's G loss −mean D(G(z)) replaces BCE below
            GanLoss::WganGp | GanLoss::Wgan => (0.0, 0.0),
        };
        let mut g_step = draw_noise(ctx)?;
        g_step.extend(g_pass.forward.iter().cloned());
        g_step.extend(d_input.append_fake.iter().cloned());
        g_step.extend(d_fake.forward.iter().cloned());
        let logits = d_fake.output();
        if wasserstein {
            g_step.extend(critic::generator_loss(ctx, &d_fake, &metrics)?);
        } else {
            g_step.push(loss::bce_with_logits(
                ctx,
                logits,
                target,
                &metrics,
                slot::G_LOSS,
                None,
                scale,
                true,
            )?);
            g_step.push(loss::bce_with_logits_backward(
                ctx,
                logits,
                target,
                d_fake.output_grad(),
                scale,
            )?);
        }
        g_step.extend(discriminator.backward(
            ctx,
            &d_fake,
            ParamGrads::Skip,
            Some(&d_input.fake_grad),
        )?);
        g_step.extend(d_input.take_image_grad.clone());
        g_step.extend(generator.backward(ctx, &g_pass, ParamGrads::Overwrite, None)?);
        g_step.extend(g_optimizer.dispatches.iter().cloned());
        // The EMA generator follows G after each of its updates.
        let ema = match config.ema {
            Some(beta) => {
                let ema = generator.copy(ctx, "G EMA")?;
                g_step.push(optim::ema_update(
                    ctx,
                    &ema.params.whole,
                    &generator.params.whole,
                    &g_optimizer.step,
                    beta,
                )?);
                Some(ema)
            }
            None => None,
        };

        Ok(TrainGraph {
            config: config.clone(),
            generator,
            ema,
            discriminator,
            g_optimizer,
            d_optimizer,
            rng_counter,
            metrics,
            real,
            d_step,
            d_step_unpenalized,
            g_step,
        })
    }

    /// Record iteration `iteration` (counted from 0 over the whole run) of Algorithm 1: k D
    /// steps, then one G step. The index picks which D steps carry a lazy R1 penalty, so a
    /// resumed run records what the uninterrupted one would.
    pub fn record_iteration(&self, recorder: &mut Recorder<'_>, iteration: u64) {
        let k = self.config.k as u64;
        for d_step in iteration * k..(iteration + 1) * k {
            match &self.d_step_unpenalized {
                Some(unpenalized) if !self.config.penalty_at(d_step) => {
                    recorder.record_all(unpenalized)
                }
                _ => recorder.record_all(&self.d_step),
            }
        }
        recorder.record_all(&self.g_step);
    }

    /// `num_batches_tracked` of G's and D's batch-norm layers after `steps` iterations: one per
    /// training forward pass, as PyTorch counts. G runs once in each D step and once in the G
    /// step; D runs on the real and the generated batch in each D step and on the generated
    /// one in the G step.
    pub fn batch_norm_passes(&self, steps: u64) -> (u64, u64) {
        let k = self.config.k as u64;
        ((k + 1) * steps, (2 * k + 1) * steps)
    }

    /// The generator that grids, evaluations and generator.safetensors use: the EMA
    /// generator when the run keeps one (its running statistics first brought up to G's),
    /// else G itself.
    pub fn sampler(&self, ctx: &GpuContext) -> Result<&Network> {
        if let Some(ema) = &self.ema {
            let mut recorder = Recorder::new(ctx);
            ema.copy_buffers_from(&self.generator, &mut recorder);
            recorder.submit()?;
        }
        Ok(self.sampling_network())
    }

    /// The EMA generator, else G (its running statistics as they are: see [`Self::sampler`]).
    pub fn sampling_network(&self) -> &Network {
        self.ema.as_ref().unwrap_or(&self.generator)
    }

    /// One D step's launches with its gradient penalty, in order (an iteration records k D
    /// steps; under lazy R1 most of them without the penalty's launches).
    pub fn d_step(&self) -> &[Dispatch] {
        &self.d_step
    }

    /// The G step's launches, in order.
    pub fn g_step(&self) -> &[Dispatch] {
        &self.g_step
    }

    /// Dispatches in one iteration whose D steps all carry the penalty (for benchmarks and
    /// tests).
    pub fn dispatches_per_iteration(&self) -> usize {
        self.config.k * self.d_step.len() + self.g_step.len()
    }
}
