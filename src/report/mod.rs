//! Report writing: sample grids, toy scatter plots, loss curves (all PNG),
//! and the run directory with its metrics CSV.

pub mod curves;
pub mod draw;
pub mod font;
pub mod grid;
pub mod metric_column;
pub mod npy;
pub mod run_dir;
pub mod scatter;

pub use curves::{loss_curves_rgb, write_loss_curves};
pub use grid::{grid_rgb, write_image_grid};
pub use run_dir::{METRICS_BASE_COLUMNS, MetricsCsv, MetricsRow, RunDir, write_atomic};
pub use scatter::{scatter_rgb, write_scatter};
