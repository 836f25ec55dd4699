//! A run's TensorBoard log: `events.out.tfevents.<time>.<host>` in the run folder, written as
//! training goes (every metrics.csv column as a scalar under its `MetricColumn` tag, the
//! fixed-noise grid as an image at each sample step, the config as text) and flushed after
//! each log row, so `tensorboard --logdir runs` follows a live run.
//!
//! Each training session (a new run or a `--resume`) opens a file of its own; TensorBoard
//! reads every event file in the folder.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use prost::Message;

use super::metric_column::{BASE_TENSORBOARD_TAGS, MetricColumn};
use super::run_dir::MetricsRow;
use super::tfevents::{
    DT_STRING, Event, EventWhat, PluginData, SESSION_START, SessionLog, Summary, SummaryData,
    SummaryImage, SummaryMetadata, SummaryValue, TensorProto, TensorShapeProto, frame_record,
};
use crate::error::{Error, Result};

/// The tag of the fixed-noise sample grid (or a toy set's scatter plot).
pub const SAMPLES_TAG: &str = "samples/fixed_noise";
/// The tag of the run's config.json (TensorBoard's text tab).
pub const CONFIG_TAG: &str = "config";
/// Event files start with this name (TensorBoard looks for "tfevents").
pub const EVENT_FILE_PREFIX: &str = "events.out.tfevents.";

pub struct TensorBoardLog {
    path: PathBuf,
    file: BufWriter<File>,
}

/// The machine's name for the file name, as TensorFlow writers use it.
fn host_name() -> String {
    let name = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .or_else(|| std::env::var("COMPUTERNAME").ok())
        .unwrap_or_default();
    let name: String = name
        .trim()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        .collect();
    if name.is_empty() {
        "localhost".into()
    } else {
        name
    }
}

fn now_seconds() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

impl TensorBoardLog {
    /// A new event file in `run`. `resumed_at`: the step a resumed run continues from, marked
    /// with a SessionLog START so TensorBoard drops steps past it from the earlier files.
    pub fn create(run: &Path, resumed_at: Option<u64>) -> Result<TensorBoardLog> {
        let stem = format!(
            "{EVENT_FILE_PREFIX}{}.{}",
            now_seconds() as u64,
            host_name()
        );
        // Two sessions within one second: a suffix keeps the first file intact.
        let mut n = 0;
        let (path, file) = loop {
            let name = match n {
                0 => stem.clone(),
                n => format!("{stem}.{n}"),
            };
            let path = run.join(name);
            match OpenOptions::new().write(true).create_new(true).open(&path) {
                Ok(file) => break (path, file),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && n < 1000 => n += 1,
                Err(e) => return Err(Error::io(&path, e)),
            }
        };
        let mut log = TensorBoardLog {
            path,
            file: BufWriter::new(file),
        };
        log.write(0, EventWhat::FileVersion("brain.Event:2".into()))?;
        if let Some(step) = resumed_at {
            log.write(
                step,
                EventWhat::SessionLog(SessionLog {
                    status: SESSION_START,
                    checkpoint_path: String::new(),
                    msg: format!("resumed at step {step}"),
                }),
            )?;
        }
        log.flush()?;
        Ok(log)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn write(&mut self, step: u64, what: EventWhat) -> Result<()> {
        let event = Event {
            wall_time: now_seconds(),
            step: step as i64,
            what: Some(what),
        };
        self.file
            .write_all(&frame_record(&event.encode_to_vec()))
            .map_err(|e| Error::io(&self.path, e))
    }

    fn summary(&mut self, step: u64, value: Vec<SummaryValue>) -> Result<()> {
        self.write(step, EventWhat::Summary(Summary { value }))
    }

    /// Push everything written so far to the file (after each log row).
    pub fn flush(&mut self) -> Result<()> {
        self.file.flush().map_err(|e| Error::io(&self.path, e))
    }

    /// One metrics.csv row as scalars: the base columns and `columns` (NaN values, the rows
    /// between evaluations or sample steps, are left out as metrics.csv's blanks), then flush.
    pub fn log_row(
        &mut self,
        row: &MetricsRow,
        columns: &[MetricColumn],
        values: &[f64],
    ) -> Result<()> {
        let base = [row.d_loss, row.g_loss, row.d_real, row.d_fake, row.it_per_s];
        let tags = BASE_TENSORBOARD_TAGS
            .iter()
            .map(|(_, tag)| *tag)
            .zip(base)
            .chain(
                columns
                    .iter()
                    .map(|c| c.tensorboard_tag())
                    .zip(values.iter().copied()),
            );
        let scalars = tags
            .filter(|(_, v)| !v.is_nan())
            .map(|(tag, v)| SummaryValue {
                tag: tag.to_string(),
                metadata: None,
                value: Some(SummaryData::SimpleValue(v as f32)),
            })
            .collect();
        self.summary(row.step, scalars)?;
        self.flush()
    }

    /// A PNG (the sample grid) as an image at `step`; its size is read from the PNG header.
    pub fn image_png(&mut self, tag: &str, step: u64, png: &[u8]) -> Result<()> {
        let decoder =
            image::ImageReader::with_format(std::io::Cursor::new(png), image::ImageFormat::Png);
        let (width, height) = decoder.into_dimensions().map_err(|e| {
            Error::Input(format!("TensorBoard image {tag}: not a readable PNG: {e}"))
        })?;
        let image = SummaryImage {
            height: height as i32,
            width: width as i32,
            colorspace: 3,
            encoded_image_string: png.to_vec(),
        };
        self.summary(
            step,
            vec![SummaryValue {
                tag: tag.into(),
                metadata: None,
                value: Some(SummaryData::Image(image)),
            }],
        )?;
        self.flush()
    }

    /// Markdown text under `tag` (TensorBoard's text plugin: a string tensor).
    pub fn text(&mut self, tag: &str, step: u64, markdown: &str) -> Result<()> {
        let value = SummaryValue {
            tag: tag.into(),
            metadata: Some(SummaryMetadata {
                plugin_data: Some(PluginData {
                    plugin_name: "text".into(),
                    content: Vec::new(),
                }),
                display_name: String::new(),
                summary_description: String::new(),
            }),
            value: Some(SummaryData::Tensor(TensorProto {
                dtype: DT_STRING,
                tensor_shape: Some(TensorShapeProto { dim: Vec::new() }),
                string_val: vec![markdown.as_bytes().to_vec()],
            })),
        };
        self.summary(step, vec![value])?;
        self.flush()
    }

    /// The run's config.json as a code block.
    pub fn config(&mut self, step: u64, config_json: &str) -> Result<()> {
        // Four-space indentation makes a Markdown code block (fences would need escaping).
        let block: String = config_json
            .lines()
            .map(|line| format!("    {line}\n"))
            .collect();
        self.text(CONFIG_TAG, step, &block)
    }
}

/// The event files in `run`, oldest first.
pub fn event_files(run: &Path) -> Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(run)
        .map_err(|e| Error::io(run, e))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(EVENT_FILE_PREFIX))
        })
        .collect();
    files.sort();
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::test_util::temp_dir;
    use crate::report::tfevents::read_events;

    #[test]
    fn base_tags_follow_the_csv_columns() {
        let names: Vec<&str> = BASE_TENSORBOARD_TAGS.iter().map(|(n, _)| *n).collect();
        assert_eq!(names, crate::report::METRICS_BASE_COLUMNS[1..]);
    }

    #[test]
    fn a_log_reads_back_as_tensorboard_reads_it() {
        let dir = temp_dir("tensorboard");
        let mut log = TensorBoardLog::create(&dir, None).unwrap();
        log.config(0, "{\n  \"steps\": 3\n}").unwrap();
        let row = MetricsRow {
            step: 3,
            d_loss: 1.25,
            g_loss: 0.5,
            d_real: 0.75,
            d_fake: 0.25,
            it_per_s: 10.0,
        };
        log.log_row(
            &row,
            &[MetricColumn::Fid, MetricColumn::Penalty],
            &[f64::NAN, 2.0],
        )
        .unwrap();
        let mut png = Vec::new();
        image::RgbImage::new(5, 3)
            .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
            .unwrap();
        log.image_png(SAMPLES_TAG, 3, &png).unwrap();
        assert!(log.image_png(SAMPLES_TAG, 3, b"not a png").is_err());

        let files = event_files(&dir).unwrap();
        assert_eq!(files, vec![log.path().to_path_buf()]);
        let events = read_events(log.path()).unwrap();
        assert_eq!(events.len(), 4, "{events:?}");
        assert_eq!(
            events[0].what,
            Some(EventWhat::FileVersion("brain.Event:2".into()))
        );
        let summary = |i: usize| match &events[i].what {
            Some(EventWhat::Summary(s)) => s.value.clone(),
            other => panic!("event {i}: {other:?}"),
        };
        let text = &summary(1)[0];
        assert_eq!(text.tag, CONFIG_TAG);
        match &text.value {
            Some(SummaryData::Tensor(t)) => {
                assert_eq!(t.dtype, DT_STRING);
                assert_eq!(t.string_val[0], b"    {\n      \"steps\": 3\n    }\n");
            }
            other => panic!("{other:?}"),
        }
        let scalars: Vec<(String, f32)> = summary(2)
            .into_iter()
            .map(|v| match v.value {
                Some(SummaryData::SimpleValue(x)) => (v.tag, x),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(events[2].step, 3);
        let expected = [
            ("loss/d", 1.25),
            ("loss/g", 0.5),
            ("discriminator/real", 0.75),
            ("discriminator/fake", 0.25),
            ("speed/it_per_s", 10.0),
            ("critic/penalty", 2.0),
        ];
        let expected: Vec<(String, f32)> =
            expected.iter().map(|(t, v)| (t.to_string(), *v)).collect();
        assert_eq!(scalars, expected, "NaN (fid) left out");
        match &summary(3)[0].value {
            Some(SummaryData::Image(image)) => {
                assert_eq!((image.width, image.height), (5, 3));
                assert_eq!(image.encoded_image_string, png);
            }
            other => panic!("{other:?}"),
        }

        // A second session in the same second gets a file of its own, starting with START.
        let resumed = TensorBoardLog::create(&dir, Some(3)).unwrap();
        assert_ne!(resumed.path(), log.path());
        let events = read_events(resumed.path()).unwrap();
        assert!(matches!(
            &events[1].what,
            Some(EventWhat::SessionLog(s)) if s.status == SESSION_START
        ));
        assert_eq!(events[1].step, 3);
        std::fs::remove_dir_all(dir).ok();
    }
}
