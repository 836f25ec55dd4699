//! Conditional GANs: labels travel with their images on the GPU, every run kind trains with
//! `--conditional`, the class grid has one row per class, `sample --class` draws one class, and
//! `eval` reports the classifier's accuracy on each class's samples; the errors of runs without
//! labels.

mod support;

use std::path::PathBuf;

use gan_gpu::gan::real_data::{HostData, RealData, SampleShape};
use gan_gpu::gpu::Recorder;
use gan_gpu::kernels::data::PixelRange;
use support::{fails, fake_mnist, gpu, succeeds};

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("gan-gpu-cond-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Image i is filled with 20·label_i: after each drawn batch, every row's pixels must say the
/// label gathered beside it.
#[test]
fn labels_travel_with_their_images() {
    let ctx = gpu();
    let (count, side, batch) = (37, 3, 13);
    let mut rng = gan_gpu::data::SplitMix64::new(7);
    let labels: Vec<u8> = (0..count).map(|_| rng.below(10) as u8).collect();
    let pixels: Vec<u8> = labels
        .iter()
        .flat_map(|&l| std::iter::repeat_n(20 * l, side * side))
        .collect();
    let host = HostData {
        shape: SampleShape::Image {
            height: side,
            width: side,
            channels: 1,
        },
        pixels,
        count,
        description: "labelled".into(),
        labels,
        classes: 10,
    };
    let real = RealData::upload_conditional(ctx, host, batch, Some(10)).unwrap();
    let draw = real.draw_batch(ctx, 3, 2, PixelRange::ZeroToOne).unwrap();
    for round in 0..4 {
        let mut recorder = Recorder::new(ctx);
        recorder.record_all(&draw);
        recorder.submit().unwrap();
        let images = ctx.read_f32(&real.batch).unwrap();
        let batch_labels: Vec<u32> = ctx.read_u32(real.batch_labels().unwrap()).unwrap();
        for (b, (row, &label)) in images.chunks(side * side).zip(&batch_labels).enumerate() {
            let expected = 20.0 * label as f32 / 255.0;
            assert!(
                row.iter().all(|&v| (v - expected).abs() < 1e-6),
                "round {round} row {b}: label {label} but pixels {row:?}"
            );
        }
    }
}

#[test]
fn labelless_data_refuses_conditional_training() {
    let dir = scratch("labelless");
    let error = fails(&["train", "ring8", "--conditional", "--steps", "1"]);
    assert!(
        error.contains("--conditional") && error.contains("ring8"),
        "{error}"
    );
    // A flat image folder has no classes; sub-folders would give them.
    let flat = dir.join("flat");
    std::fs::create_dir_all(&flat).unwrap();
    for i in 0..3 {
        image::GrayImage::new(4, 4)
            .save(flat.join(format!("{i}.png")))
            .unwrap();
    }
    let error = fails(&["train", flat.to_str().unwrap(), "--conditional"]);
    assert!(
        error.contains("--conditional") && error.contains("sub-folder"),
        "{error}"
    );
}

/// Class sub-folders give labels in name order (torchvision's ImageFolder).
#[test]
fn image_folder_class_subfolders_are_labels() {
    let dir = scratch("folders");
    for (class, shade) in [("cat", 10u8), ("ant", 200), ("bee", 90)] {
        let sub = dir.join(class);
        std::fs::create_dir_all(&sub).unwrap();
        for i in 0..2 {
            image::GrayImage::from_pixel(4, 4, image::Luma([shade]))
                .save(sub.join(format!("{i}.png")))
                .unwrap();
        }
    }
    let folder = gan_gpu::data::load_image_folder(&dir).unwrap();
    assert_eq!(folder.class_names, ["ant", "bee", "cat"]);
    assert_eq!(folder.labels, [0, 0, 1, 1, 2, 2]);
    let shades: Vec<u8> = (0..6).map(|i| folder.image(i).unwrap()[0]).collect();
    assert_eq!(shades, [200, 200, 90, 90, 10, 10]);
}

/// An MNIST folder stays one when run folders (with PNGs) are written inside it.
#[test]
fn mnist_folders_with_image_subfolders_are_still_mnist() {
    let dir = scratch("mnist-with-runs");
    fake_mnist(&dir, 20, 10);
    let run = dir.join("run").join("samples");
    std::fs::create_dir_all(&run).unwrap();
    image::RgbImage::new(80, 40)
        .save(run.join("step_000000000.png"))
        .unwrap();
    image::RgbImage::new(80, 40)
        .save(dir.join("run").join("loss_curves.png"))
        .unwrap();
    let source = gan_gpu::gan::DataSource::Folder(dir.to_str().unwrap().into());
    let host = HostData::load(&source).unwrap();
    assert_eq!(host.shape.network_shape(), [1, 28, 28]);
    assert_eq!((host.count, host.classes), (20, 10));
}

#[test]
fn conditional_runs_sample_by_class_and_evaluate_per_class() {
    let dir = scratch("run");
    let data = dir.join("data");
    std::fs::create_dir_all(&data).unwrap();
    fake_mnist(&data, 200, 100);
    let data_text = data.to_str().unwrap();
    let run = dir.join("mlp");
    let run_text = run.to_str().unwrap();
    let tiny = ["--g-hidden", "16", "--d-hidden", "16", "--batch-size", "20"];
    let mut train = vec![
        "train",
        data_text,
        "--conditional",
        "--steps",
        "3",
        "--log-every",
        "1",
        "--quiet",
        "--out",
        run_text,
    ];
    train.extend(tiny);
    succeeds(&train);
    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("config.json")).unwrap()).unwrap();
    assert_eq!(config["classes"], 10);
    // The class grid: 10 rows (one per class) of 10 samples, 28-pixel tiles and 2-pixel gaps.
    let grid = image::open(run.join("samples/step_000000003.png")).unwrap();
    assert_eq!((grid.width(), grid.height()), (10 * 30 + 2, 10 * 30 + 2));

    // The same noise with two classes: the label reaches G.
    let z: Vec<f32> = (0..2 * 100).map(|i| ((i % 7) as f32 - 3.0) / 3.0).collect();
    let z_path = dir.join("z.npy");
    gan_gpu::report::npy::write_npy_f32(&z_path, &z, 2, 100).unwrap();
    let mut outputs = Vec::new();
    for class in ["0", "1"] {
        let out = dir.join(format!("class{class}.npy"));
        succeeds(&[
            "sample",
            run_text,
            "--noise",
            z_path.to_str().unwrap(),
            "--class",
            class,
            "--format",
            "npy",
            "-o",
            out.to_str().unwrap(),
        ]);
        outputs.push(gan_gpu::report::npy::read_npy_2d(&out).unwrap().0);
    }
    assert_ne!(
        outputs[0], outputs[1],
        "classes 0 and 1 gave the same samples"
    );
    let error = fails(&["sample", run_text, "--class", "10"]);
    assert!(
        error.contains("--class 10") && error.contains("0 to 9"),
        "{error}"
    );

    // eval adds the classifier's accuracy on each class's samples.
    let classifier = dir.join("classifier.safetensors");
    let classifier_text = classifier.to_str().unwrap();
    succeeds(&[
        "classifier",
        "train",
        data_text,
        "--epochs",
        "1",
        "--hidden",
        "16",
        "--out",
        classifier_text,
    ]);
    let table = succeeds(&[
        "eval",
        run_text,
        "--classifier",
        classifier_text,
        "--samples",
        "100",
        "--parzen-test",
        "0",
    ]);
    assert!(table.contains("class accuracy"), "{table}");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("eval.json")).unwrap()).unwrap();
    let accuracy = &report["class_accuracy"];
    assert_eq!(accuracy["samples_per_class"], 10);
    let per_class: Vec<f64> = accuracy["per_class"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    assert_eq!(per_class.len(), 10);
    assert!(per_class.iter().all(|a| (0.0..=1.0).contains(a)));
    let mean = per_class.iter().sum::<f64>() / 10.0;
    assert!((accuracy["mean"].as_f64().unwrap() - mean).abs() < 1e-12);

    // dcgan with label channels, and wgan-gp-conv (the penalty on the image part): both train.
    for preset in ["dcgan", "wgan-gp-conv"] {
        let out = dir.join(preset);
        succeeds(&[
            "train",
            data_text,
            "--conditional",
            "--preset",
            preset,
            "--width",
            "2",
            "--batch-size",
            "8",
            "--k",
            "1",
            "--steps",
            "2",
            "--log-every",
            "1",
            "--quiet",
            "--out",
            out.to_str().unwrap(),
        ]);
        let metrics = std::fs::read_to_string(out.join("metrics.csv")).unwrap();
        let last = metrics.lines().last().unwrap();
        assert!(
            last.split(',')
                .all(|v| v.parse::<f64>().is_ok_and(f64::is_finite)),
            "{preset}: {last}"
        );
    }
}
