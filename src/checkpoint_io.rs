//! Checkpoint files: named f32 tensors plus string metadata in the
//! safetensors format (readable by PyTorch / `safetensors.torch.load_file`).
//!
//! Writes are atomic (temp file, fsync, rename; see `report::write_atomic`):
//! an interrupted save leaves the previous checkpoint intact, never a
//! half-written one. Integer counters (step, RNG offsets, ...) go in the
//! metadata as decimal strings, because safetensors metadata is a
//! string-to-string map; `metadata_u64` / `metadata_u32` parse them back
//! with errors naming the file and key.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use safetensors::{Dtype, SafeTensors, tensor::TensorView};

use crate::error::{Error, Result};
use crate::report::run_dir::write_atomic;

/// A named tensor: (name, shape, row-major f32 values).
pub type NamedTensor = (String, Vec<usize>, Vec<f32>);

/// Save `tensors` and `metadata` to `path` atomically.
///
/// Each tensor's shape must match its value count and names must be unique.
/// Tensors are stored as little-endian F32 (`num_batches_tracked` as I64); the file lists them sorted by
/// name (a property of the safetensors layout), and so does `load_tensors`.
pub fn save_tensors(
    path: impl AsRef<Path>,
    tensors: &[NamedTensor],
    metadata: HashMap<String, String>,
) -> Result<()> {
    let path = path.as_ref();
    let mut seen = HashSet::new();
    let mut bytes: Vec<Vec<u8>> = Vec::with_capacity(tensors.len());
    for (name, shape, values) in tensors {
        if !seen.insert(name.as_str()) {
            return Err(Error::Input(format!(
                "checkpoint {}: tensor name {name:?} appears twice",
                path.display()
            )));
        }
        let numel = shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d));
        if numel != Some(values.len()) {
            return Err(Error::Input(format!(
                "checkpoint {}: tensor {name:?} has shape {shape:?} but {} values",
                path.display(),
                values.len()
            )));
        }
        bytes.push(if is_integer(name) {
            values
                .iter()
                .flat_map(|&v| (v as i64).to_le_bytes())
                .collect()
        } else {
            values.iter().flat_map(|v| v.to_le_bytes()).collect()
        });
    }
    let views = tensors
        .iter()
        .zip(&bytes)
        .map(|((name, shape, _), b)| {
            let dtype = if is_integer(name) {
                Dtype::I64
            } else {
                Dtype::F32
            };
            TensorView::new(dtype, shape.clone(), b)
                .map(|v| (name.clone(), v))
                .map_err(|e| {
                    Error::Input(format!(
                        "checkpoint {}: tensor {name:?}: {e}",
                        path.display()
                    ))
                })
        })
        .collect::<Result<Vec<_>>>()?;
    let meta = (!metadata.is_empty()).then_some(metadata);
    let file_bytes = safetensors::serialize(views, meta).map_err(|e| {
        Error::Input(format!(
            "checkpoint {}: cannot serialize: {e}",
            path.display()
        ))
    })?;
    write_atomic(path, &file_bytes)
}

/// Load every tensor (sorted by name) and the metadata from a safetensors file.
/// Only F32 tensors (I64 for `num_batches_tracked`) are accepted: anything else is `InvalidData` naming the
/// tensor and its dtype.
pub fn load_tensors(path: impl AsRef<Path>) -> Result<(Vec<NamedTensor>, HashMap<String, String>)> {
    let path = path.as_ref();
    let data = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let st = SafeTensors::deserialize(&data).map_err(|e| {
        Error::invalid(
            path,
            "safetensors header",
            "a complete safetensors file (u64 header length, JSON header, tensor data)",
            format!("{e} ({} bytes in file)", data.len()),
        )
    })?;
    let metadata = SafeTensors::read_metadata(&data)
        .map(|(_, m)| m.metadata().clone().unwrap_or_default())
        .unwrap_or_default();
    let mut out = Vec::new();
    let mut entries = st.tensors();
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    for (name, view) in entries {
        let expected = if is_integer(&name) {
            Dtype::I64
        } else {
            Dtype::F32
        };
        if view.dtype() != expected {
            return Err(Error::invalid(
                path,
                format!("tensor {name:?} dtype"),
                format!("{expected:?}"),
                format!("{:?}", view.dtype()),
            ));
        }
        let values = match expected {
            Dtype::I64 => view
                .data()
                .chunks_exact(8)
                .map(|c| i64::from_le_bytes(c.try_into().expect("8 bytes")) as f32)
                .collect(),
            _ => view
                .data()
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect(),
        };
        out.push((name, view.shape().to_vec(), values));
    }
    Ok((out, metadata))
}

/// Tensors stored as int64, as PyTorch keeps them: batch norm's `num_batches_tracked` (its
/// value travels as an f32 like every other, exact up to 2^24 passes).
fn is_integer(name: &str) -> bool {
    name.ends_with(".num_batches_tracked") || name == "num_batches_tracked"
}

/// Find a tensor by name in a loaded list.
pub fn find_tensor<'a>(tensors: &'a [NamedTensor], name: &str) -> Option<&'a NamedTensor> {
    tensors.iter().find(|t| t.0 == name)
}

/// Store an integer counter in checkpoint metadata (as a decimal string).
pub fn put_counter(metadata: &mut HashMap<String, String>, key: &str, value: u64) {
    metadata.insert(key.to_string(), value.to_string());
}

/// Read a u64 counter from checkpoint metadata; `file` is named in errors.
pub fn metadata_u64(
    metadata: &HashMap<String, String>,
    key: &str,
    file: impl AsRef<Path>,
) -> Result<u64> {
    let raw = metadata.get(key).ok_or_else(|| {
        Error::invalid(
            file.as_ref(),
            format!("metadata {key:?}"),
            "an unsigned integer",
            "no such key",
        )
    })?;
    raw.trim().parse::<u64>().map_err(|_| {
        Error::invalid(
            file.as_ref(),
            format!("metadata {key:?}"),
            "an unsigned integer",
            format!("{raw:?}"),
        )
    })
}

/// Read a u32 counter from checkpoint metadata; `file` is named in errors.
pub fn metadata_u32(
    metadata: &HashMap<String, String>,
    key: &str,
    file: impl AsRef<Path>,
) -> Result<u32> {
    let v = metadata_u64(metadata, key, file.as_ref())?;
    u32::try_from(v).map_err(|_| {
        Error::invalid(
            file.as_ref(),
            format!("metadata {key:?}"),
            "an integer that fits in u32",
            v.to_string(),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::test_util::temp_dir;

    fn sample() -> Vec<NamedTensor> {
        vec![
            (
                "g.w0".into(),
                vec![2, 3],
                vec![1.0, -2.5, 3.25, f32::MIN_POSITIVE, 0.0, -0.0],
            ),
            ("d.b0".into(), vec![3], vec![0.1, f32::MAX, -1e-30]),
            ("scalar".into(), vec![], vec![42.0]),
        ]
    }

    #[test]
    fn round_trip_tensors_and_counters() {
        let dir = temp_dir("ckpt");
        let p = dir.join("step_100.safetensors");
        let mut meta = HashMap::new();
        put_counter(&mut meta, "step", 100);
        put_counter(&mut meta, "rng_offset", u64::MAX);
        meta.insert("preset".into(), "mnist-mlp".into());
        save_tensors(&p, &sample(), meta.clone()).unwrap();
        let (loaded, m) = load_tensors(&p).unwrap();
        assert_eq!(m, meta);
        let mut want = sample();
        want.sort_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(loaded.len(), want.len());
        for (a, b) in loaded.iter().zip(&want) {
            assert_eq!((&a.0, &a.1), (&b.0, &b.1));
            // Bit-exact, including -0.0.
            let bits = |v: &Vec<f32>| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&a.2), bits(&b.2), "{}", a.0);
        }
        assert_eq!(find_tensor(&loaded, "d.b0").unwrap().1, vec![3]);
        assert_eq!(metadata_u64(&m, "step", &p).unwrap(), 100);
        assert_eq!(metadata_u32(&m, "step", &p).unwrap(), 100);
        assert!(metadata_u32(&m, "rng_offset", &p).is_err());
        let msg = metadata_u64(&m, "preset", &p).unwrap_err().to_string();
        assert!(
            msg.contains("step_100.safetensors") && msg.contains("preset"),
            "{msg}"
        );
        // No temp file left behind.
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);

        // Without metadata.
        save_tensors(&p, &sample()[..1], HashMap::new()).unwrap();
        let (l, m) = load_tensors(&p).unwrap();
        assert!(m.is_empty());
        assert_eq!(l.len(), 1);
        std::fs::remove_dir_all(dir).ok();
    }

    #[test]
    fn truncated_or_foreign_file_is_clear_error() {
        let dir = temp_dir("ckpt-bad");
        let p = dir.join("ckpt.safetensors");
        save_tensors(&p, &sample(), HashMap::new()).unwrap();
        let bytes = std::fs::read(&p).unwrap();
        for cut in [bytes.len() - 4, 20, 3, 0] {
            std::fs::write(&p, &bytes[..cut]).unwrap();
            let err = load_tensors(&p).unwrap_err();
            match &err {
                Error::InvalidData { file, field, .. } => {
                    assert_eq!(file, &p);
                    assert_eq!(field, "safetensors header");
                }
                e => panic!("cut at {cut}: expected InvalidData, got {e:?}"),
            }
            assert!(err.to_string().contains("ckpt.safetensors"));
        }
        std::fs::write(&p, b"PK\x03\x04 this is a zip, not safetensors").unwrap();
        assert!(matches!(
            load_tensors(&p).unwrap_err(),
            Error::InvalidData { .. }
        ));
        assert!(matches!(
            load_tensors(dir.join("missing")).unwrap_err(),
            Error::Io { .. }
        ));
        std::fs::remove_dir_all(dir).ok();
    }

    #[test]
    fn wrong_dtype_and_bad_inputs() {
        let dir = temp_dir("ckpt-dtype");
        let p = dir.join("f16.safetensors");
        let raw = [0u8; 4];
        let v = TensorView::new(Dtype::F16, vec![2], &raw).unwrap();
        std::fs::write(&p, safetensors::serialize([("w", v)], None).unwrap()).unwrap();
        let msg = load_tensors(&p).unwrap_err().to_string();
        assert!(
            msg.contains("f16.safetensors") && msg.contains("dtype"),
            "{msg}"
        );
        assert!(msg.contains("expected F32") && msg.contains("F16"), "{msg}");

        let bad_shape = vec![("w".to_string(), vec![2, 2], vec![1.0; 3])];
        assert!(save_tensors(&p, &bad_shape, HashMap::new()).is_err());
        let dup = vec![
            ("w".to_string(), vec![1], vec![1.0]),
            ("w".to_string(), vec![1], vec![2.0]),
        ];
        assert!(save_tensors(&p, &dup, HashMap::new()).is_err());
        // The failed saves did not touch the existing file.
        assert!(load_tensors(&p).unwrap_err().to_string().contains("F16"));
        std::fs::remove_dir_all(dir).ok();
    }
}
