//! Evaluation: the Fréchet distance against closed forms, Inception Score and the class KL on
//! hand-checkable distributions, the classifier's accuracy on real MNIST (where ../shared has
//! it), and `gan-gpu eval` end to end on a toy run and on a small MNIST-format folder (Parzen,
//! FID, IS, class KL, precision, recall, density and coverage, and the same scores logged by
//! `train --eval-every`), with its errors for a missing classifier, a missing data folder and
//! bad precision/recall sizes. (The k-NN manifold scores against f64: tests/kernels/manifold.rs.)

mod support;

use std::path::{Path, PathBuf};

use gan_gpu::data::{SplitMix64, load_mnist_folder};
use gan_gpu::eval::classifier::{ClassifierTraining, train_classifier};
use gan_gpu::eval::fid::{GaussianStats, frechet_distance, symmetric_sqrt};
use gan_gpu::eval::scores::{histogram_kl, inception_score, kl_divergence, softmax_rows};
use nalgebra::{DMatrix, DVector};
use support::{fails, fake_mnist, gpu, succeeds};

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("gan-gpu-eval-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

// ---- Fréchet distance ----

/// n points of N(mean, A·Aᵀ) in d = mean.len() dimensions (A lower-triangular, row-major).
fn gaussian_points(n: usize, mean: &[f64], a: &[f64], seed: u64) -> Vec<f32> {
    let d = mean.len();
    let mut rng = SplitMix64::new(seed);
    let mut out = Vec::with_capacity(n * d);
    for _ in 0..n {
        let z: Vec<f64> = (0..d).map(|_| rng.next_normal()).collect();
        for i in 0..d {
            let v: f64 = (0..d).map(|j| a[i * d + j] * z[j]).sum();
            out.push((mean[i] + v) as f32);
        }
    }
    out
}

/// For 2×2 positive definite Σ₁, Σ₂: tr((Σ₁^{1/2} Σ₂ Σ₁^{1/2})^{1/2}) = √(tr(Σ₁Σ₂) + 2√(det Σ₁ det Σ₂)),
/// since a 2×2 PSD matrix M has tr √M = √(tr M + 2√det M) and M = Σ₁^{1/2} Σ₂ Σ₁^{1/2} has the
/// trace of Σ₁Σ₂ and the determinant det Σ₁ · det Σ₂.
fn closed_form_2d(
    m1: &DVector<f64>,
    s1: &DMatrix<f64>,
    m2: &DVector<f64>,
    s2: &DMatrix<f64>,
) -> f64 {
    let cross = ((s1 * s2).trace() + 2.0 * (s1.determinant() * s2.determinant()).sqrt()).sqrt();
    (m1 - m2).norm_squared() + s1.trace() + s2.trace() - 2.0 * cross
}

#[test]
fn fid_of_a_set_with_itself_is_zero() {
    let points = gaussian_points(500, &[1.0, -2.0, 0.5, 3.0, 0.0], &lower(5, 7), 3);
    let stats = GaussianStats::from_features(&points, 5).unwrap();
    let fid = frechet_distance(&stats, &stats).unwrap();
    // The terms that cancel are of the size of tr Σ; f64 eigensolvers leave ~1e-15 of it.
    assert!(
        fid.abs() <= 1e-9 * stats.covariance.trace(),
        "FID(X, X) = {fid}"
    );
}

/// A lower-triangular d×d factor with a positive diagonal, from a seed.
fn lower(d: usize, seed: u64) -> Vec<f64> {
    let mut rng = SplitMix64::new(seed);
    let mut a = vec![0.0; d * d];
    for i in 0..d {
        for j in 0..=i {
            a[i * d + j] = if i == j {
                0.5 + rng.next_f64()
            } else {
                rng.next_f64() - 0.5
            };
        }
    }
    a
}

#[test]
fn fid_matches_the_closed_form_of_sample_moments() {
    // Two correlated, non-commuting 2-D Gaussians: their sample moments, put through the 2×2
    // closed form, against the eigendecomposition route.
    let a = gaussian_points(3000, &[0.0, 1.0], &[1.0, 0.0, 0.8, 0.6], 11);
    let b = gaussian_points(2000, &[0.5, -0.5], &[0.3, 0.0, -0.9, 1.4], 12);
    let (sa, sb) = (
        GaussianStats::from_features(&a, 2).unwrap(),
        GaussianStats::from_features(&b, 2).unwrap(),
    );
    let fid = frechet_distance(&sa, &sb).unwrap();
    let expected = closed_form_2d(&sa.mean, &sa.covariance, &sb.mean, &sb.covariance);
    assert!(
        (fid - expected).abs() <= 1e-10 * expected.abs().max(1.0),
        "{fid} vs {expected}"
    );

    // Covariances with the same eigenvectors commute: FID = ‖Δμ‖² + Σ(√λ₁ − √λ₂)².
    let rotation = DMatrix::from_row_slice(3, 3, &[0.6, -0.8, 0.0, 0.8, 0.6, 0.0, 0.0, 0.0, 1.0]);
    let (l1, l2) = ([4.0, 1.0, 0.25], [1.0, 9.0, 0.01]);
    let cov = |l: &[f64; 3]| {
        &rotation * DMatrix::from_diagonal(&DVector::from_row_slice(l)) * rotation.transpose()
    };
    let s1 = GaussianStats {
        count: 2,
        mean: DVector::from_row_slice(&[1.0, 2.0, 3.0]),
        covariance: cov(&l1),
    };
    let s2 = GaussianStats {
        count: 2,
        mean: DVector::from_row_slice(&[1.0, 0.0, 3.5]),
        covariance: cov(&l2),
    };
    let expected = 4.25
        + l1.iter()
            .zip(&l2)
            .map(|(a, b)| (a.sqrt() - b.sqrt()).powi(2))
            .sum::<f64>();
    let fid = frechet_distance(&s1, &s2).unwrap();
    assert!(
        (fid - expected).abs() <= 1e-10 * expected,
        "{fid} vs {expected}"
    );
    // The matrix square root squares back.
    let root = symmetric_sqrt(&s1.covariance);
    assert!((&root * &root - &s1.covariance).norm() <= 1e-12 * s1.covariance.norm());
}

#[test]
fn fid_of_samples_estimates_the_population_distance() {
    // Population N((0, 1), A Aᵀ) vs N((0.5, −0.5), B Bᵀ): closed form. The estimate from 20,000
    // points each has a bias of O(tr Σ / n) ≈ 2e-4 and a standard deviation of about
    // 2·√(Δμᵀ(Σ₁ + Σ₂)Δμ / n) ≈ 0.03; the tolerance 0.25 is 8 of those (fixed seeds).
    let (fa, fb) = ([1.0, 0.0, 0.8, 0.6], [0.3, 0.0, -0.9, 1.4]);
    let cov = |f: &[f64; 4]| {
        let m = DMatrix::from_row_slice(2, 2, f);
        &m * m.transpose()
    };
    let (ma, mb) = (
        DVector::from_row_slice(&[0.0, 1.0]),
        DVector::from_row_slice(&[0.5, -0.5]),
    );
    let population = closed_form_2d(&ma, &cov(&fa), &mb, &cov(&fb));
    let a = gaussian_points(20_000, &[0.0, 1.0], &fa, 21);
    let b = gaussian_points(20_000, &[0.5, -0.5], &fb, 22);
    let estimate = frechet_distance(
        &GaussianStats::from_features(&a, 2).unwrap(),
        &GaussianStats::from_features(&b, 2).unwrap(),
    )
    .unwrap();
    assert!(
        (estimate - population).abs() < 0.25,
        "{estimate} vs population {population}"
    );
    // And not the tolerance doing all the work: the distance is far from 0.
    assert!(population > 2.0, "{population}");
}

// ---- Inception Score and class histograms ----

#[test]
fn inception_score_and_class_kl_by_hand() {
    // Logits of ±1e4: softmax rows are exactly one-hot, spread over 5 classes → IS = 5.
    let mut logits = Vec::new();
    for i in 0..20 {
        for c in 0..5 {
            logits.push(if c == i % 5 { 1e4f32 } else { -1e4 });
        }
    }
    let is = inception_score(&softmax_rows(&logits, 5));
    assert!((is - 5.0).abs() < 1e-9, "{is}");
    // All rows (0.5, 0.5): p(y|x) = p(y), IS = 1.
    assert!((inception_score(&softmax_rows(&[0.3, 0.3, 7.0, 7.0], 2)) - 1.0).abs() < 1e-12);
    // Rows (0.9, 0.1) and (0.1, 0.9): IS = exp(0.9 ln 1.8 + 0.1 ln 0.2).
    let two = vec![vec![0.9, 0.1], vec![0.1, 0.9]];
    let expected = (0.9 * 1.8f64.ln() + 0.1 * 0.2f64.ln()).exp();
    assert!((inception_score(&two) - expected).abs() < 1e-12);

    // KL((½, ½) ‖ (¼, ¾)) = ½ ln 2 + ½ ln ⅔; the same histogram gives 0.
    let kl = kl_divergence(&[0.5, 0.5], &[0.25, 0.75]);
    assert!((kl - (0.5 * 2f64.ln() + 0.5 * (2.0f64 / 3.0).ln())).abs() < 1e-15);
    assert_eq!(histogram_kl(&[3, 4, 5], &[3, 4, 5]), 0.0);
    // A generator that drops class 1 entirely: smoothed (11, 11)/22 vs (21, 1)/22.
    let dropped = histogram_kl(&[10, 10], &[20, 0]);
    let expected = 0.5 * (11.0f64 / 21.0).ln() + 0.5 * 11.0f64.ln();
    assert!(
        (dropped - expected).abs() < 1e-12,
        "{dropped} vs {expected}"
    );
}

// ---- The classifier on real MNIST ----

fn shared_mnist() -> Option<PathBuf> {
    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/mnist");
    if folder.join("t10k-images-idx3-ubyte.gz").is_file() {
        Some(folder)
    } else {
        eprintln!(
            "skipped: {} is absent (real MNIST lives there in the project's workplace)",
            folder.display()
        );
        None
    }
}

#[test]
fn classifier_reaches_97_percent_on_t10k() {
    let Some(folder) = shared_mnist() else { return };
    let mnist = load_mnist_folder(&folder).unwrap();
    let test = mnist.test.as_ref().unwrap();
    let started = std::time::Instant::now();
    // The default recipe, measured only at the end (the per-epoch test pass costs a third).
    let training = ClassifierTraining {
        report_every: usize::MAX,
        ..ClassifierTraining::default()
    };
    let (classifier, reports) = train_classifier(
        gpu(),
        &mnist.train,
        test,
        &training,
        "shared MNIST",
        &mut |r| eprintln!("{r:?}"),
    )
    .unwrap();
    let accuracy = reports.last().unwrap().test_accuracy.unwrap();
    eprintln!(
        "classifier: {:.2} % on t10k after {:.0} s",
        100.0 * accuracy,
        started.elapsed().as_secs_f64()
    );
    assert!(accuracy >= 0.97, "test accuracy {accuracy}");
    // The saved file classifies exactly as the trained network does.
    let dir = scratch("classifier");
    let file = dir.join("classifier.safetensors");
    classifier.save(gpu(), &file, accuracy).unwrap();
    let loaded = gan_gpu::eval::classifier::Classifier::load(gpu(), &file).unwrap();
    let pixels = &test.images.pixels[..100 * 784];
    assert_eq!(
        loaded.classify_pixels(gpu(), pixels).unwrap().logits,
        classifier.classify_pixels(gpu(), pixels).unwrap().logits
    );
}

// ---- gan-gpu eval end to end ----

fn read_json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn eval_of_a_toy_run_writes_eval_json() {
    let dir = scratch("toy");
    let run = dir.join("run");
    let run_text = run.to_str().unwrap();
    succeeds(&[
        "train",
        "--steps",
        "2",
        "--log-every",
        "1",
        "--quiet",
        "--out",
        run_text,
    ]);
    let table = succeeds(&["eval", run_text]);
    assert!(table.contains("modes captured"), "{table}");
    let report = read_json(&run.join("eval.json"));
    let toy = &report["toy"];
    assert_eq!(toy["set"], "ring8");
    assert_eq!(toy["samples"], 2500);
    assert_eq!(toy["modes"], 8);
    let percent = toy["high_quality_percent"].as_f64().unwrap();
    assert!((0.0..=100.0).contains(&percent));
    let per_mode: u64 = toy["high_quality_per_mode"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert!(
        (per_mode as f64 / 25.0 - percent).abs() < 1e-9,
        "{per_mode} vs {percent}"
    );
    assert_eq!(report["step"], 2);
}

#[test]
fn eval_of_an_image_run_scores_parzen_fid_and_classes_and_explains_errors() {
    let dir = scratch("images");
    let data = dir.join("data");
    std::fs::create_dir_all(&data).unwrap();
    fake_mnist(&data, 300, 120);
    let (data_text, run) = (data.to_str().unwrap(), dir.join("run"));
    let run_text = run.to_str().unwrap();
    succeeds(&[
        "train",
        data_text,
        "--steps",
        "2",
        "--log-every",
        "1",
        "--quiet",
        "--out",
        run_text,
    ]);

    // Precision/recall sizes are checked before anything loads, naming the flag.
    let error = fails(&["eval", run_text, "--pr-k", "9"]);
    assert!(
        error.contains("--pr-k 9") && error.contains("1 to 8"),
        "{error}"
    );
    let error = fails(&["eval", run_text, "--pr-samples", "3"]);
    assert!(error.contains("--pr-samples 3"), "{error}");

    // No classifier yet: the error says what to run.
    let missing = dir.join("none.safetensors");
    let error = fails(&["eval", run_text, "--classifier", missing.to_str().unwrap()]);
    assert!(
        error.contains("none.safetensors") && error.contains("gan-gpu classifier train"),
        "{error}"
    );
    // A data folder that is not there is named, by eval and by classifier train.
    let error = fails(&[
        "eval",
        run_text,
        "--data",
        "/nonexistent/mnist",
        "--no-classifier",
    ]);
    assert!(error.contains("/nonexistent/mnist"), "{error}");
    let error = fails(&["classifier", "train", "/nonexistent/mnist"]);
    assert!(
        error.contains("/nonexistent/mnist") && error.contains("t10k-images-idx3-ubyte"),
        "{error}"
    );

    let classifier = dir.join("classifier.safetensors");
    let classifier_text = classifier.to_str().unwrap();
    succeeds(&[
        "classifier",
        "train",
        data_text,
        "--epochs",
        "2",
        "--hidden",
        "32,16",
        "--out",
        classifier_text,
    ]);
    let table = succeeds(&[
        "eval",
        run_text,
        "--classifier",
        classifier_text,
        "--samples",
        "200",
        "--parzen-test",
        "50",
        "--parzen-validation",
        "40",
    ]);
    assert!(table.contains("Parzen") && table.contains("FID"), "{table}");
    assert_eq!(
        table.matches("nearest training image").count(),
        1,
        "{table}"
    );
    // Precision, recall, density and coverage: a row each, generated then the real floor.
    for name in ["precision", "recall", "density", "coverage"] {
        let row = table
            .lines()
            .find(|l| l.trim_start().starts_with(name))
            .unwrap_or_else(|| panic!("no {name} row in\n{table}"));
        let values: Vec<f64> = row
            .split_whitespace()
            .skip(1)
            .map(|v| v.parse().unwrap())
            .collect();
        assert_eq!(values.len(), 2, "{row}");
    }
    assert!(table.contains("k-NN sets (k = 3)"), "{table}");
    let report = read_json(&run.join("eval.json"));
    // 60 per set: the smallest of --pr-samples 2000, --samples 200 and half the 120 test
    // images (the floor: the other half against the same first 60).
    for key in ["generated", "real_floor"] {
        let m = &report[key]["manifold"];
        assert_eq!(
            (&m["real"], &m["generated"], &m["k"]),
            (&60.into(), &60.into(), &3.into())
        );
        for score in ["precision", "recall", "coverage"] {
            let v = m[score].as_f64().unwrap();
            assert!((0.0..=1.0).contains(&v), "{key} {score}: {m}");
        }
        assert!(m["density"].as_f64().unwrap() >= 0.0, "{key}: {m}");
    }
    // Test images against test images lie on each other's manifold far more than two steps'
    // samples do.
    let (floor, generated) = (
        &report["real_floor"]["manifold"],
        &report["generated"]["manifold"],
    );
    eprintln!("manifold scores: generated {generated}, real floor {floor}");
    for score in ["precision", "density"] {
        assert!(
            floor[score].as_f64().unwrap() > generated[score].as_f64().unwrap(),
            "{score}: floor {floor}, generated {generated}"
        );
    }
    // The memorisation check: as many samples as were drawn (≤ 1000), every test image.
    let nearest = &report["nearest"];
    assert_eq!(nearest["samples"], 200);
    assert_eq!(nearest["test_images"], 120);
    assert_eq!(nearest["training_images"], 300);
    for key in ["generated_mean_distance", "test_mean_distance"] {
        let d = nearest[key].as_f64().unwrap();
        assert!(d > 0.0 && d < 28.0, "{key}: {d}");
    }
    let parzen = &report["parzen"];
    assert_eq!(parzen["samples"], 200);
    assert_eq!(parzen["test_points"], 50);
    assert_eq!(parzen["validation_points"], 40);
    assert_eq!(parzen["sigma_search"].as_array().unwrap().len(), 10);
    assert!(parzen["mean"].as_f64().unwrap().is_finite());
    // The run has no holdout: the fallback is announced.
    assert!(
        report["warnings"][0]
            .as_str()
            .unwrap()
            .contains("no held-out"),
        "{report}"
    );
    for key in ["generated", "real_floor"] {
        let scores = &report[key];
        assert!(scores["fid"].as_f64().unwrap() >= 0.0, "{key}: {scores}");
        let is = scores["inception_score"].as_f64().unwrap();
        assert!((1.0..=10.0 + 1e-9).contains(&is), "{key}: {scores}");
        let total: u64 = scores["class_histogram"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap())
            .sum();
        assert_eq!(total, scores["samples"].as_u64().unwrap(), "{key}");
    }
    assert_eq!(report["generated"]["samples"], 200);
    assert_eq!(report["real_floor"]["samples"], 60);
    assert_eq!(report["real_floor"]["reference"], 60);

    // A run that held out its last 50 training images (config.json "holdout", written by
    // train --holdout): σ is chosen on them, with no warning.
    let config_path = run.join("config.json");
    let mut config = read_json(&config_path);
    config["holdout"] = serde_json::json!(50);
    std::fs::write(&config_path, config.to_string()).unwrap();
    let quick = [
        "eval",
        run_text,
        "--no-classifier",
        "--samples",
        "100",
        "--parzen-test",
        "20",
        "--parzen-validation",
        "40",
    ];
    succeeds(&quick);
    let report = read_json(&run.join("eval.json"));
    assert_eq!(report["parzen"]["validation_points"], 40);
    assert_eq!(report["warnings"].as_array().unwrap().len(), 0, "{report}");
    assert!(report["parzen_real"].is_null(), "only with --parzen-real");
    // --parzen-real: real training images as the window score far above a generator trained
    // for two steps, against the same test and held-out images.
    let mut with_real = quick.to_vec();
    with_real.push("--parzen-real");
    let table = succeeds(&with_real);
    assert!(table.contains("Parzen, real images"), "{table}");
    let report = read_json(&run.join("eval.json"));
    let real = &report["parzen_real"];
    assert_eq!(real["samples"], 100);
    assert_eq!(real["test_points"], 20);
    let (real_ll, generated_ll) = (
        real["mean"].as_f64().unwrap(),
        report["parzen"]["mean"].as_f64().unwrap(),
    );
    assert!(
        real_ll > generated_ll + 50.0,
        "real {real_ll} vs generated {generated_ll}"
    );
    assert!(
        report["generated"].is_null(),
        "--no-classifier computes no FID"
    );
    // Fewer held out than asked for: those few, and a warning.
    config["holdout"] = serde_json::json!(25);
    std::fs::write(&config_path, config.to_string()).unwrap();
    succeeds(&quick);
    let report = read_json(&run.join("eval.json"));
    assert_eq!(report["parzen"]["validation_points"], 25);
    assert!(
        report["warnings"][0].as_str().unwrap().contains("only 25"),
        "{report}"
    );

    // The run's data folder gone: eval says to pass --data.
    std::fs::remove_dir_all(&data).unwrap();
    let error = fails(&["eval", run_text, "--no-classifier"]);
    assert!(
        error.contains("--data") && error.contains(data_text),
        "{error}"
    );
}

fn as_strs(args: &[String]) -> Vec<&str> {
    args.iter().map(String::as_str).collect()
}

/// The columns of metrics.csv by name: (header, rows of values).
fn metrics_csv(run: &Path) -> (Vec<String>, Vec<Vec<f64>>) {
    let text = std::fs::read_to_string(run.join("metrics.csv")).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap().split(',').map(String::from).collect();
    let rows = lines
        .map(|line| line.split(',').map(|v| v.parse().unwrap()).collect())
        .collect();
    (header, rows)
}

#[test]
fn train_eval_every_logs_the_scores_that_eval_computes() {
    let dir = scratch("eval-every");
    let data = dir.join("data");
    std::fs::create_dir_all(&data).unwrap();
    fake_mnist(&data, 200, 60);
    let data_text = data.to_str().unwrap();
    let classifier = dir.join("classifier.safetensors");
    let classifier_text = classifier.to_str().unwrap();
    let run = dir.join("run");
    let run_text = run.to_str().unwrap();
    let sizes = [
        "--eval-samples",
        "100",
        "--eval-parzen-test",
        "30",
        "--eval-parzen-validation",
        "20",
    ];
    let train = |extra: &[&str]| {
        let mut args = vec![
            "train",
            data_text,
            "--steps",
            "7",
            "--log-every",
            "2",
            "--holdout",
            "20",
            "--eval-every",
            "3",
            "--quiet",
            "--out",
            run_text,
        ];
        args.extend_from_slice(&sizes);
        args.extend_from_slice(extra);
        args.into_iter().map(String::from).collect::<Vec<_>>()
    };

    // No classifier: refused before anything is trained or written.
    let error = fails(&as_strs(&train(&["--eval-classifier", classifier_text])));
    assert!(
        error.contains("classifier.safetensors") && error.contains("gan-gpu classifier train"),
        "{error}"
    );
    assert!(!run.exists(), "a refused run leaves no folder");
    // Toy sets log their mode coverage already.
    let error = fails(&["train", "ring8", "--eval-every", "5", "--quiet"]);
    assert!(
        error.contains("--eval-every 5") && error.contains("toy"),
        "{error}"
    );

    succeeds(&[
        "classifier",
        "train",
        data_text,
        "--epochs",
        "1",
        "--hidden",
        "32,16",
        "--out",
        classifier_text,
    ]);
    succeeds(&as_strs(&train(&["--eval-classifier", classifier_text])));

    // Rows at steps 2, 3 (eval), 4, 6 (eval), 7 (eval: the last step): scores at 3, 6 and 7
    // only, NaN between.
    let (header, rows) = metrics_csv(&run);
    let column = |name: &str| {
        header
            .iter()
            .position(|c| c == name)
            .unwrap_or_else(|| panic!("no {name} in {header:?}"))
    };
    let steps: Vec<f64> = rows.iter().map(|r| r[0]).collect();
    assert_eq!(steps, [2.0, 3.0, 4.0, 6.0, 7.0]);
    for name in [
        "parzen_ll",
        "parzen_se",
        "fid",
        "inception_score",
        "class_kl",
        "precision",
        "recall",
        "density",
        "coverage",
    ] {
        let values: Vec<f64> = rows.iter().map(|r| r[column(name)]).collect();
        for (row, value) in values.iter().enumerate() {
            let eval_step = [3.0, 6.0, 7.0].contains(&steps[row]);
            assert_eq!(
                value.is_finite(),
                eval_step,
                "{name} at step {}",
                steps[row]
            );
        }
    }
    assert!(run.join("eval_curves.png").is_file(), "the scores' curves");
    // The last evaluation is the run's eval.json.
    let report = read_json(&run.join("eval.json"));
    assert_eq!(report["step"], 7);
    assert_eq!(report["parzen"]["validation_points"], 20);
    let last = rows.last().unwrap();
    assert_eq!(
        report["parzen"]["mean"].as_f64().unwrap(),
        last[column("parzen_ll")]
    );
    assert_eq!(
        report["generated"]["fid"].as_f64().unwrap(),
        last[column("fid")]
    );

    // And `gan-gpu eval` of the saved generator with the same sizes computes the same scores.
    succeeds(&[
        "eval",
        run_text,
        "--classifier",
        classifier_text,
        "--samples",
        "100",
        "--parzen-test",
        "30",
        "--parzen-validation",
        "20",
    ]);
    let again = read_json(&run.join("eval.json"));
    let close = |a: f64, b: f64| (a - b).abs() <= 1e-6 * a.abs().max(1.0);
    for (key, column_name) in [
        (&again["parzen"]["mean"], "parzen_ll"),
        (&again["generated"]["fid"], "fid"),
        (&again["generated"]["inception_score"], "inception_score"),
        (&again["generated"]["manifold"]["precision"], "precision"),
        (&again["generated"]["manifold"]["density"], "density"),
        (&again["generated"]["manifold"]["coverage"], "coverage"),
    ] {
        let value = key.as_f64().unwrap();
        assert!(
            close(value, last[column(column_name)]),
            "{column_name}: eval {value}, during training {}",
            last[column(column_name)]
        );
    }

    // A resumed run keeps evaluating into the same columns (the schedule is in config.json).
    succeeds(&["train", "--resume", run_text, "--steps", "9", "--quiet"]);
    let (resumed_header, resumed_rows) = metrics_csv(&run);
    assert_eq!(resumed_header, header);
    let tail: Vec<(f64, bool)> = resumed_rows[rows.len()..]
        .iter()
        .map(|r| (r[0], r[column("fid")].is_finite()))
        .collect();
    assert_eq!(tail, [(8.0, false), (9.0, true)]);
}
