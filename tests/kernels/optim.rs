//! SGD with momentum, Adam and RMSprop against the f64 reference over several steps (fresh
//! gradients each step, step counter incremented on the GPU), weight clipping and the schedule.

use gan_gpu::gpu::{Dispatch, Recorder, Tensor};
use gan_gpu::kernels::optim::{
    CountSchedule, OptimizerSettings, adam, adam_count, clip_weights, ema_update, rmsprop,
    schedule_from_count, schedule_step, sgd_momentum,
};
use gan_gpu::kernels::random::increment_counter;
use gan_gpu::reference::optim as reference;
use rand::RngExt;
use rand::rngs::StdRng;

use crate::common::*;

const SIZES: [usize; 3] = [1, 65, 1200];
const STEPS: usize = 4;

fn run(dispatches: &[&Dispatch]) {
    let mut recorder = Recorder::new(gpu());
    recorder.record_all(dispatches.iter().copied());
    recorder.submit().unwrap();
}

/// Gradients in (−1, 1) with some exact zeros (a zero gradient on a zero state must not make
/// 0/0 in Adam or RMSprop).
fn gradients(rng: &mut StdRng, n: usize) -> Vec<f32> {
    let mut g = uniform(rng, n, -1.0, 1.0);
    for value in g.iter_mut() {
        if rng.random_range(0.0..1.0) < 0.1 {
            *value = 0.0;
        }
    }
    g
}

/// Compare the parameters' change (not the parameters): the change is what the optimizer
/// computes, and judged against |p| ≈ 1 a wrong update of size lr·1e-3 would pass unseen.
/// Judged relative to max(|Δ|, lr): the f32 rounding of p itself (≤ 6e-8 per step for
/// |p| < 1, a few steps plus p − p0) stays below 1e-4·lr for the lr ≥ 0.01 used here.
fn assert_update_close(what: &str, p0: &[f32], gpu: &[f32], reference: &[f64], lr: f32) {
    let delta: Vec<f32> = gpu.iter().zip(p0).map(|(p, q)| p - q).collect();
    let expected: Vec<f64> = reference
        .iter()
        .zip(p0)
        .map(|(p, &q)| p - q as f64)
        .collect();
    assert_close(what, &delta, &expected, 1e-4, lr as f64);
}

#[test]
fn sgd_momentum_matches_reference() {
    for n in SIZES {
        let mut rng = rng(&format!("sgd {n}"));
        let p0 = uniform(&mut rng, n, -1.0, 1.0);
        let settings = OptimizerSettings::sgd(rng.random_range(0.01..0.1), 0.9);
        let (params, velocity, grads) = (upload(&p0), upload(&vec![0.0; n]), upload(&vec![0.0; n]));
        let settings_gpu = settings.upload(gpu(), "settings").unwrap();
        let step = sgd_momentum(gpu(), &params, &grads, &velocity, &settings_gpu).unwrap();

        let (mut p, mut v) = (to_f64(&p0), vec![0.0; n]);
        for _ in 0..STEPS {
            let g = gradients(&mut rng, n);
            gpu().write(&grads, &g);
            run(&[&step]);
            let (lr, mu) = (settings.lr as f64, settings.momentum as f64);
            reference::sgd_momentum(&mut p, &to_f64(&g), &mut v, lr, mu);
        }
        let what = format!("sgd n={n}");
        assert_update_close(
            &what,
            &p0,
            &gpu().read_f32(&params).unwrap(),
            &p,
            settings.lr,
        );
        assert_close(&what, &gpu().read_f32(&velocity).unwrap(), &v, 1e-4, 1e-3);
    }
}

#[test]
fn adam_matches_reference_with_gpu_step_counter() {
    for n in SIZES {
        let mut rng = rng(&format!("adam {n}"));
        let p0 = uniform(&mut rng, n, -1.0, 1.0);
        let settings = OptimizerSettings::adam(rng.random_range(0.01..0.1), 0.5, 0.999, 1e-8);
        let zeros = vec![0.0; n];
        let (params, grads) = (upload(&p0), upload(&zeros));
        let (m_gpu, v_gpu) = (upload(&zeros), upload(&zeros));
        let settings_gpu = settings.upload(gpu(), "settings").unwrap();
        let counter = gpu().upload("adam step", &[1], &[0u32]).unwrap();
        let corrections = upload(&[f32::NAN; 2]);
        let count = adam_count(gpu(), &counter, &settings_gpu, &corrections).unwrap();
        let step = adam(
            gpu(),
            &params,
            &grads,
            &m_gpu,
            &v_gpu,
            &settings_gpu,
            &corrections,
            None,
        )
        .unwrap();

        let h = reference::Adam {
            lr: settings.lr as f64,
            beta1: settings.momentum as f64,
            beta2: settings.beta2 as f64,
            eps: settings.eps as f64,
        };
        let (mut p, mut m, mut v) = (to_f64(&p0), vec![0.0; n], vec![0.0; n]);
        for t in 1..=3 {
            let g = gradients(&mut rng, n);
            gpu().write(&grads, &g);
            run(&[&count, &step]);
            reference::adam(&mut p, &to_f64(&g), &mut m, &mut v, h, t);
        }
        assert_eq!(gpu().read_u32(&counter).unwrap(), vec![3]);
        let what = format!("adam n={n}");
        assert_update_close(
            &what,
            &p0,
            &gpu().read_f32(&params).unwrap(),
            &p,
            settings.lr,
        );
        assert_close(&what, &gpu().read_f32(&m_gpu).unwrap(), &m, 1e-4, 1e-3);
        // v is a sum of non-negative terms: relative error stays ~1e-7 however small it is.
        assert_close(&what, &gpu().read_f32(&v_gpu).unwrap(), &v, 1e-4, 1e-30);
    }
}

#[test]
fn adam_bias_correction_at_large_step_counts() {
    // The shader computes 1 − β^t by a cancellation-free binary exponentiation; check it where
    // a naive 1 − pow(β, t) would be off (t = 1, 2 with β2 = 0.9999) and at long runs.
    for t in [1u32, 2, 7, 1000, 123_456, 10_000_000] {
        let n = 65;
        let mut rng = rng(&format!("adam t={t}"));
        let p0 = uniform(&mut rng, n, -1.0, 1.0);
        let m0 = uniform(&mut rng, n, -0.1, 0.1);
        let v0 = uniform(&mut rng, n, 0.0, 0.01);
        let g = gradients(&mut rng, n);
        let settings = OptimizerSettings::adam(0.01, 0.9, 0.9999, 1e-8);
        let (params, grads, m_gpu, v_gpu) = (upload(&p0), upload(&g), upload(&m0), upload(&v0));
        let settings_gpu = settings.upload(gpu(), "settings").unwrap();
        // adam_count makes the count t from t − 1.
        let counter = gpu().upload("adam step", &[1], &[t - 1]).unwrap();
        let corrections = upload(&[f32::NAN; 2]);
        let count = adam_count(gpu(), &counter, &settings_gpu, &corrections).unwrap();
        let step = adam(
            gpu(),
            &params,
            &grads,
            &m_gpu,
            &v_gpu,
            &settings_gpu,
            &corrections,
            None,
        )
        .unwrap();
        run(&[&count, &step]);
        assert_eq!(gpu().read_u32(&counter).unwrap(), vec![t]);
        let h = reference::Adam {
            lr: settings.lr as f64,
            beta1: settings.momentum as f64,
            beta2: settings.beta2 as f64,
            eps: settings.eps as f64,
        };
        let (mut p, mut m, mut v) = (to_f64(&p0), to_f64(&m0), to_f64(&v0));
        reference::adam(&mut p, &to_f64(&g), &mut m, &mut v, h, t);
        let what = format!("adam t={t}");
        assert_update_close(
            &what,
            &p0,
            &gpu().read_f32(&params).unwrap(),
            &p,
            settings.lr,
        );
    }
}

#[test]
fn rmsprop_matches_reference() {
    for n in SIZES {
        let mut rng = rng(&format!("rmsprop {n}"));
        let p0 = uniform(&mut rng, n, -1.0, 1.0);
        let settings = OptimizerSettings::rmsprop(rng.random_range(0.01..0.1), 0.99, 1e-8);
        let zeros = vec![0.0; n];
        let (params, grads, square_avg) = (upload(&p0), upload(&zeros), upload(&zeros));
        let settings_gpu = settings.upload(gpu(), "settings").unwrap();
        let step = rmsprop(gpu(), &params, &grads, &square_avg, &settings_gpu).unwrap();

        let (mut p, mut s) = (to_f64(&p0), vec![0.0; n]);
        for _ in 0..STEPS {
            let g = gradients(&mut rng, n);
            gpu().write(&grads, &g);
            run(&[&step]);
            let (lr, alpha, eps) = (
                settings.lr as f64,
                settings.momentum as f64,
                settings.eps as f64,
            );
            reference::rmsprop(&mut p, &to_f64(&g), &mut s, lr, alpha, eps);
        }
        let what = format!("rmsprop n={n}");
        assert_update_close(
            &what,
            &p0,
            &gpu().read_f32(&params).unwrap(),
            &p,
            settings.lr,
        );
        assert_close(
            &what,
            &gpu().read_f32(&square_avg).unwrap(),
            &s,
            1e-4,
            1e-30,
        );
    }
}

#[test]
fn settings_changed_on_the_gpu_take_effect() {
    // The optimizers read lr at run time: after a schedule step halves it, the next update is
    // half as large, with no host write in between.
    let n = 7;
    let p0 = vec![0.0f32; n];
    let (params, velocity, grads) = (upload(&p0), upload(&p0), upload(&[1.0; 7]));
    let settings = OptimizerSettings::sgd(0.1, 0.0).upload(gpu(), "s").unwrap();
    let step = sgd_momentum(gpu(), &params, &grads, &velocity, &settings).unwrap();
    let halve = schedule_step(gpu(), &settings, 2.0, 0.0, 0.0, 0.0).unwrap();
    let result = run_and_read(&[&step, &halve, &step], &params);
    assert_close("p after lr 0.1 then 0.05", &result, &[-0.15; 7], 1e-6, 1.0);
}

#[test]
fn clip_weights_clamps() {
    let mut rng = rng("clip");
    for n in [1, 63, 1200] {
        let values = uniform(&mut rng, n, -2.0, 2.0);
        let params = upload(&values);
        let result = run_and_read(&[&clip_weights(gpu(), &params, 0.01).unwrap()], &params);
        let mut expected = to_f64(&values);
        reference::clip_weights(&mut expected, 0.01f32 as f64);
        // A clamp is exact: every value is either untouched or exactly ±c.
        for (i, (&g, &e)) in result.iter().zip(&expected).enumerate() {
            assert_eq!(g as f64, e, "clip n={n} [{i}]");
        }
    }
    assert!(clip_weights(gpu(), &upload(&[1.0]), -1.0).is_err());
}

/// The EMA over several updates of the averaged parameters, the update count advanced on the
/// GPU as the G optimizer does, through the warm-up (t < 10) and past it with β = 0.9.
#[test]
fn ema_update_matches_reference() {
    let mut rng = rng("ema");
    for (n, beta) in [(1, 0.999f32), (65, 0.9), (1200, 0.5)] {
        let start = uniform(&mut rng, n, -1.0, 1.0);
        let average = upload(&start);
        let params = upload(&start);
        let updates = gpu().upload("updates", &[1], &[0u32]).unwrap();
        let mut expected = to_f64(&start);
        let update = ema_update(gpu(), &average, &params, &updates, beta).unwrap();
        let count = increment_counter(gpu(), &updates).unwrap();
        for t in 1..=12u64 {
            let values = uniform(&mut rng, n, -1.0, 1.0);
            gpu().write(&params, &values);
            run(&[&count, &update]);
            reference::ema_update(&mut expected, &to_f64(&values), beta as f64, t);
        }
        let result = gpu().read_f32(&average).unwrap();
        assert_close(
            &format!("ema n={n} β={beta}"),
            &result,
            &expected,
            1e-5,
            1.0,
        );
    }
    let one = upload(&[1.0]);
    let updates = gpu().upload("updates", &[1], &[0u32]).unwrap();
    let error = ema_update(gpu(), &one, &one, &updates, 1.0)
        .err()
        .unwrap()
        .to_string();
    assert!(error.contains("--ema"), "{error}");
    assert!(ema_update(gpu(), &one, &upload(&[1.0, 2.0]), &updates, 0.9).is_err());
}

#[test]
fn schedule_step_matches_reference() {
    let (lr0, momentum0) = (0.1f32, 0.5f32);
    let settings = OptimizerSettings::sgd(lr0, momentum0)
        .upload(gpu(), "settings")
        .unwrap();
    let (decay, min_lr, increment, last) = (1.3f32, 0.003f32, 0.04f32, 0.7f32);
    let step = schedule_step(gpu(), &settings, decay, min_lr, increment, last).unwrap();
    let mut expected = (lr0 as f64, momentum0 as f64);
    // 20 steps: lr reaches its floor (0.1/1.3^14 < 0.003) and momentum its final value.
    for steps in 1..=20 {
        run(&[&step]);
        expected = reference::schedule_step(
            expected,
            decay as f64,
            min_lr as f64,
            increment as f64,
            last as f64,
        );
        if steps % 5 == 0 {
            let found = OptimizerSettings::read(gpu(), &settings).unwrap();
            let what = format!("schedule after {steps} steps");
            assert_close(
                &what,
                &[found.lr, found.momentum],
                &[expected.0, expected.1],
                1e-4,
                0.0,
            );
        }
    }
    assert_eq!(
        expected,
        (min_lr as f64, last as f64),
        "the test reaches both limits"
    );
}

#[test]
fn schedule_from_count_matches_reference() {
    let mut rng = rng("schedule from count");
    let ramp = rng.random_range(10..100_000u64);
    let schedule = CountSchedule {
        lr: rng.random_range(0.01..1.0),
        decay: 1.0 + rng.random_range(1e-6..1e-2),
        min_lr: rng.random_range(1e-5..1e-4),
        momentum: rng.random_range(0.0..0.6),
        final_momentum: rng.random_range(0.6..0.99),
        ramp_updates: ramp,
    };
    // No decay: lr stays exactly lr0 (exp2 is not trusted to give exactly 1 at 0).
    let constant = CountSchedule {
        decay: 1.0,
        ..schedule
    };
    let counts = [
        0,
        1,
        rng.random_range(2..ramp),
        ramp - 1,
        ramp,
        ramp + 7,
        // Far past the floor: 2^(−t·log2 decay) underflows to 0, lr = min_lr.
        4_000_000_000,
    ];
    let settings = OptimizerSettings::sgd(9.0, 9.0).upload(gpu(), "s").unwrap();
    let counter = gpu().upload("updates", &[1], &[0u32]).unwrap();
    for (name, schedule) in [("decaying", schedule), ("constant", constant)] {
        let dispatch = schedule_from_count(gpu(), &settings, &counter, schedule).unwrap();
        for t in counts {
            gpu().write(&counter, &[t as u32]);
            run(&[&dispatch]);
            let found = OptimizerSettings::read(gpu(), &settings).unwrap();
            let (lr, momentum) = reference::schedule_from_count(schedule, t);
            // WGSL's exp2 is good to (3 + 2·|x|) ulps and |x| = t·log2(decay) < 17 before the
            // floor (lr ≤ 1, min_lr ≥ 1e-5): ≤ 37 ulps, 4.4e-6, plus 2e-6 from x's f32 rounding.
            let what = format!("{name} schedule at t = {t} ({schedule:?})");
            assert_close(
                &what,
                &[found.lr, found.momentum],
                &[lr, momentum],
                2e-5,
                0.0,
            );
            if t >= ramp {
                assert_eq!(found.momentum, schedule.final_momentum, "{what}");
            }
            if name == "constant" {
                assert_eq!(found.lr, schedule.lr, "{what}");
            }
        }
    }
    let found = OptimizerSettings::read(gpu(), &settings).unwrap();
    assert_eq!(
        (found.beta2, found.eps),
        (0.0, 0.0),
        "only lr and momentum change"
    );
    let bad = CountSchedule {
        decay: 0.5,
        ..schedule
    };
    assert!(schedule_from_count(gpu(), &settings, &counter, bad).is_err());
    let no_ramp = CountSchedule {
        ramp_updates: 0,
        ..schedule
    };
    assert!(schedule_from_count(gpu(), &settings, &counter, no_ramp).is_err());
}

#[test]
fn optim_rejects_bad_shapes() {
    let (params, grads, state) = (poisoned(65), poisoned(64), poisoned(65));
    let settings = OptimizerSettings::sgd(0.1, 0.9).upload(gpu(), "s").unwrap();
    let error = sgd_momentum(gpu(), &params, &grads, &state, &settings)
        .err()
        .expect("grads of 64 for params of 65");
    assert!(
        error
            .to_string()
            .contains("grads has 64 elements, expected 65"),
        "{error}"
    );
    let short_settings: Tensor = upload(&[0.1, 0.9]);
    let error = rmsprop(gpu(), &params, &state, &state.clone(), &short_settings).err();
    assert!(error.is_some(), "settings of 2 elements");
    let counter = gpu().upload("c", &[2], &[0u32, 0]).unwrap();
    let corrections = poisoned(2);
    let error = adam_count(gpu(), &counter, &settings, &corrections)
        .err()
        .expect("a counter of 2 elements");
    assert!(error.to_string().contains("step_counter"), "{error}");
    let m = poisoned(65);
    let v = poisoned(65);
    let error = adam(
        gpu(),
        &params,
        &state,
        &m,
        &v,
        &settings,
        &poisoned(3),
        None,
    )
    .err()
    .expect("corrections of 3 elements");
    assert!(
        error
            .to_string()
            .contains("corrections has 3 elements, expected 2"),
        "{error}"
    );
}
