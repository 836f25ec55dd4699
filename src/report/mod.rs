//! Report writing: sample grids, toy scatter plots, metric charts (all PNG), the progress
//! animation, the TensorBoard log, and the run directory with its metrics CSV.

pub mod chart_font;
pub mod curves;
pub mod draw;
pub mod grid;
pub mod metric_column;
pub mod npy;
pub mod progress_gif;
pub mod run_dir;
pub mod scatter;
pub mod tensorboard;
pub mod tfevents;

pub use curves::{Panel, panels_rgb, write_panels};
pub use grid::{grid_rgb, write_image_grid};
pub use run_dir::{METRICS_BASE_COLUMNS, MetricsCsv, MetricsRow, RunDir, write_atomic};
pub use scatter::{scatter_rgb, write_scatter};
