//! The run directory layout, atomic file writes, and the metrics CSV.
//!
//! ```text
//! <run>/
//!   samples/       sample grids / scatter plots, one per logging interval
//!   checkpoints/   safetensors checkpoints
//!   metrics.csv    one row per log (see MetricsCsv)
//! ```
//!
//! Files a later step reads back (checkpoints, plots a user opens while the
//! run goes on) are written atomically: a crash or a full disk leaves the
//! previous version or nothing, never a half-written file.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// A run's output folder.
#[derive(Debug, Clone)]
pub struct RunDir {
    root: PathBuf,
}

impl RunDir {
    /// Create `path` with `samples/` and `checkpoints/` (existing folders are
    /// reused, so a resumed run writes into the same place).
    pub fn create(path: impl AsRef<Path>) -> Result<RunDir> {
        let root = path.as_ref().to_path_buf();
        for dir in [root.clone(), root.join("samples"), root.join("checkpoints")] {
            std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        }
        Ok(RunDir { root })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn samples_dir(&self) -> PathBuf {
        self.root.join("samples")
    }

    pub fn checkpoints_dir(&self) -> PathBuf {
        self.root.join("checkpoints")
    }

    /// `<run>/metrics.csv`.
    pub fn metrics_path(&self) -> PathBuf {
        self.root.join("metrics.csv")
    }
}

/// Write `bytes` to `path` atomically: write `<name>.tmp` in the same folder
/// (same file system, so the rename is atomic), fsync it, rename it over
/// `path`, then fsync the folder so the rename itself survives a power cut.
pub fn write_atomic(path: impl AsRef<Path>, bytes: &[u8]) -> Result<()> {
    let path = path.as_ref();
    let name = path.file_name().ok_or_else(|| {
        Error::Input(format!("write_atomic: {} has no file name", path.display()))
    })?;
    let mut tmp_name = name.to_os_string();
    tmp_name.push(".tmp");
    let tmp = path.with_file_name(tmp_name);

    let result = (|| {
        let mut f = File::create(&tmp).map_err(|e| Error::io(&tmp, e))?;
        f.write_all(bytes).map_err(|e| Error::io(&tmp, e))?;
        f.sync_all().map_err(|e| Error::io(&tmp, e))?;
        drop(f);
        std::fs::rename(&tmp, path).map_err(|e| Error::io(path, e))
    })();
    if result.is_err() {
        // Best effort: do not leave the temp file behind.
        let _ = std::fs::remove_file(&tmp);
        return result;
    }
    // Persist the directory entry. Opening a directory for sync is not
    // supported everywhere (e.g. Windows); the data itself is already synced.
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if let Ok(d) = File::open(parent) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// The columns every metrics row has, in order.
pub const METRICS_BASE_COLUMNS: [&str; 6] =
    ["step", "d_loss", "g_loss", "d_real", "d_fake", "it_per_s"];

/// One row of the base metrics.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct MetricsRow {
    pub step: u64,
    pub d_loss: f64,
    pub g_loss: f64,
    /// Mean D output (or critic value) on real samples.
    pub d_real: f64,
    /// Mean D output (or critic value) on generated samples.
    pub d_fake: f64,
    pub it_per_s: f64,
}

/// An append-only CSV of training metrics: the header once, then one row
/// per log. Each row is written with a single write and flushed, so a crash
/// loses at most the row being written.
#[derive(Debug)]
pub struct MetricsCsv {
    path: PathBuf,
    file: File,
    columns: Vec<String>,
}

impl MetricsCsv {
    /// Open (or create) `path` with the base columns plus `extra_columns`.
    ///
    /// A new or empty file gets the header. An existing file (a resumed run)
    /// must have the same header and is appended to, without a second
    /// header; a partial last line left by a crash is cut off first.
    pub fn open(path: impl AsRef<Path>, extra_columns: &[&str]) -> Result<MetricsCsv> {
        Self::open_impl(path.as_ref(), extra_columns, None)
    }

    /// Like [`MetricsCsv::open`], for resuming from a checkpoint taken at
    /// `resume_step`: rows with a larger step (logged after that checkpoint,
    /// before the interruption) are dropped, since the resumed run logs
    /// those steps again.
    pub fn open_for_resume(
        path: impl AsRef<Path>,
        extra_columns: &[&str],
        resume_step: u64,
    ) -> Result<MetricsCsv> {
        Self::open_impl(path.as_ref(), extra_columns, Some(resume_step))
    }

    fn open_impl(path: &Path, extra: &[&str], resume_step: Option<u64>) -> Result<MetricsCsv> {
        let mut columns: Vec<String> = METRICS_BASE_COLUMNS.iter().map(|s| s.to_string()).collect();
        for c in extra {
            if c.is_empty() || c.contains([',', '\n', '\r', '"']) || columns.iter().any(|x| x == c)
            {
                return Err(Error::Input(format!(
                    "metrics column {c:?} must be non-empty, unique, and free of commas, quotes and newlines"
                )));
            }
            columns.push(c.to_string());
        }
        let header = columns.join(",");

        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(|e| Error::io(path, e))?;
        let mut existing = String::new();
        file.read_to_string(&mut existing)
            .map_err(|e| Error::io(path, e))?;

        // Keep the complete lines of the existing file, minus rows past the resume step.
        let mut kept = String::new();
        if !existing.is_empty() {
            let complete = match existing.rfind('\n') {
                Some(i) => &existing[..=i],
                None => "",
            };
            let mut lines = complete.lines();
            let found = lines.next().unwrap_or("");
            if found != header {
                return Err(Error::invalid(
                    path,
                    "header",
                    format!("{header:?} (the columns of this run)"),
                    format!("{found:?}"),
                ));
            }
            kept.push_str(&header);
            kept.push('\n');
            for line in lines {
                let step = line.split(',').next().and_then(|s| s.parse::<u64>().ok());
                match (resume_step, step) {
                    (Some(r), Some(s)) if s > r => {}
                    _ => {
                        kept.push_str(line);
                        kept.push('\n');
                    }
                }
            }
        } else {
            kept = format!("{header}\n");
        }
        if kept != existing {
            file.set_len(0).map_err(|e| Error::io(path, e))?;
            file.seek(SeekFrom::Start(0))
                .map_err(|e| Error::io(path, e))?;
            file.write_all(kept.as_bytes())
                .map_err(|e| Error::io(path, e))?;
        }
        file.seek(SeekFrom::End(0))
            .map_err(|e| Error::io(path, e))?;
        Ok(MetricsCsv {
            path: path.to_path_buf(),
            file,
            columns,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// All column names, base first.
    pub fn columns(&self) -> &[String] {
        &self.columns
    }

    /// Append one row; `extra` must give one value per extra column.
    /// Floats use Rust's shortest round-trip form (`NaN`, `inf` as such).
    pub fn append(&mut self, row: &MetricsRow, extra: &[f64]) -> Result<()> {
        let n_extra = self.columns.len() - METRICS_BASE_COLUMNS.len();
        if extra.len() != n_extra {
            return Err(Error::Input(format!(
                "{}: metrics row has {} extra values, expected {} ({})",
                self.path.display(),
                extra.len(),
                n_extra,
                self.columns[METRICS_BASE_COLUMNS.len()..].join(",")
            )));
        }
        let mut line = format!(
            "{},{},{},{},{},{}",
            row.step, row.d_loss, row.g_loss, row.d_real, row.d_fake, row.it_per_s
        );
        for v in extra {
            line.push(',');
            line.push_str(&v.to_string());
        }
        line.push('\n');
        self.file
            .write_all(line.as_bytes())
            .and_then(|_| self.file.flush())
            .map_err(|e| Error::io(&self.path, e))
    }

    /// fsync the file (e.g. right after a checkpoint is written).
    pub fn sync(&mut self) -> Result<()> {
        self.file.sync_all().map_err(|e| Error::io(&self.path, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::test_util::temp_dir;

    #[test]
    fn run_dir_layout() {
        let base = temp_dir("rundir");
        let run = RunDir::create(base.join("run1")).unwrap();
        assert!(run.samples_dir().is_dir());
        assert!(run.checkpoints_dir().is_dir());
        assert_eq!(run.metrics_path(), base.join("run1/metrics.csv"));
        // Re-creating is fine (resume).
        RunDir::create(base.join("run1")).unwrap();
        // A file in the way is an I/O error naming it.
        std::fs::write(base.join("file"), "x").unwrap();
        let msg = RunDir::create(base.join("file")).unwrap_err().to_string();
        assert!(msg.contains("file"), "{msg}");
        std::fs::remove_dir_all(base).ok();
    }

    #[test]
    fn write_atomic_replaces_and_leaves_no_tmp() {
        let dir = temp_dir("atomic");
        let p = dir.join("out.bin");
        write_atomic(&p, b"first").unwrap();
        write_atomic(&p, b"second").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"second");
        let names: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(names, vec!["out.bin".to_string()], "stray files: {names:?}");
        // Failing write (missing folder) leaves nothing and names the path.
        let bad = dir.join("missing").join("x.bin");
        assert!(
            write_atomic(&bad, b"x")
                .unwrap_err()
                .to_string()
                .contains("x.bin.tmp")
        );
        std::fs::remove_dir_all(dir).ok();
    }

    #[test]
    fn metrics_header_once_and_resume_appends() {
        let dir = temp_dir("metrics");
        let p = dir.join("metrics.csv");
        let row = |step| MetricsRow {
            step,
            d_loss: 0.5,
            g_loss: 1.25,
            d_real: 0.75,
            d_fake: f64::NAN,
            it_per_s: 100.0,
        };
        {
            let mut m = MetricsCsv::open(&p, &["gp"]).unwrap();
            m.append(&row(1), &[0.1]).unwrap();
            m.append(&row(2), &[0.2]).unwrap();
            assert!(m.append(&row(3), &[]).is_err(), "missing extra value");
        }
        {
            let mut m = MetricsCsv::open(&p, &["gp"]).unwrap();
            m.append(&row(3), &[0.3]).unwrap();
        }
        let text = std::fs::read_to_string(&p).unwrap();
        assert_eq!(
            text,
            "step,d_loss,g_loss,d_real,d_fake,it_per_s,gp\n\
             1,0.5,1.25,0.75,NaN,100,0.1\n\
             2,0.5,1.25,0.75,NaN,100,0.2\n\
             3,0.5,1.25,0.75,NaN,100,0.3\n"
        );
        // Another column set is refused, naming the file and the header.
        let err = MetricsCsv::open(&p, &[]).unwrap_err();
        assert!(
            matches!(err, Error::InvalidData { ref field, .. } if field == "header"),
            "{err}"
        );

        // Resume from step 2 with a torn last line: rows > 2 and the torn
        // line go, the new row follows.
        std::fs::write(&p, format!("{text}4,0.5,1.2")).unwrap();
        let mut m = MetricsCsv::open_for_resume(&p, &["gp"], 2).unwrap();
        m.append(&row(3), &[0.33]).unwrap();
        let text = std::fs::read_to_string(&p).unwrap();
        assert_eq!(text.lines().count(), 4, "{text}");
        assert!(text.ends_with("\n3,0.5,1.25,0.75,NaN,100,0.33\n"), "{text}");
        std::fs::remove_dir_all(dir).ok();
    }
}
