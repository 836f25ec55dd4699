//! Optimizers over a flat parameter buffer (shaders/optim.wgsl): SGD with momentum, Adam and
//! RMSprop with PyTorch's semantics, WGAN weight clipping, and the learning-rate/momentum
//! schedule of Goodfellow et al. (2014), stepwise or as a function of the update count.
//!
//! The hyper-parameters live in a 4-element f32 GPU tensor (see [`OptimizerSettings`]) that the
//! kernels read at run time, so a schedule changes them on the GPU with no host write per step;
//! Adam's step count is a u32 counter incremented on the GPU by [`adam_count`], which also
//! writes the step's bias corrections for [`adam`].

use super::expect_len;
use super::random::check_u32_len;
use crate::error::{Error, Result};
use crate::gpu::{Access, Dispatch, GpuContext, KernelSpec, Tensor, TextureCopy, workgroups_1d};

/// The contents of the `settings` tensor: `[lr, momentum | beta1 | alpha, beta2, eps]`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct OptimizerSettings {
    pub lr: f32,
    /// SGD's momentum μ, Adam's β1 or RMSprop's α.
    pub momentum: f32,
    /// Adam's β2 (unused by the others).
    pub beta2: f32,
    /// Adam's and RMSprop's ε (unused by SGD).
    pub eps: f32,
}

impl OptimizerSettings {
    pub const LEN: usize = 4;

    pub fn sgd(lr: f32, momentum: f32) -> Self {
        OptimizerSettings {
            lr,
            momentum,
            beta2: 0.0,
            eps: 0.0,
        }
    }

    pub fn adam(lr: f32, beta1: f32, beta2: f32, eps: f32) -> Self {
        OptimizerSettings {
            lr,
            momentum: beta1,
            beta2,
            eps,
        }
    }

    pub fn rmsprop(lr: f32, alpha: f32, eps: f32) -> Self {
        OptimizerSettings {
            lr,
            momentum: alpha,
            beta2: 0.0,
            eps,
        }
    }

    pub fn to_array(self) -> [f32; 4] {
        [self.lr, self.momentum, self.beta2, self.eps]
    }

    pub fn from_slice(values: &[f32]) -> Result<Self> {
        match *values {
            [lr, momentum, beta2, eps] => Ok(OptimizerSettings {
                lr,
                momentum,
                beta2,
                eps,
            }),
            _ => Err(Error::Input(format!(
                "optimizer settings have {} values, expected 4",
                values.len()
            ))),
        }
    }

    /// The settings tensor (an upload: setup time only).
    pub fn upload(self, ctx: &GpuContext, label: &str) -> Result<Tensor> {
        ctx.upload(label, &[Self::LEN], &self.to_array())
    }

    /// Read the settings back (after a schedule has run on the GPU; counted as a read).
    pub fn read(ctx: &GpuContext, settings: &Tensor) -> Result<Self> {
        Self::from_slice(&ctx.read_f32(settings)?)
    }
}

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    n: u32,
    x0: f32,
    x1: f32,
    x2: f32,
    x3: f32,
    x4: f32,
    x5: f32,
}

fn params(n: usize, x: [f32; 4]) -> Params {
    Params {
        n: n as u32,
        x0: x[0],
        x1: x[1],
        x2: x[2],
        x3: x[3],
        x4: 0.0,
        x5: 0.0,
    }
}

/// Checks shared by the optimizers: every state has the parameters' length, settings have 4.
fn check(kernel: &str, params: &Tensor, others: &[(&str, &Tensor)]) -> Result<()> {
    check_u32_len(kernel, "params", params.len())?;
    for (name, tensor) in others {
        let expected = if *name == "settings" {
            OptimizerSettings::LEN
        } else {
            params.len()
        };
        expect_len(kernel, name, tensor.len(), expected)?;
    }
    Ok(())
}

fn update(
    ctx: &GpuContext,
    entry: &'static str,
    tensors: Vec<(&Tensor, Access)>,
    n: usize,
) -> Result<Dispatch> {
    ctx.dispatch(KernelSpec {
        shader: "optim",
        entry,
        constants: vec![],
        params: bytemuck::bytes_of(&params(n, [0.0; 4])),
        tensors,
        workgroups: workgroups_1d(n, 256),
    })
}

/// PyTorch SGD with momentum: v = μ·v + g; p −= lr·v (lr, μ from `settings`).
pub fn sgd_momentum(
    ctx: &GpuContext,
    params: &Tensor,
    grads: &Tensor,
    velocity: &Tensor,
    settings: &Tensor,
) -> Result<Dispatch> {
    let kernel = "sgd_momentum";
    check(
        kernel,
        params,
        &[
            ("grads", grads),
            ("velocity", velocity),
            ("settings", settings),
        ],
    )?;
    let tensors = vec![
        (params, Access::ReadWrite),
        (grads, Access::Read),
        (settings, Access::Read),
        (velocity, Access::ReadWrite),
    ];
    update(ctx, kernel, tensors, params.len())
}

/// Adam's count before each update, one invocation: step_counter[0] += 1, then `corrections` =
/// [1 − β1^t, 1 − β2^t] for the [`adam`] launch that follows (β1 and β2 read from `settings`
/// as they are now). Counting and correcting once per step keeps the data-dependent power loops
/// out of the per-parameter update.
pub fn adam_count(
    ctx: &GpuContext,
    step_counter: &Tensor,
    settings: &Tensor,
    corrections: &Tensor,
) -> Result<Dispatch> {
    let kernel = "adam_count";
    expect_len(kernel, "step_counter", step_counter.len(), 1)?;
    expect_len(kernel, "corrections", corrections.len(), 2)?;
    expect_len(kernel, "settings", settings.len(), OptimizerSettings::LEN)?;
    ctx.dispatch(KernelSpec {
        shader: "optim",
        entry: kernel,
        constants: vec![],
        params: bytemuck::bytes_of(&params(1, [0.0; 4])),
        tensors: vec![
            (step_counter, Access::ReadWrite),
            (corrections, Access::ReadWrite),
            (settings, Access::Read),
        ],
        workgroups: [1, 1, 1],
    })
}

/// PyTorch Adam: m and v the moment estimates, `settings` = [lr, β1, β2, eps], `corrections`
/// = [1 − β1^t, 1 − β2^t] as [`adam_count`] wrote them for this step;
/// p −= lr·m̂/(√v̂ + eps) with m̂ = m/(1 − β1^t), v̂ = v/(1 − β2^t). With `mirror` (the
/// parameters' texture, `Network::params_texture`) the new parameters are stored there too,
/// which leaves it current for the matmuls that read weights from it.
#[allow(clippy::too_many_arguments)]
pub fn adam(
    ctx: &GpuContext,
    params: &Tensor,
    grads: &Tensor,
    m: &Tensor,
    v: &Tensor,
    settings: &Tensor,
    corrections: &Tensor,
    mirror: Option<&TextureCopy>,
) -> Result<Dispatch> {
    let kernel = "adam";
    check(
        kernel,
        params,
        &[("grads", grads), ("m", m), ("v", v), ("settings", settings)],
    )?;
    expect_len(kernel, "corrections", corrections.len(), 2)?;
    let tensors = vec![
        (params, Access::ReadWrite),
        (grads, Access::Read),
        (settings, Access::Read),
        (m, Access::ReadWrite),
        (v, Access::ReadWrite),
        (corrections, Access::Read),
    ];
    if let Some(copy) = mirror
        && copy.source_range() != params.range()
    {
        return Err(Error::Gpu(format!(
            "{kernel}: the mirror texture given is not the parameters' own"
        )));
    }
    let n = params.len();
    let uniform = self::params(n, [0.0; 4]);
    let spec = KernelSpec {
        shader: "optim",
        entry: kernel,
        constants: vec![],
        params: bytemuck::bytes_of(&uniform),
        tensors,
        workgroups: workgroups_1d(n, 256),
    };
    ctx.dispatch_mirroring(spec, &[], mirror, "MIRROR_P")
}

/// PyTorch RMSprop (no momentum, not centred): s = α·s + (1 − α)·g²; p −= lr·g/(√s + eps),
/// `settings` = [lr, α, _, eps].
pub fn rmsprop(
    ctx: &GpuContext,
    params: &Tensor,
    grads: &Tensor,
    square_avg: &Tensor,
    settings: &Tensor,
) -> Result<Dispatch> {
    let kernel = "rmsprop";
    check(
        kernel,
        params,
        &[
            ("grads", grads),
            ("square_avg", square_avg),
            ("settings", settings),
        ],
    )?;
    let tensors = vec![
        (params, Access::ReadWrite),
        (grads, Access::Read),
        (settings, Access::Read),
        (square_avg, Access::ReadWrite),
    ];
    update(ctx, kernel, tensors, params.len())
}

/// p = clamp(p, −c, c), in place (the original WGAN critic's constraint).
pub fn clip_weights(ctx: &GpuContext, params: &Tensor, c: f32) -> Result<Dispatch> {
    check_u32_len("clip_weights", "params", params.len())?;
    if c.is_nan() || c < 0.0 {
        return Err(Error::Input(format!(
            "clip_weights: the clip value must be ≥ 0, got {c}"
        )));
    }
    ctx.dispatch(KernelSpec {
        shader: "optim",
        entry: "clip_weights",
        constants: vec![],
        params: bytemuck::bytes_of(&self::params(params.len(), [c, 0.0, 0.0, 0.0])),
        tensors: vec![(params, Access::ReadWrite)],
        workgroups: workgroups_1d(params.len(), 256),
    })
}

/// One step of an exponential moving average of `params` (an EMA generator): average =
/// d·average + (1 − d)·params with d = min(β, (1 + t)/(10 + t)), t = `updates`[0], the updates
/// `params` has had (a warm-up: the average follows early training closely).
pub fn ema_update(
    ctx: &GpuContext,
    average: &Tensor,
    params: &Tensor,
    updates: &Tensor,
    beta: f32,
) -> Result<Dispatch> {
    let kernel = "ema_update";
    check_u32_len(kernel, "average", average.len())?;
    expect_len(kernel, "params", params.len(), average.len())?;
    expect_len(kernel, "updates", updates.len(), 1)?;
    if !(0.0..1.0).contains(&beta) {
        return Err(Error::Input(format!(
            "--ema: the decay β must be in [0, 1), found {beta}"
        )));
    }
    ctx.dispatch(KernelSpec {
        shader: "optim",
        entry: kernel,
        constants: vec![],
        params: bytemuck::bytes_of(&self::params(average.len(), [beta, 0.0, 0.0, 0.0])),
        tensors: vec![
            (average, Access::ReadWrite),
            (params, Access::Read),
            (updates, Access::Read),
        ],
        workgroups: workgroups_1d(average.len(), 256),
    })
}

/// One step of Goodfellow et al.'s schedule, on the GPU (one invocation):
/// lr = max(lr / decay, min_lr); momentum = min(momentum + momentum_increment, final_momentum).
pub fn schedule_step(
    ctx: &GpuContext,
    settings: &Tensor,
    decay: f32,
    min_lr: f32,
    momentum_increment: f32,
    final_momentum: f32,
) -> Result<Dispatch> {
    expect_len(
        "schedule_step",
        "settings",
        settings.len(),
        OptimizerSettings::LEN,
    )?;
    if decay.is_nan() || decay <= 0.0 {
        return Err(Error::Input(format!(
            "schedule_step: decay must be > 0, got {decay}"
        )));
    }
    ctx.dispatch(KernelSpec {
        shader: "optim",
        entry: "schedule_step",
        constants: vec![],
        params: bytemuck::bytes_of(&params(
            0,
            [decay, min_lr, momentum_increment, final_momentum],
        )),
        tensors: vec![(settings, Access::ReadWrite)],
        workgroups: [1, 1, 1],
    })
}

/// A learning-rate decay and momentum ramp as functions of the update count t:
/// lr(t) = max(lr · decay^(−t), min_lr); momentum(t) = momentum + (final_momentum − momentum)·
/// min(t / ramp_updates, 1). `lr` and `momentum` are the values at t = 0.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CountSchedule {
    pub lr: f32,
    /// lr is divided by this per update (1 = constant).
    pub decay: f64,
    pub min_lr: f32,
    pub momentum: f32,
    pub final_momentum: f32,
    /// Updates over which momentum goes from `momentum` to `final_momentum` (≥ 1).
    pub ramp_updates: u64,
}

/// settings[0..2] = (lr(t), momentum(t)) of `schedule` with t = updates_done[0] read on the GPU
/// (one invocation). Recorded after each update, after the count is incremented, so the
/// settings always hold what the next update uses, with no host write.
pub fn schedule_from_count(
    ctx: &GpuContext,
    settings: &Tensor,
    updates_done: &Tensor,
    schedule: CountSchedule,
) -> Result<Dispatch> {
    let kernel = "schedule_from_count";
    expect_len(kernel, "settings", settings.len(), OptimizerSettings::LEN)?;
    expect_len(kernel, "updates_done", updates_done.len(), 1)?;
    if !(schedule.decay.is_finite() && schedule.decay >= 1.0) {
        return Err(Error::Input(format!(
            "{kernel}: decay must be a finite number ≥ 1, got {}",
            schedule.decay
        )));
    }
    if schedule.ramp_updates == 0 {
        return Err(Error::Input(format!(
            "{kernel}: the momentum ramp needs at least one update"
        )));
    }
    let params = Params {
        n: 1,
        x0: schedule.lr,
        // log2 in f64, then rounded once: its relative error stays at f32's 6e-8.
        x1: schedule.decay.log2() as f32,
        x2: schedule.min_lr,
        x3: schedule.momentum,
        x4: schedule.final_momentum,
        x5: schedule.ramp_updates as f32,
    };
    ctx.dispatch(KernelSpec {
        shader: "optim",
        entry: kernel,
        constants: vec![],
        params: bytemuck::bytes_of(&params),
        tensors: vec![(settings, Access::ReadWrite), (updates_done, Access::Read)],
        workgroups: [1, 1, 1],
    })
}
