//! `gan-gpu bench --tune`: the choices it saves per adapter, and that `info`, training and the
//! matmul itself use them; a damaged or foreign cache is ignored with a clear word.

mod support;

use std::path::{Path, PathBuf};

use gan_gpu::gpu::{AdapterChoice, GpuContext};
use gan_gpu::kernels::matmul::{Layout, MatmulKernel, MatmulOptions, matmul};
use gan_gpu::kernels::matmul_tuning::{
    KernelChoice, ShapeClass, SizeClass, TunedMatmul, auto_choice,
};
use support::gan_gpu_with_cache;

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("gan-gpu-tuning-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn succeeds_with_cache(args: &[&str], cache: &Path) -> (String, String) {
    let (ok, stdout, stderr) = gan_gpu_with_cache(args, cache);
    assert!(ok, "gan-gpu {args:?} failed:\n{stderr}");
    (stdout, stderr)
}

/// A two-step ring8 run with the cache in `cache`; its stderr (the kernels line, warnings).
fn two_step_run(cache: &Path) -> String {
    let run = cache.join("run");
    let _ = std::fs::remove_dir_all(&run);
    let args = [
        "train",
        "--steps",
        "2",
        "--quiet",
        "--out",
        run.to_str().unwrap(),
    ];
    succeeds_with_cache(&args, cache).1
}

fn read_json(file: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap()
}

fn chosen_adapter_name(cache: &Path) -> String {
    let (info, _) = succeeds_with_cache(&["info"], cache);
    let line = info
        .lines()
        .find_map(|line| line.strip_prefix("Chosen: "))
        .expect("info names the chosen adapter");
    // "0: llvmpipe (LLVM 15.0.6, 256 bits) — why"
    let name = line.split_once(": ").unwrap().1;
    name.split(" — ").next().unwrap().to_string()
}

#[test]
fn tune_saves_choices_that_info_and_training_use() {
    let cache = scratch("saved");
    let (stdout, _) = succeeds_with_cache(
        &["bench", "--tune", "--batch", "8", "--seconds", "0.01"],
        &cache,
    );
    assert!(stdout.contains("saved to"), "{stdout}");

    let file = cache.join("matmul-tuning.json");
    let json = read_json(&file);
    let adapters = json["adapters"].as_array().unwrap();
    assert_eq!(adapters.len(), 1, "{json}");
    assert_eq!(
        adapters[0]["adapter"]["name"].as_str().unwrap(),
        chosen_adapter_name(&cache)
    );
    let choices = adapters[0]["choices"].as_array().unwrap();
    // At batch 8 the reference MLP's X·W and dY·Wᵀ have 8 rows, Xᵀ·dY small and medium shapes.
    assert!(choices.len() >= 4, "{json}");
    assert!(
        choices.iter().any(|c| c["size"] == "few-rows")
            && choices.iter().any(|c| c["size"] == "small"),
        "{json}"
    );
    let known = [
        "tiled",
        "subgroup8",
        "texture",
        "tiled-texture",
        "texture-rows32",
        "texture-rows48",
    ];
    for choice in choices {
        let kernel = choice["kernel"].as_str().unwrap();
        assert!(known.contains(&kernel), "unknown kernel {kernel}");
        // The winner is at least as fast as the built-in choice it was measured against.
        assert!(
            choice["gflops"].as_f64().unwrap() >= choice["builtin_gflops"].as_f64().unwrap(),
            "{choice}"
        );
    }

    let (info, _) = succeeds_with_cache(&["info"], &cache);
    assert!(
        info.contains("Matmul kernels: tuned on this adapter")
            && info.contains(file.to_str().unwrap()),
        "{info}"
    );

    // Tuning again replaces this adapter's entry rather than adding a second one.
    succeeds_with_cache(
        &[
            "bench",
            "--tune",
            "--batch",
            "8",
            "--seconds",
            "0.01",
            "--kernel",
            "tiled",
        ],
        &cache,
    );
    let json = read_json(&file);
    let adapters = json["adapters"].as_array().unwrap();
    assert_eq!(adapters.len(), 1, "{json}");
    for choice in adapters[0]["choices"].as_array().unwrap() {
        assert_eq!(choice["kernel"], "tiled", "--kernel tiled tunes tiled only");
    }

    let stderr = two_step_run(&cache);
    assert!(
        stderr.contains("matmul kernels: tuned on this adapter"),
        "{stderr}"
    );
}

#[test]
fn damaged_or_foreign_cache_is_ignored_with_a_warning() {
    let cache = scratch("damaged");
    let file = cache.join("matmul-tuning.json");
    std::fs::write(&file, "{\"format\": 1, \"adapters\": [").unwrap();
    let stderr = two_step_run(&cache);
    assert!(
        stderr.contains("warning: ignoring the matmul tuning cache")
            && stderr.contains(file.to_str().unwrap())
            && stderr.contains("matmul kernels: built-in default"),
        "{stderr}"
    );

    // Another adapter's (or driver's, or version's) entry is not this one's.
    let foreign = r#"{"format": 1, "adapters": [{"adapter": {"name": "Some Other GPU",
        "backend": "Vulkan", "vendor": 1, "device": 2, "driver": "x", "driver_info": "y",
        "gan_gpu_version": "0.0.0"}, "tuned_at": "20260101-000000", "choices": [{"layout": "xw",
        "size": "small", "kernel": "tiled", "workgroup_x": 16, "workgroup_y": 16,
        "gflops": 1.0, "builtin_gflops": 1.0}]}]}"#;
    std::fs::write(&file, foreign).unwrap();
    let (info, stderr) = succeeds_with_cache(&["info"], &cache);
    assert!(
        info.contains("Matmul kernels: built-in default") && !stderr.contains("warning: ignoring"),
        "{info}\n{stderr}"
    );
}

#[test]
fn tune_goes_with_bench_matmul_only() {
    let cache = scratch("refused");
    let (ok, _, stderr) = gan_gpu_with_cache(&["bench", "train", "--tune"], &cache);
    assert!(
        !ok && stderr.contains("--tune") && stderr.contains("bench train"),
        "{stderr}"
    );
    assert!(!cache.join("matmul-tuning.json").exists());
}

/// A tuned choice decides what `MatmulKernel::Auto` runs for its class, and the result still
/// matches the f64 reference; a class without a choice keeps the built-in rule.
#[test]
fn tuned_choice_drives_auto_matmul() {
    let mut ctx = GpuContext::new(&AdapterChoice::from_flag_or_env(None)).unwrap();
    let small = ShapeClass {
        layout: Layout::XW,
        size: SizeClass::Small,
    };
    let tuned = KernelChoice {
        kernel: MatmulKernel::Tiled,
        workgroup_x: 16,
        workgroup_y: 4,
    };
    ctx.set_tuned_matmul(Some(TunedMatmul {
        choices: [(small, tuned)].into_iter().collect(),
        source: "test".into(),
    }));
    let (m, n, k) = (37, 29, 53);
    assert_eq!(SizeClass::of(m, n, k), SizeClass::Small);
    assert_eq!(
        auto_choice(&ctx, Layout::XW, (m, n, k), (m * k, k * n), (8, 8)),
        tuned
    );
    let untuned = auto_choice(&ctx, Layout::DyWt, (m, n, k), (m * k, k * n), (8, 8));
    let builtin = KernelChoice::new(MatmulKernel::Auto.resolve(&ctx), (8, 8)).for_rows(m);
    assert_eq!(untuned.kernel, builtin.kernel);

    let a: Vec<f32> = (0..m * k)
        .map(|i| ((i * 7 % 13) as f32 - 6.0) / 6.0)
        .collect();
    let b: Vec<f32> = (0..k * n)
        .map(|i| ((i * 5 % 11) as f32 - 5.0) / 5.0)
        .collect();
    let a_gpu = ctx.upload("a", &[m * k], &a).unwrap();
    let b_gpu = ctx.upload("b", &[k * n], &b).unwrap();
    let c_gpu = ctx.zeros("c", &[m * n]).unwrap();
    let dispatch = matmul(
        &ctx,
        Layout::XW,
        &a_gpu,
        &b_gpu,
        &c_gpu,
        (m, n, k),
        MatmulOptions::default(),
    )
    .unwrap();
    let mut recorder = gan_gpu::gpu::Recorder::new(&ctx);
    recorder.record(&dispatch);
    recorder.submit().unwrap();
    let c = ctx.read_f32(&c_gpu).unwrap();
    for i in 0..m {
        for j in 0..n {
            let expected: f64 = (0..k)
                .map(|t| a[i * k + t] as f64 * b[t * n + j] as f64)
                .sum();
            let got = c[i * n + j] as f64;
            assert!(
                (got - expected).abs() <= 1e-4 * expected.abs().max(1.0),
                "C[{i},{j}] = {got}, expected {expected}"
            );
        }
    }
}

/// A candidate that cannot compile (here a workgroup wider than any adapter allows) is an error when its
/// dispatch is submitted — pipelines compile on worker threads — never a panic, and the
/// context stays usable (`bench --tune` skips such a candidate and goes on).
#[test]
fn a_pipeline_that_fails_to_compile_is_an_error_at_submission() {
    let ctx = GpuContext::new(&AdapterChoice::from_flag_or_env(None)).unwrap();
    let (m, n, k) = (5, 6, 7);
    let a = ctx.upload("a", &[m * k], &vec![1.0f32; m * k]).unwrap();
    let b = ctx.upload("b", &[k * n], &vec![1.0f32; k * n]).unwrap();
    let c = ctx.zeros("c", &[m * n]).unwrap();
    let bad = MatmulOptions {
        tuning: gan_gpu::kernels::matmul::MatmulTuning {
            workgroup_x: 1 << 16,
            workgroup_y: 8,
            kernel: MatmulKernel::Tiled,
        },
        ..Default::default()
    };
    let outcome = matmul(&ctx, Layout::XW, &a, &b, &c, (m, n, k), bad).and_then(|dispatch| {
        let mut recorder = gan_gpu::gpu::Recorder::new(&ctx);
        recorder.record(&dispatch);
        recorder.submit()?;
        ctx.wait_idle()
    });
    let error = outcome.expect_err("a workgroup of 65,536 × 8 invocations cannot compile");
    assert!(error.to_string().contains("matmul"), "{error}");
    // A workgroup of no invocations is refused when the dispatch is built.
    let empty = MatmulOptions {
        tuning: gan_gpu::kernels::matmul::MatmulTuning {
            workgroup_x: 0,
            workgroup_y: 8,
            kernel: MatmulKernel::Tiled,
        },
        ..Default::default()
    };
    let error = matmul(&ctx, Layout::XW, &a, &b, &c, (m, n, k), empty)
        .err()
        .unwrap();
    assert!(error.to_string().contains("0×8"), "{error}");

    let good = matmul(
        &ctx,
        Layout::XW,
        &a,
        &b,
        &c,
        (m, n, k),
        MatmulOptions::default(),
    )
    .unwrap();
    let mut recorder = gan_gpu::gpu::Recorder::new(&ctx);
    recorder.record(&good);
    recorder.submit().unwrap();
    assert_eq!(ctx.read_f32(&c).unwrap(), vec![k as f32; m * n]);
}
