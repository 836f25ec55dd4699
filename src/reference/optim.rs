//! The optimizers, clipping and schedule of `kernels::optim`, one step at a time in f64, with
//! PyTorch's update rules written out as its documentation states them.

/// v = μ·v + g; p −= lr·v.
pub fn sgd_momentum(
    params: &mut [f64],
    grads: &[f64],
    velocity: &mut [f64],
    lr: f64,
    momentum: f64,
) {
    for ((p, &g), v) in params.iter_mut().zip(grads).zip(velocity.iter_mut()) {
        *v = momentum * *v + g;
        *p -= lr * *v;
    }
}

/// Adam's hyper-parameters.
#[derive(Clone, Copy, Debug)]
pub struct Adam {
    pub lr: f64,
    pub beta1: f64,
    pub beta2: f64,
    pub eps: f64,
}

/// One Adam step at step count t ≥ 1: m = β1·m + (1 − β1)·g, v = β2·v + (1 − β2)·g²,
/// p −= lr·m̂/(√v̂ + eps) with m̂ = m/(1 − β1^t), v̂ = v/(1 − β2^t).
pub fn adam(params: &mut [f64], grads: &[f64], m: &mut [f64], v: &mut [f64], h: Adam, t: u32) {
    let bias_correction1 = 1.0 - h.beta1.powi(t as i32);
    let bias_correction2 = 1.0 - h.beta2.powi(t as i32);
    for i in 0..params.len() {
        let g = grads[i];
        m[i] = h.beta1 * m[i] + (1.0 - h.beta1) * g;
        v[i] = h.beta2 * v[i] + (1.0 - h.beta2) * g * g;
        let m_hat = m[i] / bias_correction1;
        let v_hat = v[i] / bias_correction2;
        params[i] -= h.lr * m_hat / (v_hat.sqrt() + h.eps);
    }
}

/// s = α·s + (1 − α)·g²; p −= lr·g/(√s + eps).
pub fn rmsprop(
    params: &mut [f64],
    grads: &[f64],
    square_avg: &mut [f64],
    lr: f64,
    alpha: f64,
    eps: f64,
) {
    for ((p, &g), s) in params.iter_mut().zip(grads).zip(square_avg.iter_mut()) {
        *s = alpha * *s + (1.0 - alpha) * g * g;
        *p -= lr * g / (s.sqrt() + eps);
    }
}

pub fn clip_weights(params: &mut [f64], c: f64) {
    for p in params {
        *p = p.clamp(-c, c);
    }
}

/// The EMA's decay after `t` updates of the averaged network: min(β, (1 + t)/(10 + t)).
pub fn ema_decay(beta: f64, t: u64) -> f64 {
    beta.min((1.0 + t as f64) / (10.0 + t as f64))
}

/// average = d·average + (1 − d)·params, d = [`ema_decay`]`(beta, t)`.
pub fn ema_update(average: &mut [f64], params: &[f64], beta: f64, t: u64) {
    let d = ema_decay(beta, t);
    for (a, &p) in average.iter_mut().zip(params) {
        *a = d * *a + (1.0 - d) * p;
    }
}

/// (lr, momentum) after one schedule step.
pub fn schedule_step(
    (lr, momentum): (f64, f64),
    decay: f64,
    min_lr: f64,
    momentum_increment: f64,
    final_momentum: f64,
) -> (f64, f64) {
    (
        (lr / decay).max(min_lr),
        (momentum + momentum_increment).min(final_momentum),
    )
}

/// (lr, momentum) after `t` updates of `kernels::optim::schedule_from_count`'s schedule.
pub fn schedule_from_count(schedule: crate::kernels::optim::CountSchedule, t: u64) -> (f64, f64) {
    let lr = (schedule.lr as f64 * schedule.decay.powf(-(t as f64))).max(schedule.min_lr as f64);
    let progress = (t as f64 / schedule.ramp_updates as f64).min(1.0);
    let (m0, m1) = (schedule.momentum as f64, schedule.final_momentum as f64);
    (lr, m0 + (m1 - m0) * progress)
}
