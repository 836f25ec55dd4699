//! The crate's error type: every failure a user can cause or meet is a value, never a panic.

use std::fmt;
use std::path::PathBuf;

#[derive(Debug)]
pub enum Error {
    /// A file or folder could not be read or written.
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// A file's content is not what its format requires.
    InvalidData {
        file: PathBuf,
        field: String,
        expected: String,
        found: String,
    },
    /// Bad user input (flags, configuration); the message names the parameter.
    Input(String),
    /// The GPU, its driver or wgpu reported a problem.
    Gpu(String),
}

pub type Result<T> = std::result::Result<T, Error>;

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io { path, source } => write!(f, "{}: {source}", path.display()),
            Error::InvalidData {
                file,
                field,
                expected,
                found,
            } => write!(
                f,
                "{}: {field}: expected {expected}, found {found}",
                file.display()
            ),
            Error::Input(message) => f.write_str(message),
            Error::Gpu(message) => write!(f, "GPU error: {message}"),
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
