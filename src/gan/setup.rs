//! A run's training graph built from host data and measured: the GPU memory it allocates
//! ([`MemoryBreakdown`]) and the wait before training really starts (data upload, buffers,
//! pipeline compilation, then one iteration finished on the GPU, whose first dispatches pay
//! the driver's first-use costs).

use std::fmt;
use std::time::{Duration, Instant};

use super::config::TrainConfig;
use super::graph::TrainGraph;
use super::memory::MemoryBreakdown;
use super::real_data::{HostData, RealData};
use crate::error::Result;
use crate::gpu::{GpuContext, Recorder};

pub struct MeasuredGraph {
    pub graph: TrainGraph,
    pub memory: MemoryBreakdown,
    /// Wall time of the data upload and the graph's construction.
    pub setup: Duration,
    /// Pipelines compiled while building (0: all came from the context's cache).
    pub pipelines_compiled: u64,
    /// The context's compile-time counter when building started (the pipelines compile on
    /// threads of their own, finishing by the end of the first iteration at the latest).
    compile_seconds_before: f64,
    /// Whether the context's pipeline cache was empty when building started.
    pub cold_cache: bool,
}

/// Upload `host` (already without its held-out examples) and build the training graph.
pub fn build(ctx: &GpuContext, config: &TrainConfig, host: HostData) -> Result<MeasuredGraph> {
    let started = Instant::now();
    let (allocated, compiled) = (ctx.allocations.snapshot(), ctx.pipelines_compiled());
    let compile_seconds_before = ctx.pipeline_compile_seconds();
    let cold_cache = ctx.pipelines_cached() == 0;
    let real = RealData::upload_conditional(ctx, host, config.batch_size, config.classes)?;
    let graph = TrainGraph::new(ctx, config, real)?;
    let memory = MemoryBreakdown::of(&graph, ctx.allocations.snapshot().since(allocated));
    Ok(MeasuredGraph {
        graph,
        memory,
        setup: started.elapsed(),
        pipelines_compiled: ctx.pipelines_compiled() - compiled,
        compile_seconds_before,
        cold_cache,
    })
}

impl MeasuredGraph {
    /// Run iteration `iteration` (the run's first: 0, or the step it resumes at) in a submission
    /// of its own and wait for it: the build time plus this one is the first-iteration time
    /// (anything done between the two, such as writing a run folder, is left out).
    pub fn first_iteration(&self, ctx: &GpuContext, iteration: u64) -> Result<FirstIteration> {
        let started = Instant::now();
        let mut recorder = Recorder::new(ctx);
        self.graph.record_iteration(&mut recorder, iteration);
        recorder.submit()?;
        ctx.wait_idle()?;
        Ok(FirstIteration {
            seconds: (self.setup + started.elapsed()).as_secs_f64(),
            setup_seconds: self.setup.as_secs_f64(),
            pipelines_compiled: self.pipelines_compiled,
            compile_seconds: ctx.pipeline_compile_seconds() - self.compile_seconds_before,
            cold_cache: self.cold_cache,
        })
    }
}

/// From the start of the data upload to the first iteration finished on the GPU.
#[derive(Clone, Copy, Debug)]
pub struct FirstIteration {
    pub seconds: f64,
    /// The part before the iteration: data upload, buffers, pipelines.
    pub setup_seconds: f64,
    pub pipelines_compiled: u64,
    /// Compile time summed over the compiler threads.
    pub compile_seconds: f64,
    pub cold_cache: bool,
}

impl fmt::Display for FirstIteration {
    /// `first iteration: 1.81 s (0.20 s setup: data uploaded, buffers created; 18 pipelines
    /// compiled in parallel, 2.90 s of compile work, gan-gpu's cache empty)`. Only gan-gpu's
    /// own cache: a driver may keep one of its own (Mesa's on disk), which this cannot see.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let plural = if self.pipelines_compiled == 1 {
            ""
        } else {
            "s"
        };
        let cache = if self.cold_cache {
            "gan-gpu's cache empty"
        } else {
            "others cached"
        };
        let pipelines = match self.pipelines_compiled {
            0 => "pipelines already compiled".to_string(),
            n => format!(
                "{n} pipeline{plural} compiled in parallel, {:.2} s of compile work, {cache}",
                self.compile_seconds
            ),
        };
        write!(
            f,
            "first iteration: {:.2} s ({:.2} s setup: data uploaded, buffers created; {pipelines})",
            self.seconds, self.setup_seconds
        )
    }
}
