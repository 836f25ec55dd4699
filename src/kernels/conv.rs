//! 2-D convolution (shaders/conv.wgsl) as im2col + the matmul kernels, with PyTorch's semantics
//! for Conv2d and ConvTranspose2d (dilation 1, groups 1, one stride and one padding for both
//! axes, any kernel height × width).
//!
//! Activations are NCHW. A Conv2d weight is PyTorch's [out, in·kh·kw]; a ConvTranspose2d weight
//! is PyTorch's [in, out·kh·kw]. Both are `[ConvOp::out_channels, patch_len]` here, because a
//! ConvTranspose2d is described by the Conv2d whose input gradient it is: its `geometry` is its
//! OUTPUT image and its `out_channels` its input channels. Nothing uses float atomics: col2im
//! gathers per image element, so every result is the same bits every run.

use super::expect_len;
use super::matmul::{Layout, MatmulOptions, matmul};
use crate::error::{Error, Result};
use crate::gpu::{Access, Dispatch, GpuContext, KernelSpec, Tensor, workgroups_1d};

/// The image side of a convolution: for Conv2d its input, for ConvTranspose2d its output.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ConvGeometry {
    pub batch: usize,
    /// Channels of the image side.
    pub channels: usize,
    pub height: usize,
    pub width: usize,
    pub kernel_h: usize,
    pub kernel_w: usize,
    pub stride: usize,
    pub padding: usize,
}

impl ConvGeometry {
    /// Rows of output positions (the "column" side): (height + 2·padding − kernel_h) / stride + 1.
    /// Meaningful only for a geometry that passes `validate`.
    pub fn out_height(&self) -> usize {
        (self.height + 2 * self.padding).saturating_sub(self.kernel_h) / self.stride.max(1) + 1
    }

    pub fn out_width(&self) -> usize {
        (self.width + 2 * self.padding).saturating_sub(self.kernel_w) / self.stride.max(1) + 1
    }

    /// channels·kernel_h·kernel_w: columns of the column matrix.
    pub fn patch_len(&self) -> usize {
        self.channels * self.kernel_h * self.kernel_w
    }

    /// batch·out_height·out_width: rows of the column matrix.
    pub fn positions(&self) -> usize {
        self.batch * self.out_height() * self.out_width()
    }

    /// Elements of the image [batch, channels, height, width].
    pub fn image_len(&self) -> usize {
        self.batch * self.channels * self.height * self.width
    }

    /// Errors naming the numbers when a size or the stride is 0 or the kernel does not fit in
    /// the padded image.
    pub fn validate(&self) -> Result<()> {
        let sizes = [
            ("batch", self.batch),
            ("channels", self.channels),
            ("height", self.height),
            ("width", self.width),
            ("kernel height", self.kernel_h),
            ("kernel width", self.kernel_w),
            ("stride", self.stride),
        ];
        for (name, value) in sizes {
            if value == 0 {
                return Err(Error::Input(format!(
                    "convolution: {name} is 0; it must be at least 1 ({self:?})"
                )));
            }
        }
        for (axis, kernel, size) in [
            ("height", self.kernel_h, self.height),
            ("width", self.kernel_w, self.width),
        ] {
            if kernel > size + 2 * self.padding {
                return Err(Error::Input(format!(
                    "convolution: kernel {axis} {kernel} is larger than the padded image {axis} \
                     {size} + 2·{} = {}",
                    self.padding,
                    size + 2 * self.padding
                )));
            }
        }
        let columns = self.positions() as u64 * self.patch_len() as u64;
        if columns > u32::MAX as u64 || self.image_len() as u64 > u32::MAX as u64 {
            return Err(Error::Input(format!(
                "convolution: {} positions × {} patch elements is too large for 32-bit indexing",
                self.positions(),
                self.patch_len()
            )));
        }
        Ok(())
    }
}

/// Mirrors `Params` in shaders/conv.wgsl.
#[repr(C)]
#[derive(Clone, Copy, Default, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    batch: u32,
    channels: u32,
    height: u32,
    width: u32,
    kernel_h: u32,
    kernel_w: u32,
    stride: u32,
    padding: u32,
    out_height: u32,
    out_width: u32,
    spatial: u32,
    n: u32,
}

impl Params {
    fn geometry(g: ConvGeometry, n: usize) -> Params {
        Params {
            batch: g.batch as u32,
            channels: g.channels as u32,
            height: g.height as u32,
            width: g.width as u32,
            kernel_h: g.kernel_h as u32,
            kernel_w: g.kernel_w as u32,
            stride: g.stride as u32,
            padding: g.padding as u32,
            out_height: g.out_height() as u32,
            out_width: g.out_width() as u32,
            spatial: 0,
            n: n as u32,
        }
    }
}

fn flag(on: bool) -> f64 {
    if on { 1.0 } else { 0.0 }
}

#[allow(clippy::too_many_arguments)]
fn conv_dispatch(
    ctx: &GpuContext,
    entry: &'static str,
    params: Params,
    input: &Tensor,
    bias: Option<&Tensor>,
    output: &Tensor,
    accumulate: bool,
    workgroups: [u32; 3],
) -> Result<Dispatch> {
    let bias_tensor = match bias {
        Some(bias) => bias,
        None => ctx.placeholder()?,
    };
    ctx.dispatch(KernelSpec {
        shader: "conv",
        entry,
        constants: vec![
            ("HAS_BIAS", flag(bias.is_some())),
            ("ACCUMULATE", flag(accumulate)),
        ],
        params: bytemuck::bytes_of(&params),
        tensors: vec![
            (input, Access::Read),
            (bias_tensor, Access::Read),
            (output, Access::ReadWrite),
        ],
        workgroups,
    })
}

/// cols[(b·OH + oy)·OW + ox, (c·kh + ky)·kw + kx] = image[b, c, oy·s − p + ky, ox·s − p + kx]
/// (0 outside the image).
pub fn im2col(
    ctx: &GpuContext,
    image: &Tensor,
    cols: &Tensor,
    g: ConvGeometry,
) -> Result<Dispatch> {
    g.validate()?;
    expect_len("im2col", "image", image.len(), g.image_len())?;
    let n = g.positions() * g.patch_len();
    expect_len("im2col", "cols", cols.len(), n)?;
    let params = Params::geometry(g, n);
    let workgroups = workgroups_1d(n, 256);
    conv_dispatch(ctx, "im2col", params, image, None, cols, false, workgroups)
}

/// The adjoint of `im2col`: image[b, c, y, x] = bias[c] (or 0) + Σ of every cols element im2col
/// would read from (b, c, y, x). Overwrites image; one invocation gathers per image element.
pub fn col2im(
    ctx: &GpuContext,
    cols: &Tensor,
    image: &Tensor,
    g: ConvGeometry,
    bias: Option<&Tensor>,
) -> Result<Dispatch> {
    g.validate()?;
    expect_len("col2im", "cols", cols.len(), g.positions() * g.patch_len())?;
    expect_len("col2im", "image", image.len(), g.image_len())?;
    if let Some(bias) = bias {
        expect_len("col2im", "bias", bias.len(), g.channels)?;
    }
    let n = g.image_len();
    let params = Params::geometry(g, n);
    let workgroups = workgroups_1d(n, 256);
    conv_dispatch(ctx, "col2im", params, cols, bias, image, false, workgroups)
}

/// The spatial size P of an NCHW tensor of `len` elements with this batch and channel count.
fn spatial_of(
    kernel: &str,
    operand: &str,
    len: usize,
    batch: usize,
    channels: usize,
) -> Result<usize> {
    if batch == 0 || channels == 0 || len == 0 || !len.is_multiple_of(batch * channels) {
        return Err(Error::Input(format!(
            "{kernel}: {operand} has {len} elements, not a positive multiple of batch {batch} × channels {channels}"
        )));
    }
    Ok(len / (batch * channels))
}

fn channel_params(batch: usize, channels: usize, spatial: usize, n: usize) -> Params {
    Params {
        batch: batch as u32,
        channels: channels as u32,
        spatial: spatial as u32,
        n: n as u32,
        ..Default::default()
    }
}

/// out[b, c, p] = rows[b·P + p, c] + bias[c] (or 0): matmul rows → NCHW.
pub fn rows_to_channels(
    ctx: &GpuContext,
    rows: &Tensor,
    out: &Tensor,
    batch: usize,
    channels: usize,
    bias: Option<&Tensor>,
) -> Result<Dispatch> {
    let spatial = spatial_of("rows_to_channels", "out", out.len(), batch, channels)?;
    expect_len("rows_to_channels", "rows", rows.len(), out.len())?;
    if let Some(bias) = bias {
        expect_len("rows_to_channels", "bias", bias.len(), channels)?;
    }
    let n = out.len();
    let params = channel_params(batch, channels, spatial, n);
    let workgroups = workgroups_1d(n, 256);
    conv_dispatch(
        ctx,
        "rows_to_channels",
        params,
        rows,
        bias,
        out,
        false,
        workgroups,
    )
}

/// rows[b·P + p, c] = x[b, c, p]: NCHW → matmul rows.
pub fn channels_to_rows(
    ctx: &GpuContext,
    x: &Tensor,
    rows: &Tensor,
    batch: usize,
    channels: usize,
) -> Result<Dispatch> {
    let spatial = spatial_of("channels_to_rows", "x", x.len(), batch, channels)?;
    expect_len("channels_to_rows", "rows", rows.len(), x.len())?;
    let n = x.len();
    let params = channel_params(batch, channels, spatial, n);
    let workgroups = workgroups_1d(n, 256);
    conv_dispatch(
        ctx,
        "channels_to_rows",
        params,
        x,
        None,
        rows,
        false,
        workgroups,
    )
}

/// out[c] (+)= Σ_b Σ_p x[b, c, p]: one workgroup per channel, a fixed-order tree
/// (deterministic); `accumulate` adds to out.
pub fn channel_sum(
    ctx: &GpuContext,
    x: &Tensor,
    out: &Tensor,
    batch: usize,
    channels: usize,
    accumulate: bool,
) -> Result<Dispatch> {
    let spatial = spatial_of("channel_sum", "x", x.len(), batch, channels)?;
    expect_len("channel_sum", "out", out.len(), channels)?;
    if channels > 65_535 {
        return Err(Error::Input(format!(
            "channel_sum: {channels} channels is more than one dispatch's 65,535 workgroups"
        )));
    }
    let params = channel_params(batch, channels, spatial, x.len());
    let workgroups = [channels as u32, 1, 1];
    conv_dispatch(
        ctx,
        "channel_sum",
        params,
        x,
        None,
        out,
        accumulate,
        workgroups,
    )
}

/// One convolution layer's operation, composed from the kernels above and `matmul`.
///
/// `transposed == false`: Conv2d on input x [B, geometry.channels, H, W] → y [B, out_channels,
/// OH, OW], weight [out_channels, patch_len].
/// `transposed == true`: ConvTranspose2d, the input gradient of that Conv2d: its input is
/// [B, out_channels, OH, OW] and its output the image [B, geometry.channels, H, W]; weight
/// (PyTorch's [in, out, kh, kw]) is again [out_channels, patch_len].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConvOp {
    pub geometry: ConvGeometry,
    pub out_channels: usize,
    pub transposed: bool,
}

/// Scratch tensors one use of a `ConvOp` needs; `forward` leaves in them what `backward_params`
/// needs about x, so use one scratch per layer (not shared between layers).
pub struct ConvScratch {
    /// [positions, patch_len]: Conv2d: im2col(x), kept for the weight gradient;
    /// ConvTranspose2d: the forward's column matrix (temporary).
    pub cols: Tensor,
    /// [positions, out_channels]: Conv2d: the forward's output rows (temporary);
    /// ConvTranspose2d: x as rows, kept for the weight gradient.
    pub rows: Tensor,
    /// [positions, out_channels]: Conv2d: dy as rows; ConvTranspose2d: dx as rows.
    pub grad_rows: Tensor,
    /// [positions, patch_len]: Conv2d: the input gradient's columns; ConvTranspose2d: im2col(dy).
    pub grad_cols: Tensor,
}

impl ConvScratch {
    pub fn new(ctx: &GpuContext, label: &str, op: &ConvOp) -> Result<ConvScratch> {
        op.geometry.validate()?;
        let g = op.geometry;
        let cols_shape = [g.positions(), g.patch_len()];
        let rows_shape = [g.positions(), op.out_channels];
        Ok(ConvScratch {
            cols: ctx.zeros(&format!("{label} cols"), &cols_shape)?,
            rows: ctx.zeros(&format!("{label} rows"), &rows_shape)?,
            grad_rows: ctx.zeros(&format!("{label} grad rows"), &rows_shape)?,
            grad_cols: ctx.zeros(&format!("{label} grad cols"), &cols_shape)?,
        })
    }
}

impl ConvOp {
    /// Conv2d(in_c, out_c, (kh, kw), stride, padding) on [batch, in_c, h, w].
    #[allow(clippy::too_many_arguments)]
    pub fn conv2d(
        batch: usize,
        in_c: usize,
        out_c: usize,
        h: usize,
        w: usize,
        kh: usize,
        kw: usize,
        stride: usize,
        padding: usize,
    ) -> Result<ConvOp> {
        let op = ConvOp {
            geometry: ConvGeometry {
                batch,
                channels: in_c,
                height: h,
                width: w,
                kernel_h: kh,
                kernel_w: kw,
                stride,
                padding,
            },
            out_channels: out_c,
            transposed: false,
        };
        op.validate()?;
        Ok(op)
    }

    /// ConvTranspose2d(in_c, out_c, (kh, kw), stride, padding) on [batch, in_c, h, w]: output
    /// [batch, out_c, (h − 1)·stride − 2·padding + kh, (w − 1)·stride − 2·padding + kw].
    #[allow(clippy::too_many_arguments)]
    pub fn conv_transpose2d(
        batch: usize,
        in_c: usize,
        out_c: usize,
        h: usize,
        w: usize,
        kh: usize,
        kw: usize,
        stride: usize,
        padding: usize,
    ) -> Result<ConvOp> {
        let out_size = |size: usize, kernel: usize, axis: &str| -> Result<usize> {
            let full = size.saturating_sub(1) * stride + kernel;
            if size == 0 || kernel == 0 || stride == 0 || full <= 2 * padding {
                return Err(Error::Input(format!(
                    "conv_transpose2d: input {axis} {size}, kernel {kernel}, stride {stride}, padding \
                     {padding} give no output ({axis} − 1)·stride − 2·padding + kernel ≤ 0"
                )));
            }
            Ok(full - 2 * padding)
        };
        let op = ConvOp {
            geometry: ConvGeometry {
                batch,
                channels: out_c,
                height: out_size(h, kh, "height")?,
                width: out_size(w, kw, "width")?,
                kernel_h: kh,
                kernel_w: kw,
                stride,
                padding,
            },
            out_channels: in_c,
            transposed: true,
        };
        op.validate()?;
        Ok(op)
    }

    fn validate(&self) -> Result<()> {
        self.geometry.validate()?;
        if self.out_channels == 0 {
            return Err(Error::Input(
                "convolution: out_channels is 0; it must be at least 1".into(),
            ));
        }
        Ok(())
    }

    /// [B, C, H, W] of the image side and of the column side.
    fn image_shape(&self) -> [usize; 4] {
        let g = self.geometry;
        [g.batch, g.channels, g.height, g.width]
    }

    fn column_side_shape(&self) -> [usize; 4] {
        let g = self.geometry;
        [g.batch, self.out_channels, g.out_height(), g.out_width()]
    }

    /// [B, C, H, W] of the layer's input.
    pub fn input_shape(&self) -> [usize; 4] {
        if self.transposed {
            self.column_side_shape()
        } else {
            self.image_shape()
        }
    }

    /// [B, C, H, W] of the layer's output.
    pub fn output_shape(&self) -> [usize; 4] {
        if self.transposed {
            self.image_shape()
        } else {
            self.column_side_shape()
        }
    }

    /// [rows, cols] of the weight on the GPU: Conv2d [out, in·kh·kw], ConvTranspose2d
    /// [in, out·kh·kw] (PyTorch's layouts flattened).
    pub fn weight_shape(&self) -> [usize; 2] {
        [self.out_channels, self.geometry.patch_len()]
    }

    /// Multiply-adds of one forward (for GFLOP/s: 2× this); the two backward matmuls have the
    /// same count.
    pub fn macs(&self) -> u64 {
        self.geometry.positions() as u64
            * self.out_channels as u64
            * self.geometry.patch_len() as u64
    }

    /// Channels of the layer's output (the bias length).
    fn output_channels(&self) -> usize {
        self.output_shape()[1]
    }

    fn check(
        &self,
        kernel: &str,
        operands: &[(&str, &Tensor, usize)],
        scratch: &ConvScratch,
    ) -> Result<()> {
        self.validate()?;
        for &(name, tensor, len) in operands {
            expect_len(kernel, name, tensor.len(), len)?;
        }
        let g = self.geometry;
        expect_len(
            kernel,
            "scratch cols",
            scratch.cols.len(),
            g.positions() * g.patch_len(),
        )?;
        expect_len(
            kernel,
            "scratch rows",
            scratch.rows.len(),
            g.positions() * self.out_channels,
        )?;
        Ok(())
    }

    fn len(shape: [usize; 4]) -> usize {
        shape.iter().product()
    }

    /// y = layer(x) (+ bias per output channel). Leaves in `scratch` what `backward_params`
    /// needs about x (Conv2d: im2col(x); ConvTranspose2d: x as rows).
    pub fn forward(
        &self,
        ctx: &GpuContext,
        x: &Tensor,
        weight: &Tensor,
        bias: Option<&Tensor>,
        y: &Tensor,
        scratch: &ConvScratch,
    ) -> Result<Vec<Dispatch>> {
        let kernel = if self.transposed {
            "conv_transpose2d forward"
        } else {
            "conv2d forward"
        };
        let mut operands = vec![
            ("x", x, Self::len(self.input_shape())),
            ("weight", weight, self.weight_shape().iter().product()),
            ("y", y, Self::len(self.output_shape())),
        ];
        if let Some(bias) = bias {
            operands.push(("bias", bias, self.output_channels()));
        }
        self.check(kernel, &operands, scratch)?;
        let g = self.geometry;
        let (p, k, c) = (g.positions(), g.patch_len(), self.out_channels);
        if self.transposed {
            // xrows [P, Cin] · W [Cin, K] = cols [P, K], then scatter-free col2im (+ bias).
            Ok(vec![
                channels_to_rows(ctx, x, &scratch.rows, g.batch, c)?,
                matmul(
                    ctx,
                    Layout::XW,
                    &scratch.rows,
                    weight,
                    &scratch.cols,
                    (p, k, c),
                    MatmulOptions::default(),
                )?,
                col2im(ctx, &scratch.cols, y, g, bias)?,
            ])
        } else {
            // cols [P, K] · Wᵀ (W [Cout, K]) = rows [P, Cout], then NCHW (+ bias).
            Ok(vec![
                im2col(ctx, x, &scratch.cols, g)?,
                matmul(
                    ctx,
                    Layout::DyWt,
                    &scratch.cols,
                    weight,
                    &scratch.rows,
                    (p, c, k),
                    MatmulOptions::default(),
                )?,
                rows_to_channels(ctx, &scratch.rows, y, g.batch, c, bias)?,
            ])
        }
    }

    /// dx = (∂layer/∂x)ᵀ dy (overwrites dx).
    pub fn backward_input(
        &self,
        ctx: &GpuContext,
        dy: &Tensor,
        weight: &Tensor,
        dx: &Tensor,
        scratch: &ConvScratch,
    ) -> Result<Vec<Dispatch>> {
        let kernel = if self.transposed {
            "conv_transpose2d backward_input"
        } else {
            "conv2d backward_input"
        };
        let operands = [
            ("dy", dy, Self::len(self.output_shape())),
            ("weight", weight, self.weight_shape().iter().product()),
            ("dx", dx, Self::len(self.input_shape())),
        ];
        self.check(kernel, &operands, scratch)?;
        let g = self.geometry;
        let (p, k, c) = (g.positions(), g.patch_len(), self.out_channels);
        if self.transposed {
            // dcols = im2col(dy); dxrows [P, Cin] = dcols · Wᵀ; NCHW.
            Ok(vec![
                im2col(ctx, dy, &scratch.grad_cols, g)?,
                matmul(
                    ctx,
                    Layout::DyWt,
                    &scratch.grad_cols,
                    weight,
                    &scratch.grad_rows,
                    (p, c, k),
                    MatmulOptions::default(),
                )?,
                rows_to_channels(ctx, &scratch.grad_rows, dx, g.batch, c, None)?,
            ])
        } else {
            // dyrows [P, Cout]; dcols [P, K] = dyrows · W; col2im.
            Ok(vec![
                channels_to_rows(ctx, dy, &scratch.grad_rows, g.batch, c)?,
                matmul(
                    ctx,
                    Layout::XW,
                    &scratch.grad_rows,
                    weight,
                    &scratch.grad_cols,
                    (p, k, c),
                    MatmulOptions::default(),
                )?,
                col2im(ctx, &scratch.grad_cols, dx, g, None)?,
            ])
        }
    }

    /// dweight (+)= ∂L/∂W and dbias (+)= Σ dy per output channel, from dy and the x that
    /// `forward` last saw through the SAME scratch (`accumulate` adds to both). Recomputes its
    /// own view of dy, so it does not depend on `backward_input` having run.
    pub fn backward_params(
        &self,
        ctx: &GpuContext,
        dy: &Tensor,
        weight_grad: &Tensor,
        bias_grad: Option<&Tensor>,
        accumulate: bool,
        scratch: &ConvScratch,
    ) -> Result<Vec<Dispatch>> {
        let kernel = if self.transposed {
            "conv_transpose2d backward_params"
        } else {
            "conv2d backward_params"
        };
        let mut operands = vec![
            ("dy", dy, Self::len(self.output_shape())),
            (
                "weight_grad",
                weight_grad,
                self.weight_shape().iter().product(),
            ),
        ];
        if let Some(bias_grad) = bias_grad {
            operands.push(("bias_grad", bias_grad, self.output_channels()));
        }
        self.check(kernel, &operands, scratch)?;
        let g = self.geometry;
        let (p, k, c) = (g.positions(), g.patch_len(), self.out_channels);
        let options = MatmulOptions {
            accumulate,
            ..Default::default()
        };
        let mut dispatches = if self.transposed {
            // dW [Cin, K] (+)= xrowsᵀ · im2col(dy).
            vec![
                im2col(ctx, dy, &scratch.grad_cols, g)?,
                matmul(
                    ctx,
                    Layout::XtDy,
                    &scratch.rows,
                    &scratch.grad_cols,
                    weight_grad,
                    (c, k, p),
                    options,
                )?,
            ]
        } else {
            // dW [Cout, K] (+)= dyrowsᵀ · cols.
            vec![
                channels_to_rows(ctx, dy, &scratch.grad_rows, g.batch, c)?,
                matmul(
                    ctx,
                    Layout::XtDy,
                    &scratch.grad_rows,
                    &scratch.cols,
                    weight_grad,
                    (c, k, p),
                    options,
                )?,
            ]
        };
        if let Some(bias_grad) = bias_grad {
            dispatches.push(channel_sum(
                ctx,
                dy,
                bias_grad,
                g.batch,
                self.output_channels(),
                accumulate,
            )?);
        }
        Ok(dispatches)
    }
}
