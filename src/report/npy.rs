//! Minimal NumPy .npy reading and writing for 2-D float arrays (noise in, samples out), so
//! gan-gpu exchanges data with Python tools without a NumPy dependency here.

use std::path::Path;

use super::run_dir::write_atomic;
use crate::error::{Error, Result};

const MAGIC: &[u8] = b"\x93NUMPY";

/// Write a C-ordered little-endian f32 array of shape [rows, cols] (format version 1.0).
pub fn write_npy_f32(path: &Path, values: &[f32], rows: usize, cols: usize) -> Result<()> {
    assert_eq!(values.len(), rows * cols);
    let mut header =
        format!("{{'descr': '<f4', 'fortran_order': False, 'shape': ({rows}, {cols}), }}");
    // The header (with magic, version and length) is padded with spaces to a multiple of 64.
    let unpadded = MAGIC.len() + 2 + 2 + header.len() + 1;
    header.push_str(&" ".repeat(unpadded.div_ceil(64) * 64 - unpadded));
    header.push('\n');
    let mut bytes = Vec::with_capacity(MAGIC.len() + 4 + header.len() + values.len() * 4);
    bytes.extend_from_slice(MAGIC);
    bytes.extend_from_slice(&[1, 0]);
    bytes.extend_from_slice(&(header.len() as u16).to_le_bytes());
    bytes.extend_from_slice(header.as_bytes());
    for v in values {
        bytes.extend_from_slice(&v.to_le_bytes());
    }
    write_atomic(path, &bytes)
}

/// Read a 2-D (or 1-D, as one row) little-endian f32 or f64 array, C order; returns (values, rows, cols).
pub fn read_npy_2d(path: &Path) -> Result<(Vec<f32>, usize, usize)> {
    // The file is read whole: refuse one the host cannot hold before reading it.
    let size = std::fs::metadata(path)
        .map_err(|e| Error::io(path, e))?
        .len();
    crate::limits::MemoryLimits::current()
        .check_host(&format!("{}: this .npy file", path.display()), Some(size))?;
    let bytes = std::fs::read(path).map_err(|e| Error::Io {
        path: path.to_path_buf(),
        source: e,
    })?;
    let invalid = |field: &str, expected: &str, found: String| Error::InvalidData {
        file: path.to_path_buf(),
        field: field.into(),
        expected: expected.into(),
        found,
    };
    if bytes.len() < 10 || &bytes[..6] != MAGIC {
        return Err(invalid(
            "magic",
            "a NumPy .npy file (\\x93NUMPY)",
            format!("{} bytes", bytes.len()),
        ));
    }
    let (header_len, start) = match bytes[6] {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
        2 | 3 if bytes.len() >= 12 => (
            u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
            12,
        ),
        v => return Err(invalid("version", "1, 2 or 3", v.to_string())),
    };
    let header = bytes
        .get(start..start + header_len)
        .map(|h| String::from_utf8_lossy(h).into_owned())
        .ok_or_else(|| invalid("header", "a complete header", "a truncated file".into()))?;
    let field = |key: &str| -> Option<String> {
        let at = header.find(&format!("'{key}'"))? + key.len() + 2;
        let rest = header[at..].trim_start().strip_prefix(':')?.trim_start();
        Some(rest.to_string())
    };
    let descr = field("descr").unwrap_or_default();
    let element = if descr.starts_with("'<f4'") {
        4
    } else if descr.starts_with("'<f8'") {
        8
    } else {
        return Err(invalid(
            "descr",
            "'<f4' or '<f8'",
            descr.chars().take(8).collect(),
        ));
    };
    match field("fortran_order") {
        Some(v) if v.starts_with("False") => {}
        Some(v) if v.starts_with("True") => {
            return Err(invalid("fortran_order", "False (C order)", "True".into()));
        }
        other => {
            return Err(invalid(
                "fortran_order",
                "False (C order)",
                other.map_or("no such key".into(), |v| v.chars().take(8).collect()),
            ));
        }
    }
    let shape_text = field("shape").unwrap_or_default();
    let inner = shape_text
        .strip_prefix('(')
        .and_then(|s| s.split(')').next())
        .ok_or_else(|| invalid("shape", "a tuple", shape_text.clone()))?;
    let dims: Vec<usize> = inner
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.parse::<usize>())
        .collect::<std::result::Result<_, _>>()
        .map_err(|_| invalid("shape", "whole numbers", inner.to_string()))?;
    let (rows, cols) = match dims.as_slice() {
        [n] => (1, *n),
        [r, c] => (*r, *c),
        _ => return Err(invalid("shape", "1 or 2 dimensions", format!("{dims:?}"))),
    };
    if rows == 0 || cols == 0 {
        return Err(invalid(
            "shape",
            "at least one row and one column",
            format!("({inner}), an empty array"),
        ));
    }
    let Some(payload) = rows.checked_mul(cols).and_then(|n| n.checked_mul(element)) else {
        return Err(invalid(
            "shape",
            "a shape whose size fits in memory",
            format!("({inner}), whose element count overflows"),
        ));
    };
    let data = &bytes[start + header_len..];
    if data.len() != payload {
        return Err(invalid(
            "data",
            &format!("{payload} bytes for shape ({rows}, {cols})"),
            format!("{} bytes", data.len()),
        ));
    }
    let values = if element == 4 {
        data.chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect()
    } else {
        data.chunks_exact(8)
            .map(|c| f64::from_le_bytes(c.try_into().unwrap()) as f32)
            .collect()
    };
    Ok((values, rows, cols))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn npy_round_trip_and_errors() {
        let dir = std::env::temp_dir().join(format!("gan-gpu-npy-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("a.npy");
        let values: Vec<f32> = (0..12).map(|i| i as f32 * 0.5 - 1.0).collect();
        write_npy_f32(&path, &values, 3, 4).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        let header_end = 10 + u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
        assert_eq!(header_end % 64, 0, "header must be 64-byte aligned");
        assert_eq!(read_npy_2d(&path).unwrap(), (values, 3, 4));
        std::fs::write(&path, &bytes[..bytes.len() - 3]).unwrap();
        let error = read_npy_2d(&path).unwrap_err().to_string();
        assert!(error.contains("a.npy") && error.contains("data"), "{error}");
        std::fs::remove_dir_all(&dir).ok();
    }
}
