//! Minimal raster primitives shared by the plot writers (clipped pixels,
//! lines, discs, rectangles) and PNG encoding. Hand-rolled to keep the
//! dependency list to `image` alone.

use std::path::Path;

use image::{Rgb, RgbImage};

use super::run_dir::write_atomic;
use crate::error::{Error, Result};

/// Set a pixel; coordinates outside the image are ignored.
pub fn put(img: &mut RgbImage, x: i64, y: i64, c: Rgb<u8>) {
    if x >= 0 && y >= 0 && (x as u64) < img.width() as u64 && (y as u64) < img.height() as u64 {
        img.put_pixel(x as u32, y as u32, c);
    }
}

/// Fill the rectangle with corners (x0, y0) and (x1, y1), both inclusive.
pub fn fill_rect(img: &mut RgbImage, x0: i64, y0: i64, x1: i64, y1: i64, c: Rgb<u8>) {
    let (w, h) = (img.width() as i64, img.height() as i64);
    for y in y0.max(0)..=y1.min(h - 1) {
        for x in x0.max(0)..=x1.min(w - 1) {
            img.put_pixel(x as u32, y as u32, c);
        }
    }
}

/// One-pixel outline of the rectangle (corners inclusive).
pub fn rect_outline(img: &mut RgbImage, x0: i64, y0: i64, x1: i64, y1: i64, c: Rgb<u8>) {
    fill_rect(img, x0, y0, x1, y0, c);
    fill_rect(img, x0, y1, x1, y1, c);
    fill_rect(img, x0, y0, x0, y1, c);
    fill_rect(img, x1, y0, x1, y1, c);
}

/// A filled disc of radius `r` pixels centred at (cx, cy).
pub fn disc(img: &mut RgbImage, cx: f64, cy: f64, r: f64, c: Rgb<u8>) {
    if !(cx.is_finite() && cy.is_finite()) {
        return;
    }
    let (x0, x1) = ((cx - r).floor() as i64, (cx + r).ceil() as i64);
    let (y0, y1) = ((cy - r).floor() as i64, (cy + r).ceil() as i64);
    for y in y0..=y1 {
        for x in x0..=x1 {
            let (dx, dy) = (x as f64 + 0.5 - cx, y as f64 + 0.5 - cy);
            if dx * dx + dy * dy <= r * r {
                put(img, x, y, c);
            }
        }
    }
}

/// A 1-pixel line (Bresenham) between two points in pixel coordinates.
/// Segments with non-finite or absurdly distant ends are skipped rather than
/// looping for ages.
pub fn line(img: &mut RgbImage, a: (f64, f64), b: (f64, f64), c: Rgb<u8>) {
    let limit = 1e6;
    if [a.0, a.1, b.0, b.1]
        .iter()
        .any(|v| !v.is_finite() || v.abs() > limit)
    {
        return;
    }
    let (mut x0, mut y0) = (a.0.round() as i64, a.1.round() as i64);
    let (x1, y1) = (b.0.round() as i64, b.1.round() as i64);
    let (dx, dy) = ((x1 - x0).abs(), -(y1 - y0).abs());
    let (sx, sy) = (if x0 < x1 { 1 } else { -1 }, if y0 < y1 { 1 } else { -1 });
    let mut err = dx + dy;
    loop {
        put(img, x0, y0, c);
        if x0 == x1 && y0 == y1 {
            break;
        }
        let e2 = 2 * err;
        if e2 >= dy {
            err += dy;
            x0 += sx;
        }
        if e2 <= dx {
            err += dx;
            y0 += sy;
        }
    }
}

/// Encode as PNG in memory.
pub fn encode_png(img: &RgbImage) -> Result<Vec<u8>> {
    let mut buf = std::io::Cursor::new(Vec::new());
    img.write_to(&mut buf, image::ImageFormat::Png)
        .map_err(|e| Error::Input(format!("PNG encoding failed: {e}")))?;
    Ok(buf.into_inner())
}

/// Encode as PNG and write atomically (a viewer never sees half a file).
pub fn save_png(path: impl AsRef<Path>, img: &RgbImage) -> Result<()> {
    write_atomic(path, &encode_png(img)?)
}

#[cfg(test)]
pub(crate) mod test_util {
    use image::RgbImage;
    use std::path::Path;

    /// Decode a PNG written by a report writer, checking its size.
    pub fn decode_png(path: &Path, w: u32, h: u32) -> RgbImage {
        let img = image::open(path).expect("PNG decodes").to_rgb8();
        assert_eq!((img.width(), img.height()), (w, h), "{}", path.display());
        img
    }

    pub fn count_color(img: &RgbImage, c: [u8; 3]) -> usize {
        img.pixels().filter(|p| p.0 == c).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_hits_both_ends_and_clips() {
        let mut img = RgbImage::new(10, 10);
        let c = Rgb([255, 0, 0]);
        line(&mut img, (1.0, 1.0), (8.0, 5.0), c);
        assert_eq!(img.get_pixel(1, 1), &c);
        assert_eq!(img.get_pixel(8, 5), &c);
        line(&mut img, (-50.0, 3.0), (50.0, 3.0), c);
        assert!((0..10).all(|x| img.get_pixel(x, 3) == &c));
        line(&mut img, (0.0, 0.0), (f64::NAN, 1e30), c); // no panic, no hang
        disc(&mut img, 5.0, 8.0, 1.5, Rgb([0, 255, 0]));
        assert_eq!(img.get_pixel(5, 8), &Rgb([0, 255, 0]));
    }
}
