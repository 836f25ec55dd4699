//! What `gan-gpu train ring8|grid25|gauss1d|mix1d` trains when no flag says otherwise: data,
//! like the image presets, and every flag given explicitly wins over it. The 2-D defaults come
//! from the study in the README ("Measured: the toy sets"), searched with the PyTorch mirror
//! `assets/toy_torch.py` and checked in gan-gpu; the 1-D ones draw the paper's Figure 1.

use super::config::{GanLoss, OptimizerConfig, OptimizerKind, Schedule};
use super::presets::wgan_gp_adam;
use super::prior::Noise;
use crate::data::{Toy, ToySet};
use crate::kernels::Activation;

/// A toy run's defaults for one loss.
#[derive(Clone, Debug, PartialEq)]
pub struct ToyDefaults {
    /// Hidden layer sizes of G and of D.
    pub hidden: &'static [usize],
    /// Their hidden layers' activation.
    pub activation: Activation,
    pub noise: Noise,
    pub batch_size: usize,
    pub steps: u64,
    /// D steps per G step; None: the loss's own (1, or 5 for the Wasserstein losses).
    pub k: Option<usize>,
    /// Adam's settings and schedule; None: the loss's own optimizer defaults.
    pub adam: Option<OptimizerConfig>,
    /// D's starting rate where it differs from G's (the same schedule divides both).
    pub lr_d: Option<f32>,
    /// wgan-gp's λ; None: the paper's 10.
    pub lambda: Option<f32>,
    /// The EMA generator's decay; None: no EMA generator.
    pub ema: Option<f32>,
    /// R1's γ (nsgan and minimax); None: no R1.
    pub r1: Option<f32>,
}

/// Adam with lr(t) = max(lr · decay^(−t), 1e-4).
fn decaying_adam(lr: f32, beta1: f32, beta2: f32, decay: f64) -> OptimizerConfig {
    let mut adam = OptimizerConfig {
        lr,
        momentum: beta1,
        beta2,
        ..OptimizerConfig::default_for(OptimizerKind::Adam)
    };
    adam.schedule = Some(Schedule {
        lr_decay: decay,
        min_lr: 1e-4,
        ..Schedule::constant(&adam)
    });
    adam
}

pub fn toy_defaults(toy: &Toy, loss: GanLoss) -> ToyDefaults {
    if matches!(toy, Toy::Line(_)) {
        // Figure 1: 1-D uniform noise, small MLPs, a fixed fast rate, no averaging.
        return ToyDefaults {
            hidden: &[128, 128, 128],
            activation: Activation::LeakyRelu(0.2),
            noise: Noise::Uniform,
            batch_size: 64,
            steps: 2000,
            k: None,
            lr_d: None,
            adam: Some(match loss {
                GanLoss::WganGp => wgan_gp_adam(),
                _ => OptimizerConfig {
                    lr: 1e-3,
                    ..OptimizerConfig::default_for(OptimizerKind::Adam)
                },
            }),
            lambda: None,
            ema: None,
            r1: None,
        };
    }
    // 2-D: deeper narrow nets on uniform noise reached more modes at higher quality than 3×128
    // on normal noise at the same cost; the rate decays 10× so the modes sharpen; the EMA
    // generator is far ahead early (ring8 at 2,000 steps: 50 % high-quality vs 23 %).
    let hidden: &[usize] = &[96, 96, 96, 96];
    let ring8 = matches!(toy, Toy::Plane(ToySet::Ring8));
    // ReLU, not LeakyReLU 0.2, except for ring8 with nsgan: G's folds between modes get
    // steeper sooner (mirror, ring8 wgan-gp: 92.0 and 95.3 % high quality on two seeds against
    // 83.4 %; grid25 wgan-gp 25 of 25 modes against 9). ring8's R1 run was slower with it
    // (85 % at 8,000 steps in gan-gpu, against 88 %).
    let activation = match loss {
        GanLoss::Nsgan | GanLoss::Minimax if ring8 => Activation::LeakyRelu(0.2),
        _ => Activation::Relu,
    };
    match loss {
        GanLoss::WganGp => ToyDefaults {
            hidden,
            activation,
            noise: Noise::Uniform,
            // grid25 at batch 96 as with nsgan: 9,000 steps gave 25 of 25 at 88.1 % against
            // 87.1 % for 11,000 at batch 64, in the same time (at the old decay, 1.000313).
            batch_size: if ring8 { 64 } else { 96 },
            // k 1: G's steps are what sharpen the modes, so thousands of iterations of one
            // critic step each beat 2,000 of five at about the same cost (ring8 in the mirror:
            // 8 of 8 at 84 % against 48–52 %). With ReLU nets ring8 passes 90 % by step 3,000
            // and peaks near 6,000 (94.6 %); grid25 passes 90 % at 7,500 (90.9 %) and keeps
            // sharpening (9,000: 91.7 %), but 7,500 steps are what fit 5 minutes when llvmpipe
            // runs slowly (25 it/s, against 31 at its best).
            steps: if ring8 { 6000 } else { 7_500 },
            k: Some(1),
            // β₁ 0 and λ 1: the paper's λ 10 and β₁ 0.5 captured no ring8 mode in 2,000 steps.
            // ring8's rate reaches its floor at step 9,000. grid25's decays more slowly, G's
            // ending near 1.8e-4, above the floor: its modes kept sharpening where a floor at
            // step 7,360 (decay 1.000313) stalled them (step 9,000: 25 of 25 at 91.7 % against
            // 88.1 %).
            adam: Some(decaying_adam(
                1e-3,
                0.0,
                0.9,
                if ring8 { 1.000256 } else { 1.0002 },
            )),
            // With one step per G step the critic must learn twice as fast to keep up.
            lr_d: Some(2e-3),
            lambda: Some(1.0),
            ema: Some(0.999),
            r1: None,
        },
        GanLoss::Wgan => ToyDefaults {
            hidden,
            activation,
            noise: Noise::Uniform,
            batch_size: 64,
            steps: 2000,
            k: None,
            adam: None, // RMSProp, as Arjovsky et al.
            lr_d: None,
            lambda: None,
            ema: Some(0.999),
            r1: None,
        },
        GanLoss::Nsgan | GanLoss::Minimax => ToyDefaults {
            hidden,
            activation,
            noise: Noise::Uniform,
            // grid25 at batch 96: 9,600 steps cost what 12,000 at batch 64 do and gave 25 of 25
            // modes at 85.8 % against 22 at 68.4 % (the gradient noise, not the step count,
            // held the modes back; README, "Measured: the toy sets").
            batch_size: if ring8 { 64 } else { 96 },
            // R1 costs a sixth of each step; 11,000 steps (ring8) and 7,500 at batch 96 (grid25)
            // fit in 5 minutes on llvmpipe (grid25 at 25–31 it/s), and the modes were still
            // sharpening.
            steps: if ring8 { 11_000 } else { 7_500 },
            k: None,
            // ring8's rate reaches its floor of 1e-4 at step 10,000. grid25's decays slowly, G's
            // ending at 5.5e-4: the slower the decay, the sooner its modes sharpened (step 8,000:
            // decay 1.00024 80.7 %, 1.00012 89.9 %, 1.00008 91.9 %; README).
            adam: Some(decaying_adam(
                1e-3,
                0.5,
                0.999,
                if ring8 { 1.00023 } else { 1.00008 },
            )),
            // grid25's D at twice G's rate: sharper modes (mirror: 80 % against 57 %).
            lr_d: (!ring8).then_some(2e-3),
            lambda: None,
            ema: Some(0.999),
            // R1 γ 1 on ring8: 8 of 8 modes at 90–92 % on three seeds of the mirror, against 8
            // and 7 at 88–90 % without. On grid25 a small γ with ReLU nets finds modes the
            // plain run loses (mirror: 21 of 25 with γ 0.01 against 10); larger ones (0.1–10)
            // lost modes and quality within this budget (README, "Measured: the toy sets").
            r1: Some(if ring8 { 1.0 } else { 0.03 }),
        },
    }
}
