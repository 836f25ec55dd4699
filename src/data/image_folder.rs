//! Loading a folder of same-sized PNG/JPEG images as one u8 tensor.
//!
//! Files are taken in file-name order (so a dataset's order, and therefore a
//! seeded run, is the same on every machine), and only `.png`, `.jpg` and
//! `.jpeg` files are read (case-insensitive); anything else in the folder
//! (READMEs, label files, thumbnails databases) is ignored.
//!
//! The result has layout `[n, h, w, c]`, row-major: `c = 1` when every image
//! is grayscale, otherwise `c = 3` and grayscale images are expanded to RGB.
//! Alpha is dropped: a GAN on such a folder models the visible colours.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// A folder of images decoded into one `[count, channels, height, width]` u8 buffer.
#[derive(Debug, Clone)]
pub struct ImageFolder {
    pub count: usize,
    pub height: usize,
    pub width: usize,
    /// 1 (all grayscale) or 3 (RGB).
    pub channels: usize,
    pub pixels: Vec<u8>,
    /// The files, in the order of the images in `pixels`.
    pub files: Vec<PathBuf>,
    /// Each image's class (the index of its sub-folder in `class_names`); empty for a flat
    /// folder of images.
    pub labels: Vec<u8>,
    /// The class sub-folders' names, sorted (torchvision's `ImageFolder` convention); empty
    /// for a flat folder.
    pub class_names: Vec<String>,
}

impl ImageFolder {
    /// The pixels of image `i` (`height * width * channels` bytes).
    pub fn image(&self, i: usize) -> Option<&[u8]> {
        let size = self.height * self.width * self.channels;
        self.pixels.get(i * size..(i + 1) * size)
    }
}

/// Refuse images of `width`×`height` (from `file`'s header) whose pixels, `count` of them, or
/// one example's values as the network's f32 input, would not fit the adapter or the host.
fn check_image_size(file: &Path, width: u32, height: u32, count: usize) -> Result<()> {
    let limits = crate::limits::MemoryLimits::current();
    let what = format!(
        "{}: an image of {width}×{height} pixels (from its header), as one example of up to \
         {} values in f32",
        file.display(),
        width as u64 * height as u64 * 3
    );
    limits.check_binding(
        &what,
        crate::limits::product(&[width as u64, height as u64, 3, 4]),
    )?;
    let what = format!(
        "{}: {count} images of {width}×{height} pixels (sizes from the headers)",
        file.parent().unwrap_or(file).display()
    );
    let bytes = crate::limits::product(&[count as u64, width as u64, height as u64, 3]);
    limits.check_binding(&what, bytes)?;
    limits.check_host(&what, bytes)
}

/// Whether `path` has an image extension this loader reads.
fn is_image_file(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .map(|e| {
            let e = e.to_ascii_lowercase();
            e == "png" || e == "jpg" || e == "jpeg"
        })
        .unwrap_or(false)
}

/// The image files directly in `dir`, sorted by name.
fn images_in(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
        let path = entry.map_err(|e| Error::io(dir, e))?.path();
        if path.is_file() && is_image_file(&path) {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

/// The sub-folders of `dir` that hold images, sorted by name, with their images.
fn class_folders(dir: &Path) -> Result<Vec<(String, Vec<PathBuf>)>> {
    let mut folders = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
        let path = entry.map_err(|e| Error::io(dir, e))?.path();
        if path.is_dir() {
            let files = images_in(&path)?;
            if !files.is_empty() {
                let name = path.file_name().unwrap_or_default().to_string_lossy();
                folders.push((name.into_owned(), files));
            }
        }
    }
    folders.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(folders)
}

/// Whether `dir` is an image folder: images in it, or in class sub-folders of it.
pub fn is_image_folder(dir: &Path) -> bool {
    dir.is_dir()
        && (images_in(dir).is_ok_and(|f| !f.is_empty())
            || class_folders(dir).is_ok_and(|f| !f.is_empty()))
}

/// The most classes an image folder may have (labels are stored as bytes).
pub const MAX_CLASSES: usize = 256;

/// Load every PNG/JPEG in `dir` (not recursive); a folder without images of its own but with
/// sub-folders of images is a labelled set, one class per sub-folder (torchvision's
/// `ImageFolder`: classes in name order, images in name order within each). See the module docs.
pub fn load_image_folder(dir: impl AsRef<Path>) -> Result<ImageFolder> {
    let dir = dir.as_ref();
    if !dir.is_dir() {
        return Err(Error::Input(format!(
            "image folder {} does not exist or is not a folder",
            dir.display()
        )));
    }
    let mut files = images_in(dir)?;
    let mut labels = Vec::new();
    let mut class_names = Vec::new();
    if files.is_empty() {
        let classes = class_folders(dir)?;
        if classes.len() > MAX_CLASSES {
            return Err(Error::Input(format!(
                "image folder {}: {} class sub-folders, at most {MAX_CLASSES} are supported",
                dir.display(),
                classes.len()
            )));
        }
        for (label, (name, class_files)) in classes.into_iter().enumerate() {
            labels.extend(std::iter::repeat_n(label as u8, class_files.len()));
            files.extend(class_files);
            class_names.push(name);
        }
    }
    if files.is_empty() {
        return Err(Error::Input(format!(
            "image folder {} holds no .png, .jpg or .jpeg files (nor sub-folders of them, one \
             per class)",
            dir.display()
        )));
    }

    // Sizes from the headers first, before any pixel is decoded: every image the same size,
    // and the whole folder within what the adapter and the host can hold.
    let open = |path: &PathBuf| {
        image::ImageReader::open(path)
            .map_err(|e| Error::io(path, e))?
            .with_guessed_format()
            .map_err(|e| Error::io(path, e))
    };
    let (w0, h0) = open(&files[0])?.into_dimensions().map_err(|e| {
        Error::invalid(
            &files[0],
            "image header",
            "a readable PNG or JPEG header",
            format!("an error ({e})"),
        )
    })?;
    check_image_size(&files[0], w0, h0, files.len())?;
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(w0);
    limits.max_image_height = Some(h0);
    // A decoded image of up to 8 bytes a pixel (16-bit RGBA) and a conversion of it.
    limits.max_alloc = Some((w0 as u64 * h0 as u64 * 16).max(1 << 20));

    let mut pixels: Vec<u8> = Vec::new();
    let mut channels = 1usize;
    let mut size: Option<(u32, u32)> = None;
    for path in &files {
        let mut reader = open(path)?;
        reader.limits(limits.clone());
        let (w, h) = reader.into_dimensions().map_err(|e| {
            Error::invalid(
                path,
                "image header",
                "a readable PNG or JPEG header",
                format!("an error ({e})"),
            )
        })?;
        if (w, h) != (w0, h0) {
            return Err(Error::invalid(
                path,
                "image size (width×height)",
                format!("{w0}×{h0} like {}", files[0].display()),
                format!("{w}×{h}"),
            ));
        }
        let mut reader = open(path)?;
        reader.limits(limits.clone());
        let img = reader.decode().map_err(|e| {
            Error::invalid(
                path,
                "image data",
                "a decodable PNG or JPEG image",
                format!("a decoding error ({e})"),
            )
        })?;
        let (w, h) = (img.width(), img.height());
        match size {
            None => size = Some((w, h)),
            Some((w0, h0)) if (w0, h0) != (w, h) => {
                return Err(Error::invalid(
                    path,
                    "image size (width×height)",
                    format!("{w0}×{h0} like {}", files[0].display()),
                    format!("{w}×{h}"),
                ));
            }
            Some(_) => {}
        }
        // First colour image: expand what was read so far from gray to RGB.
        if channels == 1 && img.color().has_color() {
            channels = 3;
            pixels = pixels.iter().flat_map(|&g| [g, g, g]).collect();
        }
        if channels == 1 {
            pixels.extend_from_slice(img.to_luma8().as_raw());
        } else {
            pixels.extend_from_slice(img.to_rgb8().as_raw());
        }
    }
    let (w, h) = size.unwrap_or((0, 0));
    if channels > 1 {
        pixels = channels_first(&pixels, (h * w) as usize, channels);
    }
    Ok(ImageFolder {
        count: files.len(),
        height: h as usize,
        width: w as usize,
        channels,
        pixels,
        files,
        labels,
        class_names,
    })
}

/// Images of `area` pixels, each [height, width, channels] as decoded, to [channels, height,
/// width] (PyTorch's layout, which the convolutions take).
fn channels_first(pixels: &[u8], area: usize, channels: usize) -> Vec<u8> {
    let mut out = vec![0u8; pixels.len()];
    for (image, chw) in pixels
        .chunks_exact(area * channels)
        .zip(out.chunks_exact_mut(area * channels))
    {
        for p in 0..area {
            for c in 0..channels {
                chw[c * area + p] = image[p * channels + c];
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::test_util::temp_dir;
    use image::{GrayImage, Luma, Rgb, RgbImage};

    #[test]
    fn gray_folder_is_one_channel_sorted_and_ignores_other_files() {
        let dir = temp_dir("imgf-gray");
        // Written out of order: loading must sort by name.
        for (name, v) in [("b.png", 20u8), ("a.PNG", 10), ("c.png", 30)] {
            GrayImage::from_pixel(4, 3, Luma([v]))
                .save(dir.join(name))
                .unwrap();
        }
        std::fs::write(dir.join("notes.txt"), "not an image").unwrap();
        let f = load_image_folder(&dir).unwrap();
        assert_eq!((f.count, f.height, f.width, f.channels), (3, 3, 4, 1));
        assert_eq!(f.pixels.len(), 3 * 3 * 4);
        assert_eq!(f.image(0).unwrap()[0], 10);
        assert_eq!(f.image(1).unwrap()[0], 20);
        assert_eq!(f.image(2).unwrap()[11], 30);
        std::fs::remove_dir_all(dir).ok();
    }

    #[test]
    fn one_colour_image_makes_all_rgb() {
        let dir = temp_dir("imgf-rgb");
        GrayImage::from_pixel(2, 2, Luma([77]))
            .save(dir.join("0.png"))
            .unwrap();
        RgbImage::from_pixel(2, 2, Rgb([200, 10, 0]))
            .save(dir.join("1.png"))
            .unwrap();
        // JPEG is lossy: only check that it loads with the right size.
        RgbImage::from_pixel(2, 2, Rgb([0, 0, 250]))
            .save(dir.join("2.jpg"))
            .unwrap();
        let f = load_image_folder(&dir).unwrap();
        assert_eq!((f.count, f.height, f.width, f.channels), (3, 2, 2, 3));
        assert_eq!(f.pixels.len(), 3 * 2 * 2 * 3);
        // Channels first: R of the 4 pixels, then G, then B.
        assert_eq!(f.image(0).unwrap(), &[77; 12]);
        assert_eq!(
            f.image(1).unwrap(),
            &[200, 200, 200, 200, 10, 10, 10, 10, 0, 0, 0, 0]
        );
        let b = f.image(2).unwrap();
        assert!(b[8] > 200 && b[0] < 40, "{b:?}");
        std::fs::remove_dir_all(dir).ok();
    }

    #[test]
    fn other_size_names_file_and_both_sizes() {
        let dir = temp_dir("imgf-size");
        GrayImage::new(8, 6).save(dir.join("a.png")).unwrap();
        GrayImage::new(5, 6).save(dir.join("b.png")).unwrap();
        let err = load_image_folder(&dir).unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, Error::InvalidData { .. }));
        assert!(msg.contains("b.png"), "{msg}");
        assert!(msg.contains("8×6") && msg.contains("5×6"), "{msg}");
        std::fs::remove_dir_all(dir).ok();
    }

    #[test]
    fn empty_missing_and_corrupt() {
        let dir = temp_dir("imgf-empty");
        std::fs::write(dir.join("readme.md"), "# nothing").unwrap();
        let msg = load_image_folder(&dir).unwrap_err().to_string();
        assert!(msg.contains("no .png"), "{msg}");
        let msg = load_image_folder(dir.join("nope")).unwrap_err().to_string();
        assert!(msg.contains("does not exist"), "{msg}");
        std::fs::write(dir.join("broken.png"), b"\x89PNG\r\n\x1a\nnope").unwrap();
        let err = load_image_folder(&dir).unwrap_err();
        assert!(err.to_string().contains("broken.png"), "{err}");
        std::fs::remove_dir_all(dir).ok();
    }
}
