//! The paper's figures as commands: Figure 1 on the 1-D toy sets (densities, D and D*, the
//! d_star_gap column), Figure 2's nearest training examples (`sample --nearest`), and
//! Figure 3's interpolations (`interpolate`, whose endpoints are the endpoint noise's samples).

mod support;

use std::path::PathBuf;

use gan_gpu::gan::Noise;
use gan_gpu::report::curves::{CURVES_WIDTH, PANEL_HEIGHT};
use gan_gpu::report::npy::{read_npy_2d, write_npy_f32};
use support::{fails, fake_mnist, succeeds};

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("gan-gpu-fig-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn one_dimensional_toys_draw_figure_1_and_log_d_star_gap() {
    let dir = scratch("gauss1d");
    for set in ["gauss1d", "mix1d"] {
        let run = dir.join(set);
        let run_text = run.to_str().unwrap();
        succeeds(&[
            "train",
            set,
            "--steps",
            "4",
            "--log-every",
            "2",
            "--sample-every",
            "2",
            "--quiet",
            "--out",
            run_text,
        ]);
        let config: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(run.join("config.json")).unwrap())
                .unwrap();
        assert_eq!(
            config["noise"], "uniform",
            "{set}: Figure 1 draws z uniformly"
        );
        assert_eq!(config["noise_dim"], 1);
        let metrics = std::fs::read_to_string(run.join("metrics.csv")).unwrap();
        let header: Vec<&str> = metrics.lines().next().unwrap().split(',').collect();
        let column = header.iter().position(|&c| c == "d_star_gap").unwrap();
        for line in metrics.lines().skip(1) {
            let gap: f64 = line.split(',').nth(column).unwrap().parse().unwrap();
            assert!((0.0..=1.0).contains(&gap), "{set}: {line}");
        }
        for step in [0, 2, 4] {
            let panel = run.join(format!("samples/step_{step:09}.png"));
            let image = image::open(&panel).unwrap();
            // One chart panel.
            assert_eq!(
                (image.width(), image.height()),
                (CURVES_WIDTH, PANEL_HEIGHT),
                "{set} {step}"
            );
        }
        // `sample` draws the densities; `eval` says where the figure is instead.
        let out = dir.join(format!("{set}.png"));
        succeeds(&["sample", run_text, "-o", out.to_str().unwrap()]);
        let error = fails(&["eval", run_text]);
        assert!(
            error.contains(set) && error.contains("d_star_gap"),
            "{error}"
        );
    }
    // A Wasserstein critic is no probability: no D*, so no column.
    let run = dir.join("wgan");
    succeeds(&[
        "train",
        "gauss1d",
        "--loss",
        "wgan-gp",
        "--steps",
        "2",
        "--quiet",
        "--out",
        run.to_str().unwrap(),
    ]);
    let metrics = std::fs::read_to_string(run.join("metrics.csv")).unwrap();
    assert!(!metrics.contains("d_star_gap"), "{metrics}");
}

#[test]
fn interpolation_endpoints_are_the_endpoint_samples_and_nearest_pairs_samples() {
    let dir = scratch("interp");
    let data = dir.join("data");
    std::fs::create_dir_all(&data).unwrap();
    fake_mnist(&data, 60, 20);
    let run = dir.join("run");
    let run_text = run.to_str().unwrap();
    succeeds(&[
        "train",
        data.to_str().unwrap(),
        "--g-hidden",
        "16",
        "--d-hidden",
        "16",
        "--steps",
        "2",
        "--quiet",
        "--out",
        run_text,
    ]);
    let (rows, steps, seed) = (3, 5, 9u64);
    for slerp in [false, true] {
        let out = dir.join(format!("path-{slerp}.npy"));
        let mut args = vec![
            "interpolate",
            run_text,
            "--rows",
            "3",
            "--steps",
            "5",
            "--seed",
            "9",
            "--format",
            "npy",
            "-o",
            out.to_str().unwrap(),
        ];
        if slerp {
            args.push("--slerp");
        }
        succeeds(&args);
        let (path, n, features) = read_npy_2d(&out).unwrap();
        assert_eq!((n, features), (rows * steps, 784));
        // The endpoint noise, as interpolate draws it: pairs (a, b) a row.
        let endpoints = Noise::Normal.host(2 * rows, 100, seed);
        let z = dir.join("endpoints.npy");
        write_npy_f32(&z, &endpoints, 2 * rows, 100).unwrap();
        let samples_out = dir.join("endpoint-samples.npy");
        succeeds(&[
            "sample",
            run_text,
            "--noise",
            z.to_str().unwrap(),
            "--format",
            "npy",
            "-o",
            samples_out.to_str().unwrap(),
        ]);
        let (ends, _, _) = read_npy_2d(&samples_out).unwrap();
        for r in 0..rows {
            let row = &path[r * steps * 784..(r + 1) * steps * 784];
            assert_eq!(
                &row[..784],
                &ends[2 * r * 784..(2 * r + 1) * 784],
                "row {r} start"
            );
            assert_eq!(
                &row[(steps - 1) * 784..],
                &ends[(2 * r + 1) * 784..(2 * r + 2) * 784],
                "row {r} end"
            );
        }
    }
    // The PNG: rows × steps tiles of 28 pixels with 2-pixel gaps.
    let png = dir.join("path.png");
    succeeds(&["interpolate", run_text, "-o", png.to_str().unwrap()]);
    let image = image::open(&png).unwrap();
    assert_eq!((image.width(), image.height()), (10 * 30 + 2, 8 * 30 + 2));
    let error = fails(&["interpolate", run_text, "--class", "1"]);
    assert!(error.contains("not conditional"), "{error}");

    // --nearest: each sample then its nearest training image, which is one of the data's.
    let pairs = dir.join("pairs.npy");
    succeeds(&[
        "sample",
        run_text,
        "-n",
        "4",
        "--nearest",
        "--format",
        "npy",
        "-o",
        pairs.to_str().unwrap(),
    ]);
    let (values, n, _) = read_npy_2d(&pairs).unwrap();
    assert_eq!(n, 8);
    let training = gan_gpu::data::read_idx_images(data.join("train-images-idx3-ubyte")).unwrap();
    for p in 0..4 {
        let nearest = &values[(2 * p + 1) * 784..(2 * p + 2) * 784];
        let found = (0..training.count).any(|i| {
            training
                .image(i)
                .unwrap()
                .iter()
                .zip(nearest)
                .all(|(&byte, &v)| (byte as f32 / 127.5 - 1.0 - v).abs() < 1e-6)
        });
        assert!(found, "pair {p}: the neighbour is no training image");
    }
}
