//! GAN training: configuration, the GPU training graph (Algorithm 1), optimizers, real data,
//! samples, checkpoints and the training loop.

pub mod checkpoint;
pub mod collapse;
pub mod config;
pub mod conv_nets;
pub mod critic;
pub mod graph;
pub mod interpolate;
pub mod memory;
pub mod optimizer;
pub mod presets;
pub mod prior;
pub mod profile;
pub mod real_data;
pub mod samples;
pub mod setup;
pub mod toy_defaults;
pub mod train;

pub use config::{
    DataSource, EvalSchedule, GanLoss, OptimizerConfig, OptimizerKind, Penalty, Schedule,
    TrainConfig, WassersteinConfig,
};
pub use prior::{Noise, Prior};
pub use train::{Evaluation, Progress, Silent, TrainOutcome, train, train_with_evaluation};
