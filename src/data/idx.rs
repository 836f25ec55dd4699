//! Reader (and a small writer) for the IDX format used by MNIST and
//! Fashion-MNIST: a big-endian header `00 00 <type> <ndims>` followed by
//! `ndims` big-endian u32 dimensions and the row-major payload.
//!
//! Only the unsigned-byte type (0x08) is supported, which is what the MNIST
//! family uses: images are `idx3` (magic 0x00000803, dims [n, rows, cols])
//! and labels are `idx1` (magic 0x00000801, dims [n]).
//!
//! Files may be raw or gzip-compressed. Compression is detected from the
//! gzip magic bytes (1f 8b), not from the file name, because downloads and
//! mirrors often rename files (`.gz` stripped by a browser, or the opposite).
//!
//! Every structural check that can fail returns `Error::InvalidData` naming
//! the file and the field, so a truncated download or a swapped
//! images/labels file is diagnosed without a hex editor.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use flate2::read::MultiGzDecoder;

use crate::error::{Error, Result};

/// The IDX element type code for unsigned bytes.
const TYPE_U8: u8 = 0x08;
/// Magic number of an idx3 u8 image file.
pub const IDX3_U8_MAGIC: u32 = 0x0000_0803;
/// Magic number of an idx1 u8 label file.
pub const IDX1_U8_MAGIC: u32 = 0x0000_0801;

/// A stack of u8 images as stored in an idx3 file: `count` images of
/// `rows × cols` pixels, row-major, one image after the other.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdxImages {
    pub count: usize,
    pub rows: usize,
    pub cols: usize,
    pub pixels: Vec<u8>,
}

impl IdxImages {
    /// The pixels of image `i` (`rows * cols` bytes), or `None` out of range.
    pub fn image(&self, i: usize) -> Option<&[u8]> {
        let size = self.rows * self.cols;
        self.pixels.get(i * size..(i + 1) * size)
    }
}

/// Read an idx3 u8 image file (raw or gzip).
pub fn read_idx_images(path: impl AsRef<Path>) -> Result<IdxImages> {
    let path = path.as_ref();
    let (dims, pixels) = read_idx_u8(path, 3)?;
    // Zero-sized images make no sense and would divide by zero downstream.
    if dims[1] == 0 {
        return Err(Error::invalid(path, "rows", "a non-zero value", "0"));
    }
    if dims[2] == 0 {
        return Err(Error::invalid(path, "cols", "a non-zero value", "0"));
    }
    Ok(IdxImages {
        count: dims[0],
        rows: dims[1],
        cols: dims[2],
        pixels,
    })
}

/// Read an idx1 u8 label file (raw or gzip).
pub fn read_idx_labels(path: impl AsRef<Path>) -> Result<Vec<u8>> {
    let (_dims, labels) = read_idx_u8(path.as_ref(), 1)?;
    Ok(labels)
}

/// Write an idx3 u8 image file, gzip-compressed when `gzip` is true.
/// Used by tests and by tools that export datasets; validates that the
/// pixel count matches the dimensions.
pub fn write_idx_images(path: impl AsRef<Path>, images: &IdxImages, gzip: bool) -> Result<()> {
    let path = path.as_ref();
    let expected = images.count * images.rows * images.cols;
    if images.pixels.len() != expected {
        return Err(Error::Input(format!(
            "write_idx_images({}): pixels has {} bytes, expected count*rows*cols = {}",
            path.display(),
            images.pixels.len(),
            expected
        )));
    }
    let dims = [images.count, images.rows, images.cols];
    write_idx_u8(path, &dims, &images.pixels, gzip)
}

/// Write an idx1 u8 label file, gzip-compressed when `gzip` is true.
pub fn write_idx_labels(path: impl AsRef<Path>, labels: &[u8], gzip: bool) -> Result<()> {
    write_idx_u8(path.as_ref(), &[labels.len()], labels, gzip)
}

fn write_idx_u8(path: &Path, dims: &[usize], payload: &[u8], gzip: bool) -> Result<()> {
    let mut bytes = Vec::with_capacity(4 + 4 * dims.len() + payload.len());
    bytes.extend_from_slice(&[0, 0, TYPE_U8, dims.len() as u8]);
    for &d in dims {
        let d = u32::try_from(d).map_err(|_| {
            Error::Input(format!(
                "{}: IDX dimension {d} does not fit in u32",
                path.display()
            ))
        })?;
        bytes.extend_from_slice(&d.to_be_bytes());
    }
    bytes.extend_from_slice(payload);
    let bytes = if gzip {
        use std::io::Write;
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(&bytes).map_err(|e| Error::io(path, e))?;
        enc.finish().map_err(|e| Error::io(path, e))?
    } else {
        bytes
    };
    std::fs::write(path, bytes).map_err(|e| Error::io(path, e))
}

/// Open `path`, transparently un-gzipping it if it starts with 1f 8b.
/// Returns the reader and whether it is compressed (for error messages).
fn open_maybe_gz(path: &Path) -> Result<(Box<dyn Read>, bool)> {
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    let mut reader = BufReader::new(file);
    let mut head = [0u8; 2];
    let n = read_fully(&mut reader, &mut head).map_err(|e| Error::io(path, e))?;
    // Put the sniffed bytes back in front of the stream.
    let rest = std::io::Cursor::new(head[..n].to_vec()).chain(reader);
    if n == 2 && head == [0x1f, 0x8b] {
        Ok((Box::new(MultiGzDecoder::new(rest)), true))
    } else {
        Ok((Box::new(rest), false))
    }
}

/// Read until `buf` is full or the stream ends; returns how many bytes were read.
fn read_fully(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match r.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// Map a read error: in a gzip stream a failure means corrupt/truncated
/// compressed data (InvalidData), in a raw file it is a real I/O error.
fn read_error(path: &Path, gz: bool, e: std::io::Error) -> Error {
    if gz {
        Error::invalid(
            path,
            "gzip stream",
            "a complete, valid gzip stream",
            format!("a decoding error ({e})"),
        )
    } else {
        Error::io(path, e)
    }
}

/// Read a u8 IDX file with exactly `ndims` dimensions; returns the dims and payload.
fn read_idx_u8(path: &Path, ndims: usize) -> Result<(Vec<usize>, Vec<u8>)> {
    let (mut r, gz) = open_maybe_gz(path)?;
    let expected_magic = 0x0000_0800u32 | ndims as u32;
    let kind = if ndims == 3 { "images" } else { "labels" };

    let mut magic = [0u8; 4];
    let n = read_fully(&mut r, &mut magic).map_err(|e| read_error(path, gz, e))?;
    if n < 4 {
        return Err(Error::invalid(
            path,
            "header",
            format!("an IDX {kind} file of at least {} bytes", 4 + 4 * ndims),
            format!("{n} bytes"),
        ));
    }
    let found_magic = u32::from_be_bytes(magic);
    // Bytes 0-1 must be zero and byte 2 the u8 type code; otherwise this is
    // not an IDX u8 file at all (e.g. an HTML error page saved as .gz).
    if magic[0] != 0 || magic[1] != 0 || magic[2] != TYPE_U8 {
        return Err(Error::invalid(
            path,
            "magic",
            format!("0x{expected_magic:08x} (IDX u8 {kind})"),
            format!("0x{found_magic:08x}"),
        ));
    }
    // Byte 3 is the number of dimensions: a labels file passed as images
    // (or the other way round) lands here.
    if magic[3] as usize != ndims {
        return Err(Error::invalid(
            path,
            "dimension count",
            format!("{ndims} (magic 0x{expected_magic:08x}, IDX {kind})"),
            format!("{} (magic 0x{found_magic:08x})", magic[3]),
        ));
    }

    let mut dims = Vec::with_capacity(ndims);
    for i in 0..ndims {
        let mut d = [0u8; 4];
        let n = read_fully(&mut r, &mut d).map_err(|e| read_error(path, gz, e))?;
        if n < 4 {
            return Err(Error::invalid(
                path,
                "header",
                format!("{} header bytes", 4 + 4 * ndims),
                format!("{} bytes", 4 + 4 * i + n),
            ));
        }
        dims.push(u32::from_be_bytes(d) as usize);
    }

    let expected_len = dims
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .ok_or_else(|| {
            Error::invalid(
                path,
                "dimensions",
                "a product that fits in memory",
                format!("{dims:?}"),
            )
        })?;

    // A header may claim more than the host holds (a small .gz can inflate to gigabytes).
    crate::limits::MemoryLimits::current().check_host(
        &format!(
            "{}: an IDX payload of dims {dims:?} (from its header)",
            path.display()
        ),
        Some(expected_len as u64),
    )?;

    // Read at most the expected payload (no allocation driven by a
    // corrupt header beyond what the data actually holds), then count any
    // bytes left over.
    let mut payload = Vec::new();
    (&mut r)
        .take(expected_len as u64)
        .read_to_end(&mut payload)
        .map_err(|e| read_error(path, gz, e))?;
    let extra = std::io::copy(&mut r, &mut std::io::sink()).map_err(|e| read_error(path, gz, e))?;
    if payload.len() != expected_len || extra != 0 {
        let dims_str = dims
            .iter()
            .map(|d| d.to_string())
            .collect::<Vec<_>>()
            .join("×");
        return Err(Error::invalid(
            path,
            "payload length",
            format!("{expected_len} bytes (dims {dims_str})"),
            if extra != 0 {
                format!("{} bytes ({extra} trailing)", expected_len as u64 + extra)
            } else {
                format!("{} bytes (truncated)", payload.len())
            },
        ));
    }
    Ok((dims, payload))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::test_util::temp_dir;

    fn sample_images() -> IdxImages {
        let (count, rows, cols) = (3, 4, 5);
        IdxImages {
            count,
            rows,
            cols,
            pixels: (0..count * rows * cols)
                .map(|i| (i * 7 % 256) as u8)
                .collect(),
        }
    }

    /// Raw IDX bytes for `dims` and `payload` with an arbitrary magic.
    fn raw_idx(magic: u32, dims: &[u32], payload: &[u8]) -> Vec<u8> {
        let mut b = magic.to_be_bytes().to_vec();
        for d in dims {
            b.extend_from_slice(&d.to_be_bytes());
        }
        b.extend_from_slice(payload);
        b
    }

    fn assert_invalid(err: Error, path: &Path, want_field: &str) {
        match &err {
            Error::InvalidData { file, field, .. } => {
                assert_eq!(file, path, "error names the wrong file: {err}");
                assert_eq!(field, want_field, "error names the wrong field: {err}");
            }
            other => panic!("expected InvalidData for {want_field}, got {other:?}"),
        }
        let msg = err.to_string();
        assert!(msg.contains(&path.display().to_string()), "{msg}");
        assert!(msg.contains(want_field), "{msg}");
    }

    #[test]
    fn round_trip_raw_and_gz() {
        let dir = temp_dir("idx-rt");
        let imgs = sample_images();
        let labels: Vec<u8> = vec![0, 9, 4];
        for gz in [false, true] {
            // Deliberately no .gz suffix on the compressed files: detection
            // must use the magic bytes.
            let ip = dir.join(format!("images-{gz}"));
            let lp = dir.join(format!("labels-{gz}"));
            write_idx_images(&ip, &imgs, gz).unwrap();
            write_idx_labels(&lp, &labels, gz).unwrap();
            let head = std::fs::read(&ip).unwrap();
            assert_eq!(head[..2] == [0x1f, 0x8b], gz);
            assert_eq!(read_idx_images(&ip).unwrap(), imgs);
            assert_eq!(read_idx_labels(&lp).unwrap(), labels);
        }
        assert_eq!(imgs.image(1).unwrap(), &imgs.pixels[20..40]);
        assert!(imgs.image(3).is_none());
        std::fs::remove_dir_all(dir).ok();
    }

    #[test]
    fn corrupt_magic_is_invalid_magic() {
        let dir = temp_dir("idx-magic");
        let p = dir.join("bad-magic");
        std::fs::write(&p, raw_idx(0xdead_beef, &[1, 1, 1], &[0])).unwrap();
        assert_invalid(read_idx_images(&p).unwrap_err(), &p, "magic");
        std::fs::remove_dir_all(dir).ok();
    }

    #[test]
    fn wrong_dimension_count_is_reported() {
        let dir = temp_dir("idx-ndims");
        // A labels file read as images.
        let p = dir.join("labels-as-images");
        std::fs::write(&p, raw_idx(IDX1_U8_MAGIC, &[3], &[1, 2, 3])).unwrap();
        let err = read_idx_images(&p).unwrap_err();
        assert!(err.to_string().contains("expected 3"), "{err}");
        assert_invalid(err, &p, "dimension count");
        // And an images file read as labels.
        let q = dir.join("images-as-labels");
        write_idx_images(&q, &sample_images(), true).unwrap();
        assert_invalid(read_idx_labels(&q).unwrap_err(), &q, "dimension count");
        std::fs::remove_dir_all(dir).ok();
    }

    #[test]
    fn truncated_and_trailing_payload_are_invalid_payload_length() {
        let dir = temp_dir("idx-len");
        let imgs = sample_images();
        let full = raw_idx(IDX3_U8_MAGIC, &[3, 4, 5], &imgs.pixels);
        for gz in [false, true] {
            let p = dir.join(format!("truncated-{gz}"));
            let mut bytes = full[..full.len() - 7].to_vec();
            if gz {
                bytes = gzip(&bytes);
            }
            std::fs::write(&p, bytes).unwrap();
            let err = read_idx_images(&p).unwrap_err();
            assert!(err.to_string().contains("expected 60 bytes"), "{err}");
            assert!(err.to_string().contains("53 bytes"), "{err}");
            assert_invalid(err, &p, "payload length");

            let q = dir.join(format!("trailing-{gz}"));
            let mut bytes = full.clone();
            bytes.extend_from_slice(&[1, 2]);
            if gz {
                bytes = gzip(&bytes);
            }
            std::fs::write(&q, bytes).unwrap();
            let err = read_idx_images(&q).unwrap_err();
            assert!(err.to_string().contains("2 trailing"), "{err}");
            assert_invalid(err, &q, "payload length");
        }
        std::fs::remove_dir_all(dir).ok();
    }

    #[test]
    fn short_header_zero_rows_and_broken_gzip() {
        let dir = temp_dir("idx-hdr");
        let p = dir.join("short");
        std::fs::write(&p, [0u8, 0, 8, 3, 0, 0]).unwrap();
        assert_invalid(read_idx_images(&p).unwrap_err(), &p, "header");

        let e = dir.join("empty");
        std::fs::write(&e, []).unwrap();
        assert_invalid(read_idx_labels(&e).unwrap_err(), &e, "header");

        let z = dir.join("zero-rows");
        std::fs::write(&z, raw_idx(IDX3_U8_MAGIC, &[2, 0, 5], &[])).unwrap();
        assert_invalid(read_idx_images(&z).unwrap_err(), &z, "rows");

        // A gzip stream cut in the middle.
        let g = dir.join("cut.gz");
        let bytes = gzip(&raw_idx(IDX1_U8_MAGIC, &[1000], &[3u8; 1000]));
        std::fs::write(&g, &bytes[..bytes.len() / 2]).unwrap();
        let err = read_idx_labels(&g).unwrap_err();
        assert!(matches!(err, Error::InvalidData { .. }), "{err:?}");

        let missing = dir.join("missing");
        assert!(matches!(
            read_idx_labels(&missing).unwrap_err(),
            Error::Io { .. }
        ));
        std::fs::remove_dir_all(dir).ok();
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        use std::io::Write;
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(bytes).unwrap();
        enc.finish().unwrap()
    }
}
