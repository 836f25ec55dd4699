//! The convolutional presets through the real binary: dcgan trains on 28×28 images and writes
//! grids, metrics, checkpoints and a generator in PyTorch's `nn.Sequential` layout (batch-norm
//! running statistics and num_batches_tracked included); a stopped and resumed dcgan run
//! reproduces the uninterrupted one bit for bit; wgan-gp-conv trains through the convolutional
//! penalty; dcgan64 trains on a folder of RGB images; mismatched images, --width on an MLP
//! preset and batch norm in a critic under a gradient penalty are refused by name.

mod support;

use std::path::{Path, PathBuf};

use gan_gpu::checkpoint_io::load_tensors;
use support::{fails, succeeds};

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("gan-gpu-conv-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Pseudo-random bytes (a fixed LCG: the same data every run).
fn bytes(n: usize, seed: u32) -> Vec<u8> {
    let mut state = seed;
    (0..n)
        .map(|_| {
            state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (state >> 24) as u8
        })
        .collect()
}

/// An MNIST-format folder of `count` random side×side images.
fn idx_folder(name: &str, count: u32, side: u32) -> PathBuf {
    let dir = scratch(name);
    let mut images = vec![0, 0, 8, 3];
    for d in [count, side, side] {
        images.extend_from_slice(&d.to_be_bytes());
    }
    images.extend(bytes((count * side * side) as usize, count));
    let mut labels = vec![0, 0, 8, 1];
    labels.extend_from_slice(&count.to_be_bytes());
    labels.extend(std::iter::repeat_n(3u8, count as usize));
    std::fs::write(dir.join("train-images-idx3-ubyte"), images).unwrap();
    std::fs::write(dir.join("train-labels-idx1-ubyte"), labels).unwrap();
    dir
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// (step, d_loss, g_loss) of every metrics.csv row.
fn losses(run: &Path) -> Vec<(String, String, String)> {
    std::fs::read_to_string(run.join("metrics.csv"))
        .unwrap()
        .lines()
        .skip(1)
        .map(|line| {
            let f: Vec<&str> = line.split(',').collect();
            (f[0].into(), f[1].into(), f[2].into())
        })
        .collect()
}

const TINY_DCGAN: [&str; 8] = [
    "--preset",
    "dcgan",
    "--width",
    "2",
    "--batch-size",
    "4",
    "--log-every",
    "1",
];

#[test]
fn dcgan_trains_and_writes_a_pytorch_layout_generator() {
    let data = idx_folder("dcgan-data", 9, 28);
    let run = data.join("run");
    let mut args = vec!["train", path(&data)];
    args.extend(TINY_DCGAN);
    args.extend(["--steps", "3", "--quiet", "--out", path(&run)]);
    succeeds(&args);
    assert_eq!(losses(&run).len(), 3);
    assert!(run.join("samples/step_000000003.png").is_file());
    assert!(run.join("loss_curves.png").is_file());
    let config = std::fs::read_to_string(run.join("config.json")).unwrap();
    assert!(config.contains("\"conv_transpose2d\"") && config.contains("\"batch_norm\""));

    // nn.Sequential(Linear(100, 196), BatchNorm1d(196), ReLU(), Unflatten(1, (4, 7, 7)),
    // ConvTranspose2d(4, 2, 4, 2, 1), BatchNorm2d(2), ReLU(), ConvTranspose2d(2, 1, 4, 2, 1),
    // Tanh()) at width 2.
    let (tensors, _) = load_tensors(run.join("generator.safetensors")).unwrap();
    let shape = |name: &str| -> Vec<usize> {
        let t = tensors.iter().find(|t| t.0 == name);
        t.unwrap_or_else(|| panic!("no tensor {name}")).1.clone()
    };
    assert_eq!(shape("0.weight"), [196, 100]);
    assert_eq!(shape("0.bias"), [196]);
    for name in ["weight", "bias", "running_mean", "running_var"] {
        assert_eq!(shape(&format!("1.{name}")), [196]);
        assert_eq!(shape(&format!("5.{name}")), [2]);
    }
    assert_eq!(shape("4.weight"), [4, 2, 4, 4]);
    assert_eq!(shape("7.weight"), [2, 1, 4, 4]);
    assert_eq!(shape("7.bias"), [1]);
    assert_eq!(tensors.len(), 2 + 5 + 2 + 5 + 2);
    // Three iterations of k = 1: G ran in training mode twice per iteration.
    let tracked = tensors
        .iter()
        .find(|t| t.0 == "1.num_batches_tracked")
        .unwrap();
    assert_eq!((tracked.1.as_slice(), tracked.2[0]), (&[][..], 6.0));
    let running_var = &tensors.iter().find(|t| t.0 == "5.running_var").unwrap().2;
    assert!(
        running_var.iter().all(|&v| v > 0.0 && v != 1.0),
        "{running_var:?}"
    );

    // Sampling uses G in evaluation mode, from the run or the generator file alike.
    let grid = data.join("grid.png");
    succeeds(&["sample", path(&run), "-n", "5", "-o", path(&grid)]);
    assert!(grid.is_file());
}

#[test]
fn a_resumed_dcgan_run_reproduces_the_uninterrupted_one() {
    let data = idx_folder("dcgan-resume", 11, 28);
    let (straight, split) = (data.join("straight"), data.join("split"));
    let run = |out: &Path, steps: &str, resume: bool| {
        let mut args = vec!["train"];
        if resume {
            args.extend(["--resume", path(out), "--steps", steps, "--quiet"]);
        } else {
            args.push(path(&data));
            args.extend(TINY_DCGAN);
            args.extend(["--steps", steps, "--quiet", "--out", path(out)]);
        }
        succeeds(&args);
    };
    run(&straight, "4", false);
    run(&split, "2", false);
    run(&split, "4", true);
    assert_eq!(losses(&straight), losses(&split));
}

#[test]
fn wgan_gp_conv_trains_through_the_convolutional_penalty() {
    let data = idx_folder("wgan-gp-conv", 6, 28);
    let run = data.join("run");
    succeeds(&[
        "train",
        path(&data),
        "--preset",
        "wgan-gp-conv",
        "--width",
        "2",
        "--batch-size",
        "3",
        "--steps",
        "2",
        "--log-every",
        "1",
        "--quiet",
        "--out",
        path(&run),
    ]);
    let csv = std::fs::read_to_string(run.join("metrics.csv")).unwrap();
    assert!(csv.lines().next().unwrap().contains("grad_norm"), "{csv}");
    let last = csv.lines().last().unwrap();
    assert!(
        last.split(',')
            .all(|v| v.parse::<f64>().is_ok_and(f64::is_finite)),
        "{last}"
    );
}

#[test]
fn dcgan64_trains_on_rgb_images_and_draws_its_grid() {
    let dir = scratch("dcgan64");
    for i in 0..3u32 {
        let image = image::RgbImage::from_raw(64, 64, bytes(64 * 64 * 3, i + 1)).unwrap();
        image.save(dir.join(format!("{i}.png"))).unwrap();
    }
    let run = dir.join("run");
    succeeds(&[
        "train",
        path(&dir),
        "--preset",
        "dcgan64",
        "--width",
        "2",
        "--batch-size",
        "2",
        "--steps",
        "1",
        "--quiet",
        "--out",
        path(&run),
    ]);
    // 64 samples of 64×64 in an 8×8 grid with 2-pixel padding (the channels-first layout of
    // the grid is unit-tested in src/report/grid.rs).
    let grid = image::open(run.join("samples/step_000000001.png")).unwrap();
    assert_eq!(
        (grid.width(), grid.height()),
        (8 * 64 + 9 * 2, 8 * 64 + 9 * 2)
    );
    let (tensors, _) = load_tensors(run.join("generator.safetensors")).unwrap();
    // pytorch/examples' netG.main: ConvTranspose2d(100, 16, 4, 1, 0, bias=False) first.
    let first = tensors.iter().find(|t| t.0 == "0.weight").unwrap();
    assert_eq!(first.1, [100, 16, 4, 4]);
    assert!(!tensors.iter().any(|t| t.0 == "0.bias"));
}

#[test]
fn mismatched_images_width_flags_and_batch_norm_critics_are_refused() {
    let small = idx_folder("refusals", 5, 4);
    let error = fails(&["train", path(&small), "--preset", "dcgan"]);
    assert!(
        error.contains("--preset dcgan")
            && error.contains("built for 28×28")
            && error.contains("4×4"),
        "{error}"
    );
    let data = idx_folder("refusals-28", 5, 28);
    let error = fails(&[
        "train",
        path(&data),
        "--preset",
        "pytorch-gan",
        "--width",
        "8",
    ]);
    assert!(
        error.contains("--width 8") && error.contains("MLP"),
        "{error}"
    );
    let error = fails(&["train", path(&data), "--preset", "dcgan", "--width", "0"]);
    assert!(
        error.contains("--width") && error.contains("at least 1"),
        "{error}"
    );
    let error = fails(&[
        "train",
        path(&data),
        "--preset",
        "dcgan",
        "--loss",
        "wgan-gp",
    ]);
    assert!(
        error.contains("--loss wgan-gp")
            && error.contains("batch norm in a critic under a gradient penalty"),
        "{error}"
    );
    let error = fails(&["train", path(&data), "--preset", "dcgan", "--d-hidden", "8"]);
    assert!(
        error.contains("--d-hidden") && error.contains("--width"),
        "{error}"
    );
}
