//! Generator samples for evaluation, made on the GPU: fresh noise from the Philox fill (the
//! run's distribution; a conditional run's labels after it), G's forward pass in batches, each
//! batch copied into one [count, dim] tensor.

use crate::error::{Error, Result};
use crate::gan::prior::{GeneratorInput, Prior};
use crate::gpu::{GpuContext, Recorder, Tensor};
use crate::kernels::Activation;
use crate::kernels::random::increment_counter;
use crate::nn::Network;

/// Rows per generator forward pass (bounded GPU memory for the activations).
const BATCH: usize = 1000;

/// The Philox stream of evaluation noise (training uses 1 and 2).
const NOISE_STREAM: u32 = 7;

/// `count` samples of `generator` on noise drawn from `seed`, as [count, outputs] in the
/// generator's own output range. A conditional generator draws `class` (None: the classes in
/// turn, 0, 1, …, K − 1, 0, …, so every class has its share).
pub fn generate(
    ctx: &GpuContext,
    generator: &Network,
    prior: &Prior,
    (count, class): (usize, Option<u32>),
    seed: u64,
) -> Result<Tensor> {
    if count == 0 {
        return Err(Error::Input(
            "evaluation: the number of generator samples must be at least 1".into(),
        ));
    }
    if generator.spec.inputs() != prior.input_dim() {
        return Err(Error::Input(format!(
            "evaluation: the generator takes {} inputs, its run's noise and labels {}",
            generator.spec.inputs(),
            prior.input_dim()
        )));
    }
    let dim = generator.spec.outputs();
    let batch = BATCH.min(count);
    // Every batch reuses the first batch's cycled labels: each class gets an equal share when
    // K divides the batch, and shares within one sample a batch of each other otherwise.
    let labels = match (prior.classes, class) {
        (None, _) => None,
        (Some(_), Some(class)) => Some(vec![class; batch]),
        (Some(_), None) => Some(prior.cycled_labels(batch)),
    };
    let labels = labels
        .map(|labels| ctx.upload("eval labels", &[batch], &labels))
        .transpose()?;
    let input = GeneratorInput::new(ctx, prior, batch, labels.as_ref(), "eval G")?;
    let counter = ctx.zeros("eval noise counter", &[1])?;
    let pass = generator.pass(ctx, "eval G", &input.input, batch)?;
    let samples = ctx.zeros("eval samples", &[count, dim])?;
    let mut draw = vec![increment_counter(ctx, &counter)?];
    draw.extend(input.draw(ctx, seed, NOISE_STREAM, &counter)?);
    let mut recorder = Recorder::new(ctx);
    for start in (0..count).step_by(batch) {
        let rows = batch.min(count - start);
        recorder.record_all(&draw);
        recorder.record_all(&pass.forward);
        recorder.copy(
            &pass.output().view(0, &[rows * dim]),
            &samples.view(start * dim, &[rows * dim]),
        );
    }
    recorder.submit()?;
    Ok(samples)
}

/// (scale, shift) that map the generator's output range onto pixels in [0, 1]: a sigmoid output
/// already is; anything else is taken to be in the trainer's data range [−1, 1] (tanh).
pub fn pixel_map(output: Activation) -> (f32, f32) {
    match output {
        Activation::Sigmoid => (1.0, 0.0),
        _ => (0.5, 0.5),
    }
}
