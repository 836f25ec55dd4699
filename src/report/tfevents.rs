//! TensorBoard's event-file format: TFRecord framing (length, masked CRC-32C of the length,
//! data, masked CRC-32C of the data) around `Event` protobuf messages, and the reader that
//! checks both CRCs and decodes the messages back (the tests read runs the way TensorBoard
//! does).
//!
//! The messages are the subset of tensorboard/compat/proto/{event,summary,tensor,
//! tensor_shape}.proto that gan-gpu writes, derived with prost (same field numbers, so no
//! `protoc` at build time).

use std::path::Path;

use prost::Message;

use crate::error::{Error, Result};

/// `Event` (event.proto): one record of an event file.
#[derive(Clone, PartialEq, Message)]
pub struct Event {
    #[prost(double, tag = "1")]
    pub wall_time: f64,
    #[prost(int64, tag = "2")]
    pub step: i64,
    #[prost(oneof = "EventWhat", tags = "3, 5, 7")]
    pub what: Option<EventWhat>,
}

#[derive(Clone, PartialEq, prost::Oneof)]
pub enum EventWhat {
    /// The first record of every file: "brain.Event:2".
    #[prost(string, tag = "3")]
    FileVersion(String),
    #[prost(message, tag = "5")]
    Summary(Summary),
    /// A resumed run writes START at its first step, so TensorBoard drops the steps the
    /// interrupted run had logged after its last checkpoint (they are logged again).
    #[prost(message, tag = "7")]
    SessionLog(SessionLog),
}

/// `SessionLog` (event.proto).
#[derive(Clone, PartialEq, Message)]
pub struct SessionLog {
    /// 1 = START.
    #[prost(int32, tag = "1")]
    pub status: i32,
    #[prost(string, tag = "2")]
    pub checkpoint_path: String,
    #[prost(string, tag = "3")]
    pub msg: String,
}

pub const SESSION_START: i32 = 1;

/// `Summary` (summary.proto).
#[derive(Clone, PartialEq, Message)]
pub struct Summary {
    #[prost(message, repeated, tag = "1")]
    pub value: Vec<SummaryValue>,
}

/// `Summary.Value`.
#[derive(Clone, PartialEq, Message)]
pub struct SummaryValue {
    #[prost(string, tag = "1")]
    pub tag: String,
    #[prost(message, optional, tag = "9")]
    pub metadata: Option<SummaryMetadata>,
    #[prost(oneof = "SummaryData", tags = "2, 4, 8")]
    pub value: Option<SummaryData>,
}

#[derive(Clone, PartialEq, prost::Oneof)]
pub enum SummaryData {
    #[prost(float, tag = "2")]
    SimpleValue(f32),
    #[prost(message, tag = "4")]
    Image(SummaryImage),
    #[prost(message, tag = "8")]
    Tensor(TensorProto),
}

/// `Summary.Image`: an encoded PNG with its size.
#[derive(Clone, PartialEq, Message)]
pub struct SummaryImage {
    #[prost(int32, tag = "1")]
    pub height: i32,
    #[prost(int32, tag = "2")]
    pub width: i32,
    /// 1 grayscale, 3 RGB, 4 RGBA.
    #[prost(int32, tag = "3")]
    pub colorspace: i32,
    #[prost(bytes = "vec", tag = "4")]
    pub encoded_image_string: Vec<u8>,
}

/// `SummaryMetadata`: which plugin reads a value (the text plugin for the config).
#[derive(Clone, PartialEq, Message)]
pub struct SummaryMetadata {
    #[prost(message, optional, tag = "1")]
    pub plugin_data: Option<PluginData>,
    #[prost(string, tag = "2")]
    pub display_name: String,
    #[prost(string, tag = "3")]
    pub summary_description: String,
}

#[derive(Clone, PartialEq, Message)]
pub struct PluginData {
    #[prost(string, tag = "1")]
    pub plugin_name: String,
    #[prost(bytes = "vec", tag = "2")]
    pub content: Vec<u8>,
}

/// `TensorProto` (tensor.proto), as the text plugin reads it: a DT_STRING scalar.
#[derive(Clone, PartialEq, Message)]
pub struct TensorProto {
    #[prost(int32, tag = "1")]
    pub dtype: i32,
    #[prost(message, optional, tag = "2")]
    pub tensor_shape: Option<TensorShapeProto>,
    #[prost(bytes = "vec", repeated, tag = "8")]
    pub string_val: Vec<Vec<u8>>,
}

/// types.proto's DT_STRING.
pub const DT_STRING: i32 = 7;

/// `TensorShapeProto` (tensor_shape.proto); no dims: a scalar.
#[derive(Clone, PartialEq, Message)]
pub struct TensorShapeProto {
    #[prost(message, repeated, tag = "2")]
    pub dim: Vec<TensorShapeDim>,
}

#[derive(Clone, PartialEq, Message)]
pub struct TensorShapeDim {
    #[prost(int64, tag = "1")]
    pub size: i64,
}

/// TFRecord's CRC: CRC-32C rotated right by 15 bits plus a constant, so a CRC stored inside
/// CRC-covered data does not checksum to a fixed value.
pub fn masked_crc(bytes: &[u8]) -> u32 {
    let crc = crc32c::crc32c(bytes);
    crc.rotate_right(15).wrapping_add(0xa282_ead8)
}

/// One TFRecord: u64 length (little-endian), its masked CRC, the data, the data's masked CRC.
pub fn frame_record(data: &[u8]) -> Vec<u8> {
    let length = (data.len() as u64).to_le_bytes();
    let mut out = Vec::with_capacity(data.len() + 16);
    out.extend_from_slice(&length);
    out.extend_from_slice(&masked_crc(&length).to_le_bytes());
    out.extend_from_slice(data);
    out.extend_from_slice(&masked_crc(data).to_le_bytes());
    out
}

/// The records of a TFRecord file's bytes, both CRCs of each checked; `file` is named in
/// errors. A record cut short at the end (a run still writing) is an error too: callers
/// reading a live file read it after a flush.
pub fn read_records(bytes: &[u8], file: &Path) -> Result<Vec<Vec<u8>>> {
    let mut records = Vec::new();
    let mut at = 0usize;
    let word = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().expect("4 bytes"));
    while at < bytes.len() {
        let field = format!("record {} at byte {at}", records.len());
        if bytes.len() - at < 12 {
            return Err(Error::invalid(
                file,
                field,
                "12 header bytes",
                format!("{}", bytes.len() - at),
            ));
        }
        let length_bytes = &bytes[at..at + 8];
        let found = word(at + 8);
        if masked_crc(length_bytes) != found {
            return Err(Error::invalid(
                file,
                field,
                format!("length CRC {:#010x}", masked_crc(length_bytes)),
                format!("{found:#010x}"),
            ));
        }
        let length = u64::from_le_bytes(length_bytes.try_into().expect("8 bytes"));
        let start = at + 12;
        let available = (bytes.len() - start) as u64;
        if length.saturating_add(4) > available {
            return Err(Error::invalid(
                file,
                field,
                format!("{length} data bytes and a CRC"),
                format!("{available} bytes left"),
            ));
        }
        let end = start + length as usize;
        let data = &bytes[start..end];
        let found = word(end);
        if masked_crc(data) != found {
            return Err(Error::invalid(
                file,
                field,
                format!("data CRC {:#010x}", masked_crc(data)),
                format!("{found:#010x}"),
            ));
        }
        records.push(data.to_vec());
        at = end + 4;
    }
    Ok(records)
}

/// Every event of an event file, framing and CRCs checked and each message decoded.
pub fn read_events(path: &Path) -> Result<Vec<Event>> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    read_records(&bytes, path)?
        .iter()
        .enumerate()
        .map(|(i, record)| {
            Event::decode(record.as_slice()).map_err(|e| {
                Error::invalid(
                    path,
                    format!("record {i}"),
                    "an Event message",
                    e.to_string(),
                )
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32c_and_its_mask_match_known_values() {
        // CRC-32C of "123456789" is the standard check value 0xE3069283.
        assert_eq!(crc32c::crc32c(b"123456789"), 0xE306_9283);
        // TensorFlow's MaskedCrc: unmasking (subtract the constant, rotate left 15) gives the CRC.
        let data = b"brain.Event:2";
        let unmasked = masked_crc(data).wrapping_sub(0xa282_ead8).rotate_left(15);
        assert_eq!(unmasked, crc32c::crc32c(data));
        assert_ne!(masked_crc(data), crc32c::crc32c(data));
    }

    #[test]
    fn records_round_trip_and_corruption_is_named() {
        let event = Event {
            wall_time: 1.5,
            step: 7,
            what: Some(EventWhat::Summary(Summary {
                value: vec![SummaryValue {
                    tag: "loss/d".into(),
                    metadata: None,
                    value: Some(SummaryData::SimpleValue(0.25)),
                }],
            })),
        };
        let mut bytes = frame_record(&event.encode_to_vec());
        bytes.extend(frame_record(b"second"));
        let path = Path::new("events.test");
        let records = read_records(&bytes, path).unwrap();
        assert_eq!(records.len(), 2);
        assert_eq!(Event::decode(records[0].as_slice()).unwrap(), event);
        assert_eq!(records[1], b"second");
        // A flipped data byte fails the data CRC, naming the record.
        let mut bad = bytes.clone();
        bad[14] ^= 1;
        let msg = read_records(&bad, path).unwrap_err().to_string();
        assert!(
            msg.contains("record 0") && msg.contains("data CRC"),
            "{msg}"
        );
        // A torn tail is refused.
        let msg = read_records(&bytes[..bytes.len() - 2], path)
            .unwrap_err()
            .to_string();
        assert!(msg.contains("record 1"), "{msg}");
    }
}
