//! Conv2d and ConvTranspose2d in f64, written directly from PyTorch's definitions with nested
//! loops (no im2col), so they are an oracle independent of the GPU's im2col + matmul route.
//!
//! Shapes follow `kernels::conv`: `g` is the image side (Conv2d's input, ConvTranspose2d's
//! output); the column side has `g.out_height() × g.out_width()` positions. Conv2d weights are
//! [out_channels, in_channels, kh, kw], ConvTranspose2d weights [in_channels, out_channels, kh, kw],
//! both flat and row-major.

use crate::kernels::conv::ConvGeometry;

/// The image pixel that output position (oy, ox) reads through kernel tap (ky, kx), if inside.
fn tap(g: &ConvGeometry, oy: usize, ox: usize, ky: usize, kx: usize) -> Option<(usize, usize)> {
    let y = (oy * g.stride + ky).checked_sub(g.padding)?;
    let x = (ox * g.stride + kx).checked_sub(g.padding)?;
    (y < g.height && x < g.width).then_some((y, x))
}

fn image_index(g: &ConvGeometry, b: usize, c: usize, y: usize, x: usize) -> usize {
    ((b * g.channels + c) * g.height + y) * g.width + x
}

fn column_index(
    g: &ConvGeometry,
    channels: usize,
    b: usize,
    c: usize,
    oy: usize,
    ox: usize,
) -> usize {
    ((b * channels + c) * g.out_height() + oy) * g.out_width() + ox
}

/// Every (b, image channel, column channel, oy, ox, ky, kx, y, x) where a column-side value
/// meets an image pixel through a kernel tap: the sum both convolutions are made of.
fn for_each_tap(g: &ConvGeometry, column_channels: usize, mut f: impl FnMut([usize; 9])) {
    for b in 0..g.batch {
        for o in 0..column_channels {
            for oy in 0..g.out_height() {
                for ox in 0..g.out_width() {
                    for c in 0..g.channels {
                        for ky in 0..g.kernel_h {
                            for kx in 0..g.kernel_w {
                                if let Some((y, x)) = tap(g, oy, ox, ky, kx) {
                                    f([b, c, o, oy, ox, ky, kx, y, x]);
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Conv2d: y[b, o, oy, ox] = bias[o] + Σ_c,ky,kx w[o, c, ky, kx] · x[b, c, oy·s − p + ky, ox·s − p + kx].
pub fn conv2d_forward(
    x: &[f64],
    w: &[f64],
    bias: Option<&[f64]>,
    g: ConvGeometry,
    out_channels: usize,
) -> Vec<f64> {
    let mut y = vec![0.0; g.batch * out_channels * g.out_height() * g.out_width()];
    if let Some(bias) = bias {
        for (i, v) in y.iter_mut().enumerate() {
            *v = bias[(i / (g.out_height() * g.out_width())) % out_channels];
        }
    }
    let (kh, kw, ci) = (g.kernel_h, g.kernel_w, g.channels);
    for_each_tap(&g, out_channels, |[b, c, o, oy, ox, ky, kx, yy, xx]| {
        y[column_index(&g, out_channels, b, o, oy, ox)] +=
            w[((o * ci + c) * kh + ky) * kw + kx] * x[image_index(&g, b, c, yy, xx)];
    });
    y
}

/// ∂L/∂x of Conv2d given dy = ∂L/∂y.
pub fn conv2d_backward_input(
    dy: &[f64],
    w: &[f64],
    g: ConvGeometry,
    out_channels: usize,
) -> Vec<f64> {
    let mut dx = vec![0.0; g.image_len()];
    let (kh, kw, ci) = (g.kernel_h, g.kernel_w, g.channels);
    for_each_tap(&g, out_channels, |[b, c, o, oy, ox, ky, kx, yy, xx]| {
        dx[image_index(&g, b, c, yy, xx)] += w[((o * ci + c) * kh + ky) * kw + kx]
            * dy[column_index(&g, out_channels, b, o, oy, ox)];
    });
    dx
}

/// ∂L/∂w of Conv2d, [out_channels, in_channels, kh, kw].
pub fn conv2d_backward_weight(
    x: &[f64],
    dy: &[f64],
    g: ConvGeometry,
    out_channels: usize,
) -> Vec<f64> {
    let (kh, kw, ci) = (g.kernel_h, g.kernel_w, g.channels);
    let mut dw = vec![0.0; out_channels * ci * kh * kw];
    for_each_tap(&g, out_channels, |[b, c, o, oy, ox, ky, kx, yy, xx]| {
        dw[((o * ci + c) * kh + ky) * kw + kx] +=
            x[image_index(&g, b, c, yy, xx)] * dy[column_index(&g, out_channels, b, o, oy, ox)];
    });
    dw
}

/// Σ of an NCHW tensor over batch and space, per channel.
pub fn channel_sums(x: &[f64], batch: usize, channels: usize) -> Vec<f64> {
    let spatial = x.len() / (batch * channels).max(1);
    let mut sums = vec![0.0; channels];
    for (i, v) in x.iter().enumerate() {
        sums[(i / spatial) % channels] += v;
    }
    sums
}

/// ∂L/∂bias of Conv2d: Σ dy per output channel.
pub fn conv2d_backward_bias(dy: &[f64], g: ConvGeometry, out_channels: usize) -> Vec<f64> {
    channel_sums(dy, g.batch, out_channels)
}

/// ConvTranspose2d on x [B, in_channels, OH, OW] (g.out_height() × g.out_width()) into the image
/// [B, g.channels, H, W], as PyTorch defines it: every input pixel scatters x·w[ic, oc, ky, kx]
/// to y[b, oc, iy·s − p + ky, ix·s − p + kx] (taps outside are dropped), plus bias[oc].
pub fn conv_transpose2d_forward(
    x: &[f64],
    w: &[f64],
    bias: Option<&[f64]>,
    g: ConvGeometry,
    in_channels: usize,
) -> Vec<f64> {
    let mut y = vec![0.0; g.image_len()];
    if let Some(bias) = bias {
        for (i, v) in y.iter_mut().enumerate() {
            *v = bias[(i / (g.height * g.width)) % g.channels];
        }
    }
    let (kh, kw, co) = (g.kernel_h, g.kernel_w, g.channels);
    for_each_tap(&g, in_channels, |[b, oc, ic, iy, ix, ky, kx, yy, xx]| {
        y[image_index(&g, b, oc, yy, xx)] += x[column_index(&g, in_channels, b, ic, iy, ix)]
            * w[((ic * co + oc) * kh + ky) * kw + kx];
    });
    y
}

/// ∂L/∂x of ConvTranspose2d given dy = ∂L/∂y.
pub fn conv_transpose2d_backward_input(
    dy: &[f64],
    w: &[f64],
    g: ConvGeometry,
    in_channels: usize,
) -> Vec<f64> {
    let mut dx = vec![0.0; g.batch * in_channels * g.out_height() * g.out_width()];
    let (kh, kw, co) = (g.kernel_h, g.kernel_w, g.channels);
    for_each_tap(&g, in_channels, |[b, oc, ic, iy, ix, ky, kx, yy, xx]| {
        dx[column_index(&g, in_channels, b, ic, iy, ix)] +=
            dy[image_index(&g, b, oc, yy, xx)] * w[((ic * co + oc) * kh + ky) * kw + kx];
    });
    dx
}

/// ∂L/∂w of ConvTranspose2d, [in_channels, out_channels, kh, kw].
pub fn conv_transpose2d_backward_weight(
    x: &[f64],
    dy: &[f64],
    g: ConvGeometry,
    in_channels: usize,
) -> Vec<f64> {
    let (kh, kw, co) = (g.kernel_h, g.kernel_w, g.channels);
    let mut dw = vec![0.0; in_channels * co * kh * kw];
    for_each_tap(&g, in_channels, |[b, oc, ic, iy, ix, ky, kx, yy, xx]| {
        dw[((ic * co + oc) * kh + ky) * kw + kx] +=
            x[column_index(&g, in_channels, b, ic, iy, ix)] * dy[image_index(&g, b, oc, yy, xx)];
    });
    dw
}

/// ∂L/∂bias of ConvTranspose2d: Σ dy per output channel (g.channels).
pub fn conv_transpose2d_backward_bias(dy: &[f64], g: ConvGeometry) -> Vec<f64> {
    channel_sums(dy, g.batch, g.channels)
}

/// The column matrix [positions, patch_len] of `kernels::conv::im2col`, from its definition.
pub fn im2col(image: &[f64], g: ConvGeometry) -> Vec<f64> {
    let (oh, ow, k) = (g.out_height(), g.out_width(), g.patch_len());
    let mut cols = vec![0.0; g.positions() * k];
    for b in 0..g.batch {
        for oy in 0..oh {
            for ox in 0..ow {
                for c in 0..g.channels {
                    for ky in 0..g.kernel_h {
                        for kx in 0..g.kernel_w {
                            if let Some((y, x)) = tap(&g, oy, ox, ky, kx) {
                                let row = (b * oh + oy) * ow + ox;
                                let col = (c * g.kernel_h + ky) * g.kernel_w + kx;
                                cols[row * k + col] = image[image_index(&g, b, c, y, x)];
                            }
                        }
                    }
                }
            }
        }
    }
    cols
}

/// The adjoint of `im2col` (+ bias per channel): each column element added to the pixel it came from.
pub fn col2im(cols: &[f64], g: ConvGeometry, bias: Option<&[f64]>) -> Vec<f64> {
    let (oh, ow, k) = (g.out_height(), g.out_width(), g.patch_len());
    let mut image = vec![0.0; g.image_len()];
    if let Some(bias) = bias {
        for (i, v) in image.iter_mut().enumerate() {
            *v = bias[(i / (g.height * g.width)) % g.channels];
        }
    }
    for b in 0..g.batch {
        for oy in 0..oh {
            for ox in 0..ow {
                for c in 0..g.channels {
                    for ky in 0..g.kernel_h {
                        for kx in 0..g.kernel_w {
                            if let Some((y, x)) = tap(&g, oy, ox, ky, kx) {
                                let row = (b * oh + oy) * ow + ox;
                                let col = (c * g.kernel_h + ky) * g.kernel_w + kx;
                                image[image_index(&g, b, c, y, x)] += cols[row * k + col];
                            }
                        }
                    }
                }
            }
        }
    }
    image
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reference::test_util::{check_gradient, dot, values};

    /// Convolutions are linear in each operand: the central difference is exact up to rounding.
    const STEP: (f64, f64) = (1e-4, 1e-7);

    fn geometries() -> Vec<ConvGeometry> {
        let g =
            |batch, channels, height, width, kernel_h, kernel_w, stride, padding| ConvGeometry {
                batch,
                channels,
                height,
                width,
                kernel_h,
                kernel_w,
                stride,
                padding,
            };
        vec![
            g(2, 2, 5, 4, 3, 2, 2, 1),
            g(1, 1, 4, 4, 4, 4, 2, 1),
            g(1, 3, 3, 5, 1, 3, 1, 0),
            g(2, 1, 5, 5, 3, 3, 1, 2),
        ]
    }

    #[test]
    fn conv2d_gradients_match_finite_differences() {
        for (t, g) in geometries().into_iter().enumerate() {
            let out_c = 2;
            let seed = t as u64 * 10;
            let x = values(g.image_len(), seed + 1);
            let w = values(out_c * g.patch_len(), seed + 2);
            let b = values(out_c, seed + 3);
            let r = values(g.batch * out_c * g.out_height() * g.out_width(), seed + 4);
            let loss =
                |x: &[f64], w: &[f64], b: &[f64]| dot(&r, &conv2d_forward(x, w, Some(b), g, out_c));
            check_gradient(
                "conv2d dx",
                &x,
                &conv2d_backward_input(&r, &w, g, out_c),
                STEP,
                |v| loss(v, &w, &b),
            );
            check_gradient(
                "conv2d dw",
                &w,
                &conv2d_backward_weight(&x, &r, g, out_c),
                STEP,
                |v| loss(&x, v, &b),
            );
            check_gradient(
                "conv2d db",
                &b,
                &conv2d_backward_bias(&r, g, out_c),
                STEP,
                |v| loss(&x, &w, v),
            );
        }
    }

    #[test]
    fn conv_transpose2d_gradients_match_finite_differences() {
        for (t, g) in geometries().into_iter().enumerate() {
            let in_c = 3;
            let seed = t as u64 * 10 + 100;
            let x = values(g.batch * in_c * g.out_height() * g.out_width(), seed + 1);
            let w = values(in_c * g.patch_len(), seed + 2);
            let b = values(g.channels, seed + 3);
            let r = values(g.image_len(), seed + 4);
            let loss = |x: &[f64], w: &[f64], b: &[f64]| {
                dot(&r, &conv_transpose2d_forward(x, w, Some(b), g, in_c))
            };
            check_gradient(
                "convT dx",
                &x,
                &conv_transpose2d_backward_input(&r, &w, g, in_c),
                STEP,
                |v| loss(v, &w, &b),
            );
            check_gradient(
                "convT dw",
                &w,
                &conv_transpose2d_backward_weight(&x, &r, g, in_c),
                STEP,
                |v| loss(&x, v, &b),
            );
            check_gradient(
                "convT db",
                &b,
                &conv_transpose2d_backward_bias(&r, g),
                STEP,
                |v| loss(&x, &w, v),
            );
        }
    }

    /// PyTorch's ConvTranspose2d is Conv2d's input gradient with the same weight tensor, and
    /// col2im is im2col's adjoint: ⟨im2col(a), c⟩ = ⟨a, col2im(c)⟩.
    #[test]
    fn transpose_is_the_adjoint_and_col2im_of_im2col() {
        for (t, g) in geometries().into_iter().enumerate() {
            let c = 2;
            let x = values(g.batch * c * g.out_height() * g.out_width(), t as u64 + 7);
            let w = values(c * g.patch_len(), t as u64 + 8);
            let a = conv_transpose2d_forward(&x, &w, None, g, c);
            let b = conv2d_backward_input(&x, &w, g, c);
            for (p, q) in a.iter().zip(&b) {
                assert!((p - q).abs() < 1e-12);
            }
            let image = values(g.image_len(), t as u64 + 9);
            let cols = values(g.positions() * g.patch_len(), t as u64 + 10);
            let lhs = dot(&im2col(&image, g), &cols);
            let rhs = dot(&image, &col2im(&cols, g, None));
            assert!(
                (lhs - rhs).abs() < 1e-10 * (1.0 + lhs.abs()),
                "{lhs} vs {rhs}"
            );
        }
    }
}
