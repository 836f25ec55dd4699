//! Train a GAN with MLPs smaller than the reference ones, for a quick look on a slow adapter
//! (lavapipe): `cargo run --release --example small_mlp -- DATA LOSS STEPS OUT`, e.g.
//! `... -- ../shared/data/mnist wgan-gp 1500 runs/mnist-small-wgan-gp`.
//! G 64 → 256 → 512 → 784 (LeakyReLU 0.2, tanh), D 784 → 128 → 64 → 1 (LeakyReLU 0.2, linear),
//! batch 32, Adam lr 2e-4 for both networks (twice wgan-gp's default, for a short run) and
//! otherwise the loss's defaults as `gan-gpu train` chooses them (wgan-gp: k = 5,
//! β = (0.5, 0.9), λ = 10; nsgan: k = 1, β = (0.5, 0.999)).

use gan_gpu::gan::real_data::HostData;
use gan_gpu::gan::{
    DataSource, GanLoss, OptimizerConfig, OptimizerKind, Progress, TrainConfig, train,
};
use gan_gpu::gpu::{AdapterChoice, GpuContext};
use gan_gpu::kernels::Activation;
use gan_gpu::nn::MlpSpec;
use gan_gpu::report::run_dir::MetricsRow;

struct Lines;

impl Progress for Lines {
    fn start(&mut self, _: u64, _: u64) {}
    fn extras(&mut self, columns: &[&'static str], values: &[f64]) {
        let text: Vec<String> = columns
            .iter()
            .zip(values)
            .map(|(c, v)| format!("{c} {v:.3}"))
            .collect();
        eprint!("{}  ", text.join("  "));
    }
    fn update(&mut self, row: &MetricsRow) {
        eprintln!(
            "step {}  D {:.3}  G {:.3}  D(x) {:.3}  D(G(z)) {:.3}  {:.2} it/s",
            row.step, row.d_loss, row.g_loss, row.d_real, row.d_fake, row.it_per_s
        );
    }
    fn message(&mut self, _: &str) {}
    fn finish(&mut self) {}
}

fn main() -> gan_gpu::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [data, loss, steps, out] = &args[..] else {
        eprintln!("usage: small_mlp DATA nsgan|wgan-gp STEPS OUT");
        std::process::exit(2);
    };
    let loss = match loss.as_str() {
        "nsgan" => GanLoss::Nsgan,
        "wgan-gp" => GanLoss::WganGp,
        other => {
            eprintln!("loss {other}: expected nsgan or wgan-gp");
            std::process::exit(2);
        }
    };
    let steps: u64 = steps.parse().expect("STEPS is a number");
    let source = DataSource::Folder(data.clone());
    let dim = HostData::load(&source)?.shape.dim();
    let hidden = Activation::LeakyRelu(0.2);
    let mut optimizer = OptimizerConfig::default_for(OptimizerKind::Adam);
    if loss == GanLoss::WganGp {
        optimizer.beta2 = 0.9;
    }
    let config = TrainConfig {
        data: source,
        noise_dim: 64,
        generator: MlpSpec::from_sizes(&[64, 256, 512, dim], hidden, Activation::Tanh),
        discriminator: MlpSpec::from_sizes(&[dim, 128, 64, 1], hidden, Activation::Identity),
        loss,
        wasserstein: Default::default(),
        generator_optimizer: optimizer,
        discriminator_optimizer: optimizer,
        batch_size: 32,
        k: if loss == GanLoss::WganGp { 5 } else { 1 },
        steps,
        seed: 0,
        log_every: 25,
        sample_every: 250,
        checkpoint_every: 1000,
    };
    let ctx = GpuContext::new(&AdapterChoice::from_flag_or_env(None))?;
    let outcome = train(&ctx, &config, std::path::Path::new(out), None, &mut Lines)?;
    eprintln!(
        "done: {} steps at {:.2} it/s",
        outcome.final_step, outcome.it_per_s
    );
    Ok(())
}
