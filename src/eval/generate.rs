//! Generator samples for evaluation, made on the GPU: fresh N(0, I) noise from the Philox fill,
//! G's forward pass in batches, each batch copied into one [count, dim] tensor.

use crate::error::{Error, Result};
use crate::gpu::{GpuContext, Recorder, Tensor};
use crate::kernels::Activation;
use crate::kernels::random::{fill_normal, increment_counter};
use crate::nn::Network;

/// Rows per generator forward pass (bounded GPU memory for the activations).
const BATCH: usize = 1000;

/// The Philox stream of evaluation noise (training uses 1 and 2).
const NOISE_STREAM: u32 = 7;

/// `count` samples of `generator` on noise drawn from `seed`, as [count, outputs] in the
/// generator's own output range.
pub fn generate(ctx: &GpuContext, generator: &Network, count: usize, seed: u64) -> Result<Tensor> {
    if count == 0 {
        return Err(Error::Input(
            "evaluation: the number of generator samples must be at least 1".into(),
        ));
    }
    let (noise_dim, dim) = (generator.spec.inputs(), generator.spec.outputs());
    let batch = BATCH.min(count);
    let noise = ctx.zeros("eval noise", &[batch, noise_dim])?;
    let counter = ctx.zeros("eval noise counter", &[1])?;
    let pass = generator.pass(ctx, "eval G", &noise, batch)?;
    let samples = ctx.zeros("eval samples", &[count, dim])?;
    let draw = [
        increment_counter(ctx, &counter)?,
        fill_normal(ctx, &noise, 0.0, 1.0, seed, NOISE_STREAM, &counter)?,
    ];
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
