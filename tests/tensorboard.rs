//! The run folder's TensorBoard log and progress animation through the real binary: the event
//! file parses back as TensorBoard reads it (TFRecord framing, both CRCs, Event messages) and
//! holds every metrics.csv column as a scalar at its step with the CSV's value, the sample grid
//! as an image at each sample step, the evaluation scores at `--eval-every` steps and the
//! config as text; a resumed run opens a new file starting with SessionLog START;
//! `--no-tensorboard` writes none; samples/progress.gif has a frame per sample step.

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use gan_gpu::report::tensorboard::{CONFIG_TAG, SAMPLES_TAG, event_files};
use gan_gpu::report::tfevents::{Event, EventWhat, SESSION_START, SummaryData, read_events};
use image::AnimationDecoder;
use support::succeeds;

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("gan-gpu-tb-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// tag → [(step, value)] of every scalar, and the steps of every sample image (with its PNG).
#[derive(Default)]
struct Decoded {
    scalars: BTreeMap<String, Vec<(i64, f32)>>,
    images: Vec<(i64, Vec<u8>)>,
    texts: Vec<(String, String)>,
}

fn decode(events: &[Event]) -> Decoded {
    let mut decoded = Decoded::default();
    for event in events {
        let Some(EventWhat::Summary(summary)) = &event.what else {
            continue;
        };
        for value in &summary.value {
            match &value.value {
                Some(SummaryData::SimpleValue(v)) => decoded
                    .scalars
                    .entry(value.tag.clone())
                    .or_default()
                    .push((event.step, *v)),
                Some(SummaryData::Image(image)) => {
                    assert_eq!(value.tag, SAMPLES_TAG);
                    decoded
                        .images
                        .push((event.step, image.encoded_image_string.clone()));
                }
                Some(SummaryData::Tensor(tensor)) => {
                    let plugin = value
                        .metadata
                        .as_ref()
                        .unwrap()
                        .plugin_data
                        .as_ref()
                        .unwrap();
                    assert_eq!(plugin.plugin_name, "text");
                    let text = String::from_utf8(tensor.string_val[0].clone()).unwrap();
                    decoded.texts.push((value.tag.clone(), text));
                }
                None => panic!("a value without data: {value:?}"),
            }
        }
    }
    decoded
}

/// metrics.csv as (header, rows).
fn metrics(run: &Path) -> (Vec<String>, Vec<Vec<f64>>) {
    let text = std::fs::read_to_string(run.join("metrics.csv")).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap().split(',').map(String::from).collect();
    let rows = lines
        .map(|l| l.split(',').map(|v| v.parse().unwrap()).collect())
        .collect();
    (header, rows)
}

/// The TensorBoard tag of each metrics.csv column.
fn tag_of(column: &str) -> &'static str {
    match column {
        "d_loss" => "loss/d",
        "g_loss" => "loss/g",
        "d_real" => "discriminator/real",
        "d_fake" => "discriminator/fake",
        "it_per_s" => "speed/it_per_s",
        "r1_penalty" => "discriminator/r1_penalty",
        "grad_norm" => "critic/grad_norm",
        "modes" => "toy/modes",
        "high_quality" => "toy/high_quality",
        "diversity" => "collapse/diversity",
        "collapse_warning" => "collapse/warning",
        "parzen_ll" => "eval/parzen_ll",
        "parzen_se" => "eval/parzen_se",
        other => panic!("unexpected column {other}"),
    }
}

/// Every non-NaN metrics.csv value is the scalar of its column's tag at its step.
fn assert_scalars_match_csv(run: &Path, decoded: &Decoded) {
    let (header, rows) = metrics(run);
    let mut expected: BTreeMap<String, Vec<(i64, f32)>> = BTreeMap::new();
    for row in &rows {
        for (column, value) in header.iter().zip(row).skip(1) {
            if !value.is_nan() {
                expected
                    .entry(tag_of(column).to_string())
                    .or_default()
                    .push((row[0] as i64, *value as f32));
            }
        }
    }
    assert_eq!(decoded.scalars, expected);
}

fn gif_frames(run: &Path) -> usize {
    let file = std::fs::File::open(run.join("samples/progress.gif")).unwrap();
    let decoder = image::codecs::gif::GifDecoder::new(std::io::BufReader::new(file)).unwrap();
    decoder.into_frames().collect_frames().unwrap().len()
}

#[test]
fn a_toy_run_logs_scalars_grids_and_config_and_resumes_into_a_new_file() {
    let dir = scratch("toy");
    let run = dir.join("run");
    let common = ["--log-every", "2", "--sample-every", "2", "--quiet"];
    let mut args = vec!["train", "ring8", "--steps", "4", "--out", s(&run)];
    args.extend(common);
    succeeds(&args);

    let files = event_files(&run).unwrap();
    assert_eq!(files.len(), 1, "{files:?}");
    let name = files[0].file_name().unwrap().to_str().unwrap();
    assert!(name.starts_with("events.out.tfevents."), "{name}");
    let events = read_events(&files[0]).unwrap();
    assert_eq!(
        events[0].what,
        Some(EventWhat::FileVersion("brain.Event:2".into()))
    );
    let decoded = decode(&events);
    assert_scalars_match_csv(&run, &decoded);
    assert_eq!(
        decoded.scalars["toy/modes"].len(),
        2,
        "sample steps 2 and 4"
    );
    // The grid (a scatter for toys) of steps 0, 2, 4, the very PNGs in samples/.
    let steps: Vec<i64> = decoded.images.iter().map(|(s, _)| *s).collect();
    assert_eq!(steps, [0, 2, 4]);
    for (step, png) in &decoded.images {
        let file = run.join(format!("samples/step_{step:09}.png"));
        assert_eq!(&std::fs::read(file).unwrap(), png);
    }
    assert_eq!(decoded.texts.len(), 1);
    assert_eq!(decoded.texts[0].0, CONFIG_TAG);
    assert!(
        decoded.texts[0].1.contains("\"noise_dim\""),
        "{}",
        decoded.texts[0].1
    );
    assert_eq!(gif_frames(&run), 3);

    // Resumed: a second file that starts at step 4 and logs steps 6 and 8; the first file
    // is left as it was.
    let before = std::fs::read(&files[0]).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let mut args = vec!["train", "--resume", s(&run), "--steps", "8"];
    args.extend(common);
    succeeds(&args);
    let files = event_files(&run).unwrap();
    assert_eq!(files.len(), 2, "{files:?}");
    assert_eq!(std::fs::read(&files[0]).unwrap(), before);
    let events = read_events(&files[1]).unwrap();
    match &events[1].what {
        Some(EventWhat::SessionLog(log)) => assert_eq!(log.status, SESSION_START),
        other => panic!("{other:?}"),
    }
    assert_eq!(events[1].step, 4);
    let resumed = decode(&events);
    let steps: Vec<i64> = resumed.scalars["loss/d"].iter().map(|(s, _)| *s).collect();
    assert_eq!(steps, [6, 8]);
    assert_eq!(
        gif_frames(&run),
        5,
        "steps 0, 2, 4 from samples/, then 6 and 8"
    );

    // --no-tensorboard: no event file.
    let quiet_run = dir.join("no-tb");
    let mut args = vec![
        "train",
        "ring8",
        "--steps",
        "2",
        "--no-tensorboard",
        "--out",
        s(&quiet_run),
    ];
    args.extend(common);
    succeeds(&args);
    assert!(event_files(&quiet_run).unwrap().is_empty());
    assert!(quiet_run.join("loss_curves.png").is_file());
    std::fs::remove_dir_all(dir).ok();
}

/// An MNIST-format folder (training and t10k splits) of random 28×28 images.
fn idx_folder(dir: &Path, count: u32) -> PathBuf {
    let data = dir.join("data");
    std::fs::create_dir_all(&data).unwrap();
    let mut state = 5u32;
    for split in ["train", "t10k"] {
        let mut images = vec![0, 0, 8, 3];
        for d in [count, 28, 28] {
            images.extend_from_slice(&d.to_be_bytes());
        }
        images.extend((0..count * 784).map(|_| {
            state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (state >> 24) as u8
        }));
        let mut labels = vec![0, 0, 8, 1];
        labels.extend_from_slice(&count.to_be_bytes());
        labels.extend((0..count).map(|i| (i % 10) as u8));
        std::fs::write(data.join(format!("{split}-images-idx3-ubyte")), images).unwrap();
        std::fs::write(data.join(format!("{split}-labels-idx1-ubyte")), labels).unwrap();
    }
    data
}

#[test]
fn an_image_run_logs_its_evaluation_scores() {
    let dir = scratch("eval");
    let data = idx_folder(&dir, 40);
    let run = dir.join("run");
    succeeds(&[
        "train",
        s(&data),
        "--g-hidden",
        "16",
        "--d-hidden",
        "16",
        "--batch-size",
        "8",
        "--steps",
        "4",
        "--log-every",
        "1",
        "--holdout",
        "10",
        "--eval-every",
        "2",
        "--eval-no-classifier",
        "--eval-samples",
        "20",
        "--eval-parzen-test",
        "10",
        "--eval-parzen-validation",
        "10",
        "--quiet",
        "--out",
        s(&run),
    ]);
    let files = event_files(&run).unwrap();
    let decoded = decode(&read_events(&files[0]).unwrap());
    assert_scalars_match_csv(&run, &decoded);
    let steps: Vec<i64> = decoded.scalars["eval/parzen_ll"]
        .iter()
        .map(|(s, _)| *s)
        .collect();
    assert_eq!(steps, [2, 4]);
    assert_eq!(decoded.scalars["loss/g"].len(), 4);
    // The 8×8 grid of 28×28 digits, decoded as TensorBoard's image tab does.
    let (_, png) = decoded.images.last().unwrap();
    let grid = image::load_from_memory(png).unwrap();
    assert!(grid.width() > 8 * 28 && grid.height() > 8 * 28);
    assert!(run.join("eval_curves.png").is_file());
    std::fs::remove_dir_all(dir).ok();
}
