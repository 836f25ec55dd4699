//! Trained networks in other tools' formats: the generator as an ONNX model.

pub mod onnx;
pub mod onnx_proto;
