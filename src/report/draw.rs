//! PNG encoding shared by the image writers (grids, scatter plots, charts), written atomically;
//! the drawing itself is plotters' (charts, scatter) or a plain pixel copy (grids).

use std::path::Path;

use image::RgbImage;

use super::run_dir::write_atomic;
use crate::error::{Error, Result};

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
