//! Hostile but realistic use through the real binary (issue 11): absurd sizes are refused before
//! anything is allocated, a stopped run loses nothing, closed and full outputs never panic,
//! resume and run folders are unambiguous, checkpoints are chosen by step number, malformed
//! .npy files and eval sizes are refused, negative flag values are refused by name, and a
//! checkpoint with an impossible configuration names its file and field. One test per class.

mod support;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use gan_gpu::gan::checkpoint::{Checkpoint, checkpoint_name};
use support::{fails, gan_gpu, succeeds};

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("gan-gpu-rel-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn text(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// A `steps`-step ring8 run in `dir`/run.
fn tiny_run(dir: &Path, steps: u32) -> PathBuf {
    let run = dir.join("run");
    succeeds(&[
        "train",
        "--steps",
        &steps.to_string(),
        "--log-every",
        "1",
        "--quiet",
        "--out",
        text(&run),
    ]);
    run
}

fn bin() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_gan-gpu"));
    command.env("GAN_GPU_QUIET", "1");
    command
}

/// Fails, without an allocator abort, naming every string of `names`.
fn refused(args: &[&str], names: &[&str]) -> String {
    let error = fails(args);
    assert!(
        !error.contains("memory allocation"),
        "{args:?} reached the allocator:\n{error}"
    );
    for name in names {
        assert!(error.contains(name), "{args:?}: no {name:?} in:\n{error}");
    }
    error
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= b as u32;
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A PNG whose header says `width`×`height` RGB, with no real pixel data after it.
fn png_header_only(width: u32, height: u32) -> Vec<u8> {
    let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut chunk = |kind: &[u8], data: &[u8]| {
        bytes.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let mut body = kind.to_vec();
        body.extend_from_slice(data);
        bytes.extend_from_slice(&body);
        bytes.extend_from_slice(&crc32(&body).to_be_bytes());
    };
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]); // 8-bit RGB
    chunk(b"IHDR", &ihdr);
    chunk(b"IDAT", &[0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]);
    chunk(b"IEND", &[]);
    bytes
}

// 1. Every size that scales memory is checked before allocation, naming the flag or file.
#[test]
fn absurd_sizes_are_refused_before_allocation() {
    let dir = scratch("sizes");
    refused(
        &["train", "--d-hidden", "1000000000", "--steps", "1"],
        &["--d-hidden 1000000000", "largest storage binding"],
    );
    refused(
        &["train", "--noise-dim", "4000000000", "--steps", "1"],
        &["--noise-dim 4000000000"],
    );
    refused(
        &["train", "--batch-size", "100000000", "--steps", "1"],
        &["--batch-size 100000000"],
    );
    let run = tiny_run(&dir, 2);
    let out = dir.join("s.png");
    refused(
        &[
            "sample",
            text(&run),
            "-n",
            "1000000000000",
            "-o",
            text(&out),
        ],
        &["-n 1000000000000"],
    );
    refused(
        &["sample", text(&run), "-n", "3000000000", "-o", text(&out)],
        &["-n 3000000000", "2^31"],
    );
    refused(
        &["eval", text(&run), "--toy-samples", "1000000000000"],
        &["--toy-samples 1000000000000"],
    );

    // A 16000×16000 PNG: refused from its header, before any pixel is decoded.
    let huge = dir.join("huge");
    std::fs::create_dir_all(&huge).unwrap();
    std::fs::write(huge.join("a.png"), png_header_only(16_000, 16_000)).unwrap();
    refused(
        &["train", text(&huge), "--steps", "1"],
        &["a.png", "16000×16000"],
    );

    // 1024×1024 RGB images under the default network: G's last layer cannot exist.
    let big = dir.join("big");
    std::fs::create_dir_all(&big).unwrap();
    for i in 0..2u8 {
        let img = image::RgbImage::from_pixel(1024, 1024, image::Rgb([i * 90, 40, 200]));
        img.save(big.join(format!("{i}.png"))).unwrap();
    }
    refused(
        &[
            "train",
            text(&big),
            "--steps",
            "1",
            "--out",
            text(&dir.join("r")),
        ],
        &["DATA", "3145728", "generator layer"],
    );
    std::fs::remove_dir_all(&dir).ok();
}

/// Start `train` on ring8 for many steps, wait for its first metrics rows, send `signal`.
fn interrupt_training(dir: &Path, signal: &str) -> (PathBuf, std::process::Output) {
    let run = dir.join("run");
    let child = bin()
        .args([
            "train",
            "--steps",
            "1000000",
            "--log-every",
            "10",
            "--checkpoint-every",
            "100000",
            "--quiet",
            "--out",
            text(&run),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    loop {
        let rows = std::fs::read_to_string(run.join("metrics.csv"))
            .map(|t| t.lines().count())
            .unwrap_or(0);
        if rows >= 3 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "no metrics rows"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let status = Command::new("kill")
        .args([&format!("-{signal}"), &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    (run, child.wait_with_output().unwrap())
}

fn metrics_steps(run: &Path) -> Vec<u64> {
    std::fs::read_to_string(run.join("metrics.csv"))
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap().parse().unwrap())
        .collect()
}

// 2. SIGINT / SIGTERM: the run saves where it stopped, says how to resume, exits 130 / 143.
#[test]
fn signals_stop_training_with_a_checkpoint_and_resume_continues() {
    for (signal, status) in [("INT", 130), ("TERM", 143)] {
        let dir = scratch(&format!("signal-{signal}"));
        let (run, output) = interrupt_training(&dir, signal);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(status), "SIG{signal}: {stderr}");
        assert!(
            stderr.contains(&format!("interrupted by SIG{signal} at step"))
                && stderr.contains("--resume"),
            "{stderr}"
        );
        let steps = metrics_steps(&run);
        let stopped = *steps.last().unwrap();
        assert!(stopped < 1_000_000 && stopped > 0);
        let newest = Checkpoint::load(&Checkpoint::find_latest(&run).unwrap()).unwrap();
        assert_eq!(
            newest.step, stopped,
            "the checkpoint holds the interrupted step"
        );
        assert!(run.join("loss_curves.png").is_file());

        succeeds(&[
            "train",
            "--resume",
            text(&run),
            "--steps",
            &(stopped + 25).to_string(),
            "--quiet",
        ]);
        let steps = metrics_steps(&run);
        assert!(
            steps.windows(2).all(|w| w[0] < w[1]),
            "metrics.csv steps must increase strictly: {steps:?}"
        );
        assert_eq!(*steps.last().unwrap(), stopped + 25);
        std::fs::remove_dir_all(&dir).ok();
    }
}

// 3. Closed pipes and full devices: no panic; EPIPE exits 141 quietly (training saves first),
// other write errors print one line and exit 1.
#[test]
fn closed_pipes_and_full_devices_never_panic() {
    // `gan-gpu info | head -0`: the reader is gone before anything is written.
    let mut child = bin()
        .arg("info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(output.status.code(), Some(141), "{stderr}");

    if Path::new("/dev/full").exists() {
        let output = bin()
            .arg("info")
            .stdout(std::fs::File::create("/dev/full").unwrap())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert_eq!(output.status.code(), Some(1), "{stderr}");
        // One line (the Vulkan loader may add its own chatter before it).
        let ours: Vec<&str> = stderr
            .lines()
            .filter(|l| l.contains("stdout") || l.contains("panic"))
            .collect();
        assert_eq!(ours.len(), 1, "{stderr}");
        assert!(
            ours[0].starts_with("error: cannot write to stdout:"),
            "{stderr}"
        );
    }

    // `gan-gpu train ... 2>&1 | head`: the reader leaves mid-run; the run saves and exits 141.
    let dir = scratch("pipe");
    let run = dir.join("run");
    let mut child = bin()
        .args([
            "train",
            "--steps",
            "1000000",
            "--log-every",
            "10",
            "--quiet",
            "--out",
            text(&run),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    loop {
        let line = lines.next().expect("a step line").unwrap();
        if line.starts_with("step") {
            break;
        }
    }
    drop(lines);
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(141));
    let newest = Checkpoint::load(&Checkpoint::find_latest(&run).unwrap()).unwrap();
    assert_eq!(newest.step, *metrics_steps(&run).last().unwrap());
    std::fs::remove_dir_all(&dir).ok();
}

// 4. Resume: the checkpoint defines the run; other flags and a disagreeing config.json are
// refused by name. --out never mixes two runs.
#[test]
fn resume_and_run_folders_are_unambiguous() {
    let dir = scratch("resume");
    let run = tiny_run(&dir, 2);
    let run_text = text(&run);
    for (flags, name) in [
        (vec!["--lr-g", "0.1"], "--lr-g"),
        (vec!["--g-hidden", "8"], "--g-hidden"),
        (vec!["grid25"], "DATA"),
        (vec!["--seed", "3"], "--seed"),
    ] {
        let mut args = vec!["train", "--resume", run_text, "--steps", "4"];
        args.extend(flags);
        refused(&args, &[name, "--resume"]);
    }
    // Flags resume honours.
    succeeds(&[
        "train",
        "--resume",
        run_text,
        "--steps",
        "4",
        "--log-every",
        "2",
        "--checkpoint-every",
        "2",
        "--quiet",
    ]);

    // An edited config.json is reported by field and left as it is.
    let config_path = run.join("config.json");
    let original = std::fs::read_to_string(&config_path).unwrap();
    let mut edited: serde_json::Value = serde_json::from_str(&original).unwrap();
    edited["generator_optimizer"]["lr"] = serde_json::json!(0.5);
    let edited = serde_json::to_string_pretty(&edited).unwrap();
    std::fs::write(&config_path, &edited).unwrap();
    refused(
        &["train", "--resume", run_text, "--steps", "6"],
        &["config.json", "generator_optimizer.lr"],
    );
    assert_eq!(std::fs::read_to_string(&config_path).unwrap(), edited);
    std::fs::write(&config_path, "{ not json").unwrap();
    refused(
        &["train", "--resume", run_text, "--steps", "6"],
        &["config.json"],
    );
    std::fs::write(&config_path, &original).unwrap();
    succeeds(&["train", "--resume", run_text, "--steps", "6", "--quiet"]);

    // --out into a folder holding a run: refused; --overwrite replaces it whole.
    refused(
        &["train", "--steps", "2", "--quiet", "--out", run_text],
        &["--out", "--overwrite", "--resume"],
    );
    succeeds(&[
        "train",
        "grid25",
        "--steps",
        "3",
        "--quiet",
        "--out",
        run_text,
        "--overwrite",
    ]);
    let steps: Vec<u64> = Checkpoint::list(&run)
        .unwrap()
        .into_iter()
        .map(|c| c.0)
        .collect();
    assert_eq!(steps, [3], "only the new run's checkpoints remain");
    assert_eq!(metrics_steps(&run), [3]);
    std::fs::remove_dir_all(&dir).ok();
}

// 5. The newest checkpoint is the largest step, whatever the digits in its name.
#[test]
fn newest_checkpoint_is_chosen_by_step_number_past_a_million() {
    let dir = scratch("names");
    let folder = dir.join("checkpoints");
    std::fs::create_dir_all(&folder).unwrap();
    // Old 6-digit names up to 999,000, then what a run past a million steps writes.
    for step in (990_000..=999_000).step_by(1000) {
        std::fs::write(folder.join(format!("step_{step:06}.safetensors")), b"").unwrap();
    }
    for step in (1_000_000..=1_010_000).step_by(1000) {
        std::fs::write(folder.join(checkpoint_name(step)), b"").unwrap();
    }
    std::fs::write(folder.join("step_1000500.safetensors"), b"").unwrap(); // 7 digits
    std::fs::write(folder.join("step_x.safetensors"), b"").unwrap();
    let newest = Checkpoint::find_latest(&dir).unwrap();
    assert_eq!(newest, folder.join(checkpoint_name(1_010_000)));
    // New names sort by step for people, too.
    let mut names: Vec<String> = [5u64, 999_999, 1_000_000, 123_456_789]
        .iter()
        .map(|&s| checkpoint_name(s))
        .collect();
    let sorted = names.clone();
    names.sort();
    assert_eq!(names, sorted);

    // Through the binary: sample takes the step-2 checkpoint even when a 6-digit step-1 name
    // would sort after a longer one.
    let run = tiny_run(&dir, 2);
    let checkpoints = run.join("checkpoints");
    std::fs::rename(
        checkpoints.join(checkpoint_name(2)),
        checkpoints.join("step_1000002.safetensors"),
    )
    .unwrap();
    std::fs::write(checkpoints.join("step_999999.safetensors"), b"junk").unwrap();
    let out = dir.join("x.png");
    succeeds(&["sample", text(&run), "-n", "4", "-o", text(&out)]);
    std::fs::remove_dir_all(&dir).ok();
}

fn npy(header: &str, payload: &[u8]) -> Vec<u8> {
    let mut header = header.to_string();
    let unpadded = 10 + header.len() + 1;
    header.push_str(&" ".repeat(unpadded.div_ceil(64) * 64 - unpadded));
    header.push('\n');
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    bytes.extend_from_slice(&(header.len() as u16).to_le_bytes());
    bytes.extend_from_slice(header.as_bytes());
    bytes.extend_from_slice(payload);
    bytes
}

// 6. Every .npy header is validated with the file named; every eval size is at least 1.
#[test]
fn malformed_noise_files_and_zero_eval_sizes_are_refused() {
    let dir = scratch("npy");
    let run = tiny_run(&dir, 2);
    let out = dir.join("o.npy");
    let two =
        |shape: &str| format!("{{'descr': '<f4', 'fortran_order': False, 'shape': {shape}, }}");
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("empty", npy(&two("(0, 2)"), &[]), "shape"),
        ("empty-cols", npy(&two("(3, 0)"), &[]), "shape"),
        (
            "overflow",
            npy(&two("(4294967296, 4294967296)"), &[0; 8]),
            "shape",
        ),
        (
            "overflow2",
            npy(&two("(18446744073709551615, 2)"), &[0; 8]),
            "shape",
        ),
        ("negative", npy(&two("(-1, 2)"), &[0; 8]), "shape"),
        ("three-d", npy(&two("(1, 1, 2)"), &[0; 8]), "shape"),
        ("short", npy(&two("(2, 2)"), &[0; 12]), "data"),
        ("long", npy(&two("(1, 2)"), &[0; 12]), "data"),
        (
            "int",
            npy(
                "{'descr': '<i4', 'fortran_order': False, 'shape': (1, 2), }",
                &[0; 8],
            ),
            "descr",
        ),
        (
            "big-endian",
            npy(
                "{'descr': '>f4', 'fortran_order': False, 'shape': (1, 2), }",
                &[0; 8],
            ),
            "descr",
        ),
        (
            "fortran",
            npy(
                "{'descr': '<f4', 'fortran_order': True, 'shape': (1, 2), }",
                &[0; 8],
            ),
            "fortran_order",
        ),
        (
            "no-order",
            npy("{'descr': '<f4', 'shape': (1, 2), }", &[0; 8]),
            "fortran_order",
        ),
        (
            "truncated",
            b"\x93NUMPY\x01\x00\xff\x00{'descr'".to_vec(),
            "header",
        ),
        ("not-npy", b"hello".to_vec(), "magic"),
    ];
    for (name, bytes, field) in cases {
        let file = dir.join(format!("{name}.npy"));
        std::fs::write(&file, bytes).unwrap();
        refused(
            &[
                "sample",
                text(&run),
                "--noise",
                text(&file),
                "--format",
                "npy",
                "-o",
                text(&out),
            ],
            &[&format!("{name}.npy"), field],
        );
    }
    // A valid one still works.
    let ok = dir.join("ok.npy");
    std::fs::write(&ok, npy(&two("(3, 2)"), &[0; 24])).unwrap();
    succeeds(&[
        "sample",
        text(&run),
        "--noise",
        text(&ok),
        "--format",
        "npy",
        "-o",
        text(&out),
    ]);

    for flag in ["--samples", "--parzen-validation", "--toy-samples"] {
        refused(&["eval", text(&run), flag, "0"], &[flag, "at least 1"]);
    }
    std::fs::remove_dir_all(&dir).ok();
}

// 7. Negative values reach the checks that name the flag and the valid range.
#[test]
fn negative_flag_values_are_refused_by_name() {
    for (args, names) in [
        (vec!["train", "--steps", "-1"], vec!["--steps", "0 to"]),
        (
            vec!["train", "--batch-size", "-5"],
            vec!["--batch-size", "0 to"],
        ),
        (
            vec!["train", "--lr-g", "-0.001"],
            vec!["--lr-g", "positive"],
        ),
        (
            vec!["train", "--loss", "wgan-gp", "--lambda", "-1"],
            vec!["--lambda", "≥ 0"],
        ),
        (
            vec!["train", "--loss", "wgan", "--clip", "-0.01"],
            vec!["--clip", "positive"],
        ),
        (vec!["train", "--min-lr", "-1"], vec!["--min-lr", "[0"]),
        (vec!["sample", "x", "-n", "-3"], vec!["--count", "0 to"]),
        (
            vec!["eval", "x", "--samples", "-3"],
            vec!["--samples", "0 to"],
        ),
    ] {
        let error = refused(&args, &names);
        assert!(!error.contains("unexpected argument"), "{error}");
    }
}

// 8. A checkpoint whose configuration is impossible names the file and the field.
#[test]
fn checkpoint_with_zero_noise_dimension_names_file_and_field() {
    let dir = scratch("noise0");
    let run = tiny_run(&dir, 2);
    let file = Checkpoint::find_latest(&run).unwrap();
    let (tensors, mut metadata) = gan_gpu::checkpoint_io::load_tensors(&file).unwrap();
    let mut config: serde_json::Value = serde_json::from_str(&metadata["config"]).unwrap();
    config["noise_dim"] = serde_json::json!(0);
    metadata.insert("config".into(), config.to_string());
    gan_gpu::checkpoint_io::save_tensors(&file, &tensors, metadata).unwrap();
    let name = file.file_name().unwrap().to_str().unwrap().to_string();
    let out = dir.join("x.png");
    refused(
        &["sample", text(&file), "-o", text(&out)],
        &[&name, "noise_dim"],
    );
    std::fs::remove_file(run.join("config.json")).unwrap();
    refused(
        &["train", "--resume", text(&run), "--steps", "5"],
        &[&name, "noise_dim"],
    );
    let (ok, _, _) = gan_gpu(&["eval", text(&run)]);
    assert!(!ok);
    std::fs::remove_dir_all(&dir).ok();
}
