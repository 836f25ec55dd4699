// Optimizer updates over a flat parameter buffer (one invocation per element), weight clipping,
// and the learning-rate/momentum schedule.
//
// Hyper-parameters are not in the uniform params but in a small GPU tensor `settings`:
//   settings = [lr, momentum | beta1 | alpha, beta2, eps]
// read at run time, so `schedule_step` can change them on the GPU between steps with no host
// write. Adam's step count t is likewise read from its own u32 counter (incremented on the GPU).
//
// The updates have no early return: on llvmpipe a branch before a load turns it into a loop over
// the SIMD lanes, and the hyper-parameters (one value for all lanes) load once only outside one.
// Lanes past the end read element n − 1 and store nothing.
//
// Binding numbers follow each wrapper's tensor order, so a slot is declared several times with
// different names; no entry point uses two declarations of one slot.

struct Params {
    // Elements of the parameter buffer.
    n: u32,
    // clip_weights: c. schedule_step: decay. schedule_from_count: initial lr.
    x0: f32,
    // schedule_step: min_lr, momentum increment, final momentum.
    // schedule_from_count: log2(decay), min_lr, initial momentum.
    x1: f32,
    x2: f32,
    x3: f32,
    // schedule_from_count: final momentum, updates of the momentum ramp.
    x4: f32,
    x5: f32,
}

@group(0) @binding(0) var<uniform> params: Params;

// Slot 1: the parameters (updated in place), or the settings for schedule_step.
@group(0) @binding(1) var<storage, read_write> p: array<f32>;
@group(0) @binding(1) var<storage, read_write> settings_rw: array<f32>;
// Slot 2: the gradients.
@group(0) @binding(2) var<storage, read> g: array<f32>;
// Slot 3: the hyper-parameters.
@group(0) @binding(3) var<storage, read> settings: array<f32>;
// Slot 4: the first state (SGD's velocity, Adam's m, RMSprop's square average).
@group(0) @binding(4) var<storage, read_write> state1: array<f32>;
// Slot 5: Adam's v.
@group(0) @binding(5) var<storage, read_write> state2: array<f32>;
// Slot 6: Adam's bias corrections for this step [1 − β1^t, 1 − β2^t] (written by adam_count).
@group(0) @binding(6) var<storage, read> corrections: array<f32>;
// adam_count: slot 1 Adam's step counter t, slot 2 the corrections it writes.
@group(0) @binding(1) var<storage, read_write> counter: array<u32>;
@group(0) @binding(2) var<storage, read_write> corrections_out: array<f32>;
// Slot 2 of schedule_from_count: the updates made so far.
@group(0) @binding(2) var<storage, read> updates_done: array<u32>;
// adam: slot 7 the parameters' texture, written beside them when MIRROR_P (matmuls read weights
// from it; src/gpu/texture.rs).
@group(0) @binding(7) var p_texels: texture_storage_2d<r32float, write>;
override MIRROR_P: bool = false;
// ema_update: slot 2 the trained parameters, slot 3 the updates they have had.
@group(0) @binding(2) var<storage, read> trained: array<f32>;
@group(0) @binding(3) var<storage, read> trained_updates: array<u32>;

// PyTorch SGD with momentum (dampening 0, no Nesterov): v = μ·v + g; p −= lr·v.
// With v starting at zero the first step gives v = g, PyTorch's first-step buffer.
@compute @workgroup_size(256)
fn sgd_momentum(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let index = flat_index(gid, groups, 256u);
    let i = min(index, params.n - 1u);
    let lr = settings[0];
    let momentum = settings[1];
    let v = momentum * state1[i] + g[i];
    let updated = p[i] - lr * v;
    if (index < params.n) {
        state1[i] = v;
        p[i] = updated;
    }
}

// 1 − β^t without cancellation. pow(β, t) then 1 − it would lose most digits for β near 1
// (β2 = 0.999: a relative error ε in β^t becomes ≈ 1000·ε in 1 − β^t at t = 1), and GPU pow is
// only a few ulps good to begin with. Instead carry q(a) = 1 − β^a through binary
// exponentiation: q(2a) = q(a)·(2 − q(a)) and q(a + b) = q(a) + q(b)·(1 − q(a)), where every
// term is non-negative, so each step loses only a rounding or two. q(1) = 1 − β is exact for
// β ∈ [0.5, 1] (Sterbenz).
fn one_minus_pow(beta: f32, t: u32) -> f32 {
    var result = 0.0; // q(0): 1 − β^0
    var square = 1.0 - beta; // q(2^k), k = 0, 1, ...
    var e = t;
    loop {
        if (e == 0u) {
            break;
        }
        if ((e & 1u) == 1u) {
            result = result + square * (1.0 - result);
        }
        e = e >> 1u;
        if (e != 0u) {
            square = square * (2.0 - square);
        }
    }
    return result;
}

// Adam's count before each update, in one invocation: t += 1, then the bias corrections
// [1 − β1^t, 1 − β2^t] for the update that follows (β1 from settings, which a momentum schedule
// may have changed). Computed once here rather than in every invocation of adam: on llvmpipe the
// two data-dependent loops of one_minus_pow cost a quarter of the update.
@compute @workgroup_size(1)
fn adam_count() {
    let t = counter[0] + 1u;
    counter[0] = t;
    corrections_out[0] = one_minus_pow(settings[1], t);
    corrections_out[1] = one_minus_pow(settings[2], t);
}

// PyTorch Adam (no weight decay, no AMSGrad):
//   m = β1·m + (1 − β1)·g;  v = β2·v + (1 − β2)·g²
//   p −= (lr / (1 − β1^t)) · m / (√v / √(1 − β2^t) + eps)
@compute @workgroup_size(256)
fn adam(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let index = flat_index(gid, groups, 256u);
    let i = min(index, params.n - 1u);
    let lr = settings[0];
    let beta1 = settings[1];
    let beta2 = settings[2];
    let eps = settings[3];
    let bias_correction1 = corrections[0];
    let bias_correction2 = corrections[1];
    let grad = g[i];
    let m = beta1 * state1[i] + (1.0 - beta1) * grad;
    let v = beta2 * state2[i] + (1.0 - beta2) * grad * grad;
    let denom = sqrt(v) / sqrt(bias_correction2) + eps;
    let updated = p[i] - (lr / bias_correction1) * (m / denom);
    if (index < params.n) {
        state1[i] = m;
        state2[i] = v;
        p[i] = updated;
        if (MIRROR_P) {
            textureStore(p_texels, texel_of(i), vec4<f32>(updated, 0.0, 0.0, 0.0));
        }
    }
}

// PyTorch RMSprop (no momentum, not centred): s = α·s + (1 − α)·g²; p −= lr·g / (√s + eps).
@compute @workgroup_size(256)
fn rmsprop(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let index = flat_index(gid, groups, 256u);
    let i = min(index, params.n - 1u);
    let lr = settings[0];
    let alpha = settings[1];
    let eps = settings[3];
    let grad = g[i];
    let s = alpha * state1[i] + (1.0 - alpha) * grad * grad;
    let updated = p[i] - lr * grad / (sqrt(s) + eps);
    if (index < params.n) {
        state1[i] = s;
        p[i] = updated;
    }
}

// p = clamp(p, −c, c): the original WGAN's Lipschitz constraint on the critic.
@compute @workgroup_size(256)
fn clip_weights(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = flat_index(gid, groups, 256u);
    if (i >= params.n) {
        return;
    }
    p[i] = clamp(p[i], -params.x0, params.x0);
}

// An exponential moving average of parameters (Polyak averaging as in Karras et al. 2018 and
// Yazıcı et al. 2019): avg = d·avg + (1 − d)·p, with the warm-up of TensorFlow's
// ExponentialMovingAverage(num_updates), d = min(β, (1 + t)/(10 + t)) after t updates, so the
// early average follows the fast-changing network instead of its random initialisation.
@compute @workgroup_size(256)
fn ema_update(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    // Loads outside any branch, as in the updates above.
    let index = flat_index(gid, groups, 256u);
    let i = min(index, params.n - 1u);
    let t = f32(trained_updates[0]);
    let d = min(params.x0, (1.0 + t) / (10.0 + t));
    let averaged = d * p[i] + (1.0 - d) * trained[i];
    if (index < params.n) {
        p[i] = averaged;
    }
}

// Goodfellow et al. (2014)'s schedule, once per step (one invocation):
// lr = max(lr / decay, min_lr); momentum = min(momentum + increment, final).
@compute @workgroup_size(1)
fn schedule_step() {
    settings_rw[0] = max(settings_rw[0] / params.x0, params.x1);
    settings_rw[1] = min(settings_rw[1] + params.x2, params.x3);
}

// The same schedule as a function of the update count t (pylearn2's ExponentialDecay computes
// lr0 / decay^t from its count too), written after each update so settings always hold what the
// next update uses:
//   lr = max(lr0 · 2^(−t·log2 decay), min_lr)
//   momentum = m0 + (m1 − m0) · t / ramp, and m1 from t ≥ ramp on.
// Unlike repeated division, no rounding accumulates over steps, and decay need not be a float:
// 1.000004 is not one (the nearest f32 decays 1.3% faster), but log2(1.000004) is accurate.
@compute @workgroup_size(1)
fn schedule_from_count() {
    let t = f32(updates_done[0]);
    let log2_decay = params.x1;
    let decayed = params.x0 * exp2(-t * log2_decay);
    settings_rw[0] = max(select(decayed, params.x0, log2_decay == 0.0), params.x2);
    let m0 = params.x3;
    let m1 = params.x4;
    let ramp = params.x5;
    settings_rw[1] = select(m0 + (m1 - m0) * (t / ramp), m1, t >= ramp);
}
