//! Locating and loading an MNIST-format folder (MNIST, Fashion-MNIST, ...).
//!
//! The folder holds the standard file names, each raw or gzip-compressed:
//! `train-images-idx3-ubyte[.gz]` + `train-labels-idx1-ubyte[.gz]` (required)
//! and `t10k-images-idx3-ubyte[.gz]` + `t10k-labels-idx1-ubyte[.gz]`
//! (optional: a GAN trains on the training split; the test split is only
//! used by evaluation). The dotted variant `train-images.idx3-ubyte` that
//! some mirrors use is accepted too.

use std::path::{Path, PathBuf};

use super::idx::{IdxImages, read_idx_images, read_idx_labels};
use crate::error::{Error, Result};

/// Number of classes in MNIST-format label files.
pub const MNIST_CLASSES: u8 = 10;

/// The files a split is looked up under (without `.gz`), in order of preference.
const TRAIN_IMAGES: &[&str] = &["train-images-idx3-ubyte", "train-images.idx3-ubyte"];
const TRAIN_LABELS: &[&str] = &["train-labels-idx1-ubyte", "train-labels.idx1-ubyte"];
const TEST_IMAGES: &[&str] = &["t10k-images-idx3-ubyte", "t10k-images.idx3-ubyte"];
const TEST_LABELS: &[&str] = &["t10k-labels-idx1-ubyte", "t10k-labels.idx1-ubyte"];

/// Where MNIST-format data can be obtained; quoted in "not found" errors.
const WHERE_TO_GET: &str = "`gan-gpu download mnist DIR` (or `download fashion-mnist DIR`) \
fetches them; MNIST can also be obtained from https://yann.lecun.com/exdb/mnist/ or its mirror https://ossci-datasets.s3.amazonaws.com/mnist/ (or use Fashion-MNIST, same \
format: the Debian package dataset-fashion-mnist installs it under \
/usr/share/datasets/fashion-mnist)";

/// One split: images with one label per image.
#[derive(Debug, Clone)]
pub struct MnistSplit {
    pub images: IdxImages,
    pub labels: Vec<u8>,
    /// The files it was read from (for messages and run metadata).
    pub images_path: PathBuf,
    pub labels_path: PathBuf,
}

/// An MNIST-format folder: the training split and, when present, the test split.
#[derive(Debug, Clone)]
pub struct MnistFolder {
    pub dir: PathBuf,
    pub train: MnistSplit,
    pub test: Option<MnistSplit>,
}

/// Load an MNIST-format folder. See the module docs for the file names.
pub fn load_mnist_folder(dir: impl AsRef<Path>) -> Result<MnistFolder> {
    let dir = dir.as_ref();
    if !dir.exists() {
        return Err(Error::Input(format!(
            "MNIST folder {} does not exist. It should contain {}. {WHERE_TO_GET}.",
            dir.display(),
            expected_names()
        )));
    }
    if !dir.is_dir() {
        return Err(Error::Input(format!(
            "{} is not a folder; pass the folder that contains {}",
            dir.display(),
            expected_names()
        )));
    }

    let train_images = find_file(dir, TRAIN_IMAGES);
    let train_labels = find_file(dir, TRAIN_LABELS);
    let (train_images, train_labels) = match (train_images, train_labels) {
        (Some(i), Some(l)) => (i, l),
        (i, l) => {
            let missing: Vec<&str> = [
                (i.is_none(), TRAIN_IMAGES[0]),
                (l.is_none(), TRAIN_LABELS[0]),
            ]
            .iter()
            .filter(|(m, _)| *m)
            .map(|(_, n)| *n)
            .collect();
            return Err(Error::Input(format!(
                "MNIST folder {} lacks {} (raw or .gz). Expected files: {}. {WHERE_TO_GET}.",
                dir.display(),
                missing.join(" and "),
                expected_names()
            )));
        }
    };
    let train = load_split(train_images, train_labels)?;

    // The test split is optional, but half of it means a broken download.
    let test = match (find_file(dir, TEST_IMAGES), find_file(dir, TEST_LABELS)) {
        (Some(i), Some(l)) => Some(load_split(i, l)?),
        (None, None) => None,
        (Some(i), None) => return Err(half_pair(dir, &i, TEST_LABELS[0])),
        (None, Some(l)) => return Err(half_pair(dir, &l, TEST_IMAGES[0])),
    };

    // Both splits must have the same image size for evaluation to make sense.
    if let Some(t) = &test
        && (t.images.rows, t.images.cols) != (train.images.rows, train.images.cols)
    {
        return Err(Error::invalid(
            &t.images_path,
            "image size (rows×cols)",
            format!(
                "{}×{} like {}",
                train.images.rows,
                train.images.cols,
                train.images_path.display()
            ),
            format!("{}×{}", t.images.rows, t.images.cols),
        ));
    }

    Ok(MnistFolder {
        dir: dir.to_path_buf(),
        train,
        test,
    })
}

/// Whether `dir` holds MNIST-format training images (raw or .gz): then it is read as MNIST even
/// if sub-folders of it hold images (run folders written inside it, for instance).
pub fn has_mnist_files(dir: &Path) -> bool {
    find_file(dir, TRAIN_IMAGES).is_some()
}

fn expected_names() -> String {
    format!(
        "{} and {} (required) plus optionally {} and {}, each raw or with .gz",
        TRAIN_IMAGES[0], TRAIN_LABELS[0], TEST_IMAGES[0], TEST_LABELS[0]
    )
}

fn half_pair(dir: &Path, present: &Path, missing: &str) -> Error {
    Error::Input(format!(
        "MNIST folder {} has {} but not {} (raw or .gz); the test split needs both files",
        dir.display(),
        present.display(),
        missing
    ))
}

/// The first existing file among `names` and `names` + ".gz".
fn find_file(dir: &Path, names: &[&str]) -> Option<PathBuf> {
    names.iter().find_map(|name| {
        [dir.join(name), dir.join(format!("{name}.gz"))]
            .into_iter()
            .find(|p| p.is_file())
    })
}

fn load_split(images_path: PathBuf, labels_path: PathBuf) -> Result<MnistSplit> {
    let images = read_idx_images(&images_path)?;
    let labels = read_idx_labels(&labels_path)?;
    if labels.len() != images.count {
        return Err(Error::invalid(
            &labels_path,
            "label count (dimension 0)",
            format!(
                "{} (the number of images in {})",
                images.count,
                images_path.display()
            ),
            labels.len().to_string(),
        ));
    }
    if let Some((i, &v)) = labels
        .iter()
        .enumerate()
        .find(|&(_, &v)| v >= MNIST_CLASSES)
    {
        return Err(Error::invalid(
            &labels_path,
            format!("label[{i}]"),
            format!("a class in 0..={}", MNIST_CLASSES - 1),
            v.to_string(),
        ));
    }
    Ok(MnistSplit {
        images,
        labels,
        images_path,
        labels_path,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::idx::{write_idx_images, write_idx_labels};
    use crate::error::test_util::temp_dir;

    fn tiny(count: usize) -> IdxImages {
        IdxImages {
            count,
            rows: 2,
            cols: 3,
            pixels: (0..count * 6).map(|i| i as u8).collect(),
        }
    }

    #[test]
    fn missing_folder_says_so() {
        let base = temp_dir("mnist-missing");
        let dir = base.join("does-not-exist");
        let msg = load_mnist_folder(&dir).unwrap_err().to_string();
        assert!(msg.contains("does not exist"), "{msg}");
        assert!(msg.contains(&dir.display().to_string()), "{msg}");
        std::fs::remove_dir_all(base).ok();
    }

    #[test]
    fn empty_folder_lists_expected_files_and_sources() {
        let dir = temp_dir("mnist-empty");
        let err = load_mnist_folder(&dir).unwrap_err();
        assert!(matches!(err, Error::Input(_)));
        let msg = err.to_string();
        for name in [
            "train-images-idx3-ubyte",
            "train-labels-idx1-ubyte",
            "t10k-images-idx3-ubyte",
            "t10k-labels-idx1-ubyte",
            "https://yann.lecun.com/exdb/mnist/",
            "https://ossci-datasets.s3.amazonaws.com/mnist/",
            "dataset-fashion-mnist",
            "/usr/share/datasets/fashion-mnist",
            "gan-gpu download mnist",
        ] {
            assert!(msg.contains(name), "message lacks {name}: {msg}");
        }
        std::fs::remove_dir_all(dir).ok();
    }

    #[test]
    fn synthetic_folder_loads_with_mixed_compression() {
        let dir = temp_dir("mnist-synth");
        write_idx_images(dir.join("train-images-idx3-ubyte.gz"), &tiny(4), true).unwrap();
        write_idx_labels(dir.join("train-labels-idx1-ubyte"), &[0, 1, 2, 9], false).unwrap();
        let m = load_mnist_folder(&dir).unwrap();
        assert_eq!(m.train.images.count, 4);
        assert_eq!(m.train.labels, vec![0, 1, 2, 9]);
        assert!(m.test.is_none());

        // Half a test pair is an error naming the missing file.
        write_idx_images(dir.join("t10k-images-idx3-ubyte"), &tiny(2), false).unwrap();
        let msg = load_mnist_folder(&dir).unwrap_err().to_string();
        assert!(msg.contains("t10k-labels-idx1-ubyte"), "{msg}");

        write_idx_labels(dir.join("t10k-labels-idx1-ubyte.gz"), &[5, 6], true).unwrap();
        let m = load_mnist_folder(&dir).unwrap();
        assert_eq!(m.test.unwrap().labels, vec![5, 6]);
        std::fs::remove_dir_all(dir).ok();
    }

    #[test]
    fn count_mismatch_and_bad_label_are_invalid_data() {
        let dir = temp_dir("mnist-bad");
        write_idx_images(dir.join("train-images-idx3-ubyte"), &tiny(3), false).unwrap();
        let lp = dir.join("train-labels-idx1-ubyte");
        write_idx_labels(&lp, &[1, 2], false).unwrap();
        match load_mnist_folder(&dir).unwrap_err() {
            Error::InvalidData {
                file,
                field,
                expected,
                found,
            } => {
                assert_eq!(file, lp);
                assert!(field.contains("label count"), "{field}");
                assert!(expected.starts_with('3'), "{expected}");
                assert_eq!(found, "2");
            }
            e => panic!("expected InvalidData, got {e:?}"),
        }
        write_idx_labels(&lp, &[1, 10, 2], false).unwrap();
        let msg = load_mnist_folder(&dir).unwrap_err().to_string();
        assert!(
            msg.contains("label[1]") && msg.contains("found 10"),
            "{msg}"
        );
        std::fs::remove_dir_all(dir).ok();
    }

    fn check_real_mnist(dir: &Path) {
        let m = load_mnist_folder(dir).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(m.train.images.count, 10_000);
        assert_eq!((m.train.images.rows, m.train.images.cols), (28, 28));
        assert_eq!(m.train.images.pixels.len(), 10_000 * 784);
        let test = m.test.expect("t10k split present");
        assert_eq!(test.images.count, 10_000);
        assert_eq!((test.images.rows, test.images.cols), (28, 28));
        // All ten classes occur, and the pixels are not all zero.
        for split in [&m.train.labels, &test.labels] {
            let mut seen = [false; 10];
            split.iter().for_each(|&l| seen[l as usize] = true);
            assert!(seen.iter().all(|&s| s));
        }
        assert!(m.train.images.pixels.contains(&255));
        // The official test set starts with a 7, 2, 1.
        assert_eq!(&test.labels[..3], &[7, 2, 1]);
    }

    /// The shared copy of real MNIST beside the checkout (../shared/data/mnist).
    #[test]
    fn real_mnist_from_shared_folder() {
        let dir = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/data/mnist"));
        if !dir.exists() {
            crate::errln!(
                "skipping real_mnist_from_shared_folder: {} not found",
                dir.display()
            );
            return;
        }
        check_real_mnist(dir);
    }
}
