//! TEMPORARY STUB (replaced by the conv-kernels branch).
#![allow(unused, clippy::all)]
use crate::error::{Error, Result};
use crate::gpu::{Dispatch, GpuContext, Tensor};
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ConvGeometry {
    pub batch: usize,
    pub channels: usize,
    pub height: usize,
    pub width: usize,
    pub kernel_h: usize,
    pub kernel_w: usize,
    pub stride: usize,
    pub padding: usize,
}
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConvOp {
    pub geometry: ConvGeometry,
    pub out_channels: usize,
    pub transposed: bool,
}
pub struct ConvScratch;
impl ConvScratch {
    pub fn new(ctx: &GpuContext, label: &str, op: &ConvOp) -> Result<ConvScratch> {
        Err(Error::Input("stub".into()))
    }
}
impl ConvOp {
    pub fn conv2d(
        batch: usize,
        i: usize,
        o: usize,
        h: usize,
        w: usize,
        kh: usize,
        kw: usize,
        s: usize,
        p: usize,
    ) -> ConvOp {
        todo!()
    }
    pub fn conv_transpose2d(
        batch: usize,
        i: usize,
        o: usize,
        h: usize,
        w: usize,
        kh: usize,
        kw: usize,
        s: usize,
        p: usize,
    ) -> ConvOp {
        todo!()
    }
    pub fn forward(
        &self,
        ctx: &GpuContext,
        x: &Tensor,
        weight: &Tensor,
        bias: Option<&Tensor>,
        y: &Tensor,
        scratch: &ConvScratch,
    ) -> Result<Vec<Dispatch>> {
        todo!()
    }
    pub fn backward_input(
        &self,
        ctx: &GpuContext,
        dy: &Tensor,
        weight: &Tensor,
        dx: &Tensor,
        scratch: &ConvScratch,
    ) -> Result<Vec<Dispatch>> {
        todo!()
    }
    pub fn backward_params(
        &self,
        ctx: &GpuContext,
        dy: &Tensor,
        weight_grad: &Tensor,
        bias_grad: Option<&Tensor>,
        accumulate: bool,
        scratch: &ConvScratch,
    ) -> Result<Vec<Dispatch>> {
        todo!()
    }
}
