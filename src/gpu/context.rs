//! The GPU context: adapter, device and queue, the pipeline cache, and the error plumbing that
//! turns wgpu's validation errors and device loss into `Error`s instead of panics.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use super::adapter::{AdapterChoice, choose_adapter, describe, is_software, list_adapters};
use super::pipeline::PipelineCache;
use crate::error::{Error, Result};

/// Counts of host↔GPU transfers. Training steps must leave both unchanged (see the tests).
#[derive(Default, Debug)]
pub struct TransferCounters {
    writes: AtomicU64,
    reads: AtomicU64,
}

impl TransferCounters {
    pub fn writes(&self) -> u64 {
        self.writes.load(Ordering::Relaxed)
    }
    pub fn reads(&self) -> u64 {
        self.reads.load(Ordering::Relaxed)
    }
    pub(crate) fn count_write(&self) {
        self.writes.fetch_add(1, Ordering::Relaxed);
    }
    pub(crate) fn count_read(&self) {
        self.reads.fetch_add(1, Ordering::Relaxed);
    }
}

/// Buffers this context has created and their bytes: storage tensors and kernel uniforms, which
/// live as long as the tensors and dispatches holding them. Readback staging buffers are left
/// out (dropped once read). Buffers are counted when made, never uncounted, so the memory a
/// long-lived structure holds is the difference of two snapshots around building it.
#[derive(Default, Debug)]
pub struct AllocationCounters {
    bytes: AtomicU64,
    buffers: AtomicU64,
}

/// A reading of [`AllocationCounters`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Allocated {
    pub bytes: u64,
    pub buffers: u64,
}

impl Allocated {
    /// What was created between `earlier` and this reading.
    pub fn since(self, earlier: Allocated) -> Allocated {
        Allocated {
            bytes: self.bytes - earlier.bytes,
            buffers: self.buffers - earlier.buffers,
        }
    }
}

impl AllocationCounters {
    pub fn snapshot(&self) -> Allocated {
        Allocated {
            bytes: self.bytes.load(Ordering::Relaxed),
            buffers: self.buffers.load(Ordering::Relaxed),
        }
    }
    pub(crate) fn count(&self, bytes: u64) {
        self.bytes.fetch_add(bytes, Ordering::Relaxed);
        self.buffers.fetch_add(1, Ordering::Relaxed);
    }
}

pub struct GpuContext {
    pub device: wgpu::Device,
    pub queue: wgpu::Queue,
    pub adapter_info: wgpu::AdapterInfo,
    pub limits: wgpu::Limits,
    /// Why this adapter was chosen, for `gan-gpu info` and logs.
    pub chosen_because: String,
    pub(crate) pipelines: PipelineCache,
    pub transfers: TransferCounters,
    pub allocations: AllocationCounters,
    /// Errors wgpu reported outside any error scope; checked after every submission.
    uncaptured: Arc<Mutex<Vec<String>>>,
    lost: Arc<Mutex<Option<String>>>,
    placeholder: std::sync::OnceLock<super::tensor::Tensor>,
    /// A second one for writable bindings: one buffer bound read-only and read-write in the
    /// same dispatch is a usage conflict.
    writable_placeholder: std::sync::OnceLock<super::tensor::Tensor>,
    /// Matmul kernels `bench --tune` chose for this adapter, when loaded (the CLI loads them;
    /// a bare context, as in the tests, uses the built-in rule).
    tuned_matmul: Option<crate::kernels::matmul_tuning::TunedMatmul>,
    /// Textures mirroring tensors for the texture-reading kernels (src/gpu/texture.rs).
    pub(crate) textures: super::texture::SharedTextures,
}

impl GpuContext {
    /// Whether kernels may use subgroup operations with exactly `width` invocations per
    /// subgroup (the feature is enabled and the adapter's subgroup size is fixed at `width`).
    pub fn has_subgroups_of(&self, width: u32) -> bool {
        self.device.features().contains(wgpu::Features::SUBGROUP)
            && self.adapter_info.subgroup_min_size == width
            && self.adapter_info.subgroup_max_size == width
    }

    /// Open the adapter the choice names (see `adapter.rs` for the rule).
    pub fn new(choice: &AdapterChoice) -> Result<GpuContext> {
        let adapters = list_adapters();
        let (index, chosen_because) = choose_adapter(&adapters, choice)?;
        let adapter = &adapters[index];
        let adapter_info = adapter.get_info();
        if is_software(&adapter_info) && std::env::var_os("GAN_GPU_QUIET").is_none() {
            crate::errln!(
                "warning: running on a software adapter ({}); expect CPU speed, not GPU speed",
                adapter_info.name
            );
        }
        // Ask for everything the adapter offers: the largest storage binding decides how much
        // of a dataset fits in one buffer.
        let limits = adapter.limits();
        crate::limits::record_device(&limits);
        let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
            label: Some("gan-gpu"),
            // Subgroups where offered: the matmul kernel for 8-wide CPU adapters needs them.
            required_features: adapter.features() & wgpu::Features::SUBGROUP,
            required_limits: limits.clone(),
            ..Default::default()
        }))
        .map_err(|e| {
            Error::Gpu(format!(
                "could not open a device on {}: {e}",
                describe(&adapter_info)
            ))
        })?;

        let uncaptured = Arc::new(Mutex::new(Vec::new()));
        let sink = uncaptured.clone();
        // wgpu's default handler panics; we collect and report instead.
        device.on_uncaptured_error(Arc::new(move |error: wgpu::Error| {
            sink.lock().unwrap().push(error.to_string());
        }));
        let lost = Arc::new(Mutex::new(None));
        let lost_sink = lost.clone();
        device.set_device_lost_callback(move |reason, message| {
            if reason != wgpu::DeviceLostReason::Destroyed {
                *lost_sink.lock().unwrap() = Some(format!("{reason:?}: {message}"));
            }
        });

        Ok(GpuContext {
            device,
            queue,
            adapter_info,
            limits,
            chosen_because,
            pipelines: PipelineCache::default(),
            transfers: TransferCounters::default(),
            allocations: AllocationCounters::default(),
            uncaptured,
            lost,
            placeholder: std::sync::OnceLock::new(),
            writable_placeholder: std::sync::OnceLock::new(),
            tuned_matmul: None,
            textures: Default::default(),
        })
    }

    /// The tuned matmul choices in use, if any.
    pub fn tuned_matmul(&self) -> Option<&crate::kernels::matmul_tuning::TunedMatmul> {
        self.tuned_matmul.as_ref()
    }

    /// Use these tuned matmul choices for every `MatmulKernel::Auto` matmul built from now on.
    pub fn set_tuned_matmul(&mut self, tuned: Option<crate::kernels::matmul_tuning::TunedMatmul>) {
        self.tuned_matmul = tuned;
    }

    /// The adapter's name (for benchmark tables and logs).
    pub fn adapter_name(&self) -> &str {
        &self.adapter_info.name
    }

    pub fn is_software(&self) -> bool {
        is_software(&self.adapter_info)
    }

    /// A small tensor to bind where a kernel's optional input is absent (a buffer may not be
    /// bound both read-only and writable in one dispatch, so the output cannot stand in).
    pub fn placeholder(&self) -> Result<&super::tensor::Tensor> {
        if self.placeholder.get().is_none() {
            let _ = self.placeholder.set(self.zeros("placeholder", &[4])?);
        }
        Ok(self.placeholder.get().unwrap())
    }

    /// The placeholder for an unused read-write binding (see `placeholder`).
    pub fn writable_placeholder(&self) -> Result<&super::tensor::Tensor> {
        if self.writable_placeholder.get().is_none() {
            let _ = self
                .writable_placeholder
                .set(self.zeros("writable placeholder", &[4])?);
        }
        Ok(self.writable_placeholder.get().unwrap())
    }

    /// Record an error for the next `check_errors` (one found while recording, such as a
    /// pipeline that failed to compile on its worker thread).
    pub(crate) fn report_error(&self, error: String) {
        self.uncaptured.lock().unwrap().push(error);
    }

    /// Any error wgpu reported since the last check, or device loss, as an `Error`.
    pub fn check_errors(&self) -> Result<()> {
        if let Some(reason) = self.lost.lock().unwrap().clone() {
            return Err(Error::Gpu(format!("the GPU device was lost ({reason})")));
        }
        let mut errors = self.uncaptured.lock().unwrap();
        if errors.is_empty() {
            Ok(())
        } else {
            let message = errors.join("\n");
            errors.clear();
            Err(Error::Gpu(message))
        }
    }

    /// Block until all submitted work has finished, then report any error.
    pub fn wait_idle(&self) -> Result<()> {
        self.device
            .poll(wgpu::PollType::wait_indefinitely())
            .map_err(|e| Error::Gpu(format!("waiting for the GPU failed: {e}")))?;
        self.check_errors()
    }

    /// Run `make` inside a validation error scope, so a bad shader or binding becomes an `Error`.
    pub fn scoped<T>(&self, what: &str, make: impl FnOnce() -> T) -> Result<T> {
        let scope = self.device.push_error_scope(wgpu::ErrorFilter::Validation);
        let value = make();
        match pollster::block_on(scope.pop()) {
            None => Ok(value),
            Some(error) => Err(Error::Gpu(format!("{what}: {error}"))),
        }
    }
}
