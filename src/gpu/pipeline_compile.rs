//! Pipeline compilation on worker threads. Compiling is most of a run's setup (WGSL → SPIR-V
//! in naga with the pipeline's constants, then the driver's own compiler: on llvmpipe about
//! 0.1 s per matmul pipeline), and pipelines do not depend on each other, so each one compiles
//! on a thread of its own while the host goes on building buffers and bind groups; recording a
//! dispatch waits for its pipeline. A compilation error reaches the caller at the next
//! submission, like any other GPU error (`GpuContext::check_errors`).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::thread::JoinHandle;
use std::time::Instant;

/// The pipeline or why it could not be made.
type Compiled = std::result::Result<wgpu::ComputePipeline, String>;

/// A compute pipeline being compiled on a worker thread.
pub(crate) struct PendingPipeline {
    result: Arc<OnceLock<Compiled>>,
    worker: Mutex<Option<JoinHandle<()>>>,
}

/// What a worker needs to make the pipeline (all cheap clones of reference-counted handles).
pub(crate) struct PipelineJob {
    pub device: wgpu::Device,
    pub module: Arc<wgpu::ShaderModule>,
    pub layout: wgpu::PipelineLayout,
    pub shader: &'static str,
    pub entry: &'static str,
    pub constants: Vec<(&'static str, f64)>,
    /// Where the worker adds its compile time (nanoseconds).
    pub compile_nanos: Arc<AtomicU64>,
}

impl PendingPipeline {
    /// Start compiling `job` on a new thread.
    pub fn spawn(job: PipelineJob) -> PendingPipeline {
        let result = Arc::new(OnceLock::new());
        let slot = result.clone();
        let worker = std::thread::Builder::new()
            .name(format!("compile {}", job.shader))
            .spawn(move || {
                let _ = slot.set(compile(&job));
            });
        match worker {
            Ok(handle) => PendingPipeline {
                result,
                worker: Mutex::new(Some(handle)),
            },
            Err(e) => {
                let _ = result.set(Err(format!("cannot start a compiler thread: {e}")));
                PendingPipeline {
                    result,
                    worker: Mutex::new(None),
                }
            }
        }
    }

    /// The pipeline, once compiled (waits for the worker).
    pub fn wait(&self) -> &Compiled {
        if let Some(done) = self.result.get() {
            return done;
        }
        // Joined under the lock, so a second caller waits for the first join to finish.
        let mut worker = self.worker.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(handle) = worker.take() {
            let _ = handle.join();
        }
        self.result
            .get_or_init(|| Err("the pipeline's compiler thread stopped".into()))
    }
}

/// At most one compiling thread per CPU core: more only time-slice (and make the summed compile
/// time meaningless); the others wait their turn.
struct CompileSlots {
    busy: Mutex<usize>,
    freed: Condvar,
}

static SLOTS: CompileSlots = CompileSlots {
    busy: Mutex::new(0),
    freed: Condvar::new(),
};

/// A held compile slot, given back when dropped (even if the compile panics).
struct Slot;

impl Slot {
    fn take() -> Slot {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let mut busy = SLOTS.busy.lock().unwrap_or_else(|e| e.into_inner());
        while *busy >= cores {
            busy = SLOTS.freed.wait(busy).unwrap_or_else(|e| e.into_inner());
        }
        *busy += 1;
        Slot
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        *SLOTS.busy.lock().unwrap_or_else(|e| e.into_inner()) -= 1;
        SLOTS.freed.notify_one();
    }
}

fn compile(job: &PipelineJob) -> Compiled {
    let _slot = Slot::take();
    let started = Instant::now();
    // Error scopes are per thread, so this one sees this pipeline's errors only.
    let scope = job.device.push_error_scope(wgpu::ErrorFilter::Validation);
    let pipeline = job
        .device
        .create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
            label: Some(job.entry),
            layout: Some(&job.layout),
            module: &job.module,
            entry_point: Some(job.entry),
            compilation_options: wgpu::PipelineCompilationOptions {
                constants: &job.constants,
                zero_initialize_workgroup_memory: false,
            },
            cache: None,
        });
    let error = pollster::block_on(scope.pop());
    job.compile_nanos
        .fetch_add(started.elapsed().as_nanos() as u64, Ordering::Relaxed);
    match error {
        None => Ok(pipeline),
        Some(error) => Err(format!("pipeline {}::{}: {error}", job.shader, job.entry)),
    }
}
