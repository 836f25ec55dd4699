//! The crate's error type.
//!
//! Every error that can come from user input (a file, a folder, a flag) names
//! what was wrong precisely enough to fix it without reading the source: the
//! file, the field inside it, what was expected and what was found. Nothing
//! in the crate panics on bad input; it returns one of these instead.

use std::fmt;
use std::path::{Path, PathBuf};

/// Errors of the gan-gpu crate.
#[derive(Debug)]
pub enum Error {
    /// An operating-system I/O failure on `path` (open, read, write, rename...).
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// A file was read but its contents are not what the format requires.
    InvalidData {
        file: PathBuf,
        field: String,
        expected: String,
        found: String,
    },
    /// Bad user input (arguments, folders, options); the message is shown as is.
    Input(String),
    /// A failure reported by the GPU runtime.
    Gpu(String),
}

/// The crate's result type.
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// Wrap an I/O error with the path it happened on.
    pub fn io(path: impl AsRef<Path>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.as_ref().to_path_buf(),
            source,
        }
    }

    /// Build an `InvalidData` error from anything printable.
    pub fn invalid(
        file: impl AsRef<Path>,
        field: impl Into<String>,
        expected: impl Into<String>,
        found: impl Into<String>,
    ) -> Self {
        Error::InvalidData {
            file: file.as_ref().to_path_buf(),
            field: field.into(),
            expected: expected.into(),
            found: found.into(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io { path, source } => write!(f, "{}: {}", path.display(), source),
            Error::InvalidData {
                file,
                field,
                expected,
                found,
            } => write!(
                f,
                "{}: {}: expected {}, found {}",
                file.display(),
                field,
                expected,
                found
            ),
            Error::Input(msg) => f.write_str(msg),
            Error::Gpu(msg) => write!(f, "GPU error: {msg}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// Unique scratch directories for unit tests (no external crates, no clashes
/// between parallel tests or repeated runs).
#[cfg(test)]
pub(crate) mod test_util {
    use std::path::PathBuf;
    use std::sync::atomic::{AtomicUsize, Ordering};

    pub fn temp_dir(tag: &str) -> PathBuf {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let dir = std::env::temp_dir().join(format!(
            "gan-gpu-test-{tag}-{}-{n}-{nanos}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).expect("create test temp dir");
        dir
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_data_message_names_file_field_expected_found() {
        let e = Error::invalid("/x/train.idx", "magic", "0x00000803", "0x00000801");
        assert_eq!(
            e.to_string(),
            "/x/train.idx: magic: expected 0x00000803, found 0x00000801"
        );
    }

    #[test]
    fn io_message_names_path_and_has_source() {
        let e = Error::io(
            "/nope/file",
            std::io::Error::new(std::io::ErrorKind::NotFound, "not found"),
        );
        assert!(e.to_string().starts_with("/nope/file: "));
        assert!(std::error::Error::source(&e).is_some());
        assert_eq!(Error::Input("bad flag".into()).to_string(), "bad flag");
    }
}
