//! CPU-side data sources: IDX/MNIST files, image folders, and 2-D and 1-D toy sets.
//! Everything here produces plain u8 / f32 host buffers; uploading them to
//! the GPU is the runtime's job.

pub mod download;
pub mod idx;
pub mod image_folder;
pub mod mnist;
pub mod toy;
pub mod toy1d;

pub use idx::{
    IDX1_U8_MAGIC, IDX3_U8_MAGIC, IdxImages, read_idx_images, read_idx_labels, write_idx_images,
    write_idx_labels,
};
pub use image_folder::{ImageFolder, load_image_folder};
pub use mnist::{MNIST_CLASSES, MnistFolder, MnistSplit, load_mnist_folder};
pub use toy::{ModeCriteria, ModeStats, SplitMix64, Toy, ToySet, mode_stats, mode_stats_with};
pub use toy1d::Density1d;
