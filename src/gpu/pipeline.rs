//! Compute pipelines, cached by (shader, entry point, pipeline constants, binding layout), and
//! `Dispatch`: one kernel launch with its bind group made once, ready to record any number of
//! times. A training step is a list of `Dispatch`es; recording one only sets state and dispatches.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use super::context::GpuContext;
use super::pipeline_compile::{PendingPipeline, PipelineJob};
use super::tensor::{BufferRange, Tensor, uniform_buffer};
use super::texture::{FloatTexture, TextureCopy};
use crate::error::{Error, Result};
use crate::shaders::shader_source;

/// How a kernel uses a tensor.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Access {
    Read,
    ReadWrite,
}

/// How a kernel uses an r32float texture bound after its tensors.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TextureAccess {
    /// `texture_2d<f32>`, read with textureLoad.
    Sampled,
    /// `texture_storage_2d<r32float, write>`, written with textureStore.
    Write,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct PipelineKey {
    shader: &'static str,
    entry: &'static str,
    constants: Vec<(&'static str, u64)>,
    accesses: Vec<Access>,
    /// r32float textures bound after the tensors.
    textures: Vec<TextureAccess>,
}

pub(crate) struct CachedPipeline {
    pipeline: PendingPipeline,
    pub layout: wgpu::BindGroupLayout,
}

#[derive(Default)]
pub(crate) struct PipelineCache {
    modules: Mutex<HashMap<&'static str, Arc<wgpu::ShaderModule>>>,
    pipelines: Mutex<HashMap<PipelineKey, Arc<CachedPipeline>>>,
    /// Pipelines compiled so far (cache misses), so a benchmark can say whether its setup
    /// compiled them or found them made.
    compiled: AtomicU64,
    /// Time spent compiling pipelines, summed over the compiler threads, in nanoseconds.
    compile_nanos: Arc<AtomicU64>,
}

/// Everything needed to launch one kernel. Binding 0 is always the uniform `params`;
/// tensors follow at bindings 1, 2, ... in the order given (then any textures, see
/// `GpuContext::dispatch_with_textures`).
pub struct KernelSpec<'a> {
    pub shader: &'static str,
    pub entry: &'static str,
    /// WGSL `override` constants (tile sizes, layouts, activation kinds).
    pub constants: Vec<(&'static str, f64)>,
    pub params: &'a [u8],
    pub tensors: Vec<(&'a Tensor, Access)>,
    pub workgroups: [u32; 3],
}

/// A recorded-once kernel launch (cloning shares the pipeline and bind group), with the copies
/// into textures it reads (`copies`), which the recorder encodes before it every time.
#[derive(Clone)]
pub struct Dispatch {
    pub label: String,
    pipeline: Arc<CachedPipeline>,
    bind_group: wgpu::BindGroup,
    pub workgroups: [u32; 3],
    pub(crate) copies: Vec<TextureCopy>,
    /// What the kernel may write (its read-write tensors): a recorder copies a texture again
    /// only after its source was written (`Recorder::record`).
    pub(crate) writes: Vec<BufferRange>,
    /// Textures the kernel writes whole with the contents of their source tensors: current
    /// after it, with no copy (`Recorder::record`).
    pub(crate) mirrors: Vec<TextureCopy>,
}

impl Dispatch {
    /// This launch with `copies` encoded before it every time it is recorded.
    pub fn after_copies(mut self, copies: Vec<TextureCopy>) -> Dispatch {
        self.copies = copies;
        self
    }

    /// This launch, which leaves `mirror`'s texture equal to its source tensor.
    pub fn leaving_current(mut self, mirror: TextureCopy) -> Dispatch {
        self.mirrors.push(mirror);
        self
    }

    /// Whether recording this launch also copies tensors into textures.
    pub fn has_copies(&self) -> bool {
        !self.copies.is_empty()
    }

    /// This launch alone, without its copies (benchmarks: the kernel's own time).
    pub fn without_copies(&self) -> Dispatch {
        Dispatch {
            copies: Vec::new(),
            ..self.clone()
        }
    }

    /// Record the launch, once its pipeline has compiled; Err if it could not be.
    pub(crate) fn record(
        &self,
        pass: &mut wgpu::ComputePass<'_>,
    ) -> std::result::Result<(), String> {
        if self.workgroups.contains(&0) {
            return Ok(());
        }
        let pipeline = self
            .pipeline
            .pipeline
            .wait()
            .as_ref()
            .map_err(Clone::clone)?;
        pass.set_pipeline(pipeline);
        pass.set_bind_group(0, &self.bind_group, &[]);
        let [x, y, z] = self.workgroups;
        pass.dispatch_workgroups(x, y, z);
        Ok(())
    }
}

impl GpuContext {
    /// Pipelines this context has compiled so far.
    pub fn pipelines_compiled(&self) -> u64 {
        self.pipelines.compiled.load(Ordering::Relaxed)
    }

    /// Seconds spent so far compiling pipelines, summed over the compiler threads (WGSL → SPIR-V
    /// in naga, then the driver's pipeline creation; a driver may defer part of its work to the
    /// first dispatch, which this cannot see).
    pub fn pipeline_compile_seconds(&self) -> f64 {
        self.pipelines.compile_nanos.load(Ordering::Relaxed) as f64 * 1e-9
    }

    /// Pipelines in the cache now (0: the next setup compiles every one it needs).
    pub fn pipelines_cached(&self) -> usize {
        self.pipelines.pipelines.lock().unwrap().len()
    }

    /// Forget every cached shader module and pipeline, so the next setup compiles its own
    /// (`bench train` times a cold first iteration); dispatches already built keep theirs.
    pub fn clear_pipeline_cache(&self) {
        self.pipelines.modules.lock().unwrap().clear();
        self.pipelines.pipelines.lock().unwrap().clear();
    }

    fn shader_module(&self, shader: &'static str) -> Result<Arc<wgpu::ShaderModule>> {
        if let Some(module) = self.pipelines.modules.lock().unwrap().get(shader) {
            return Ok(module.clone());
        }
        let source =
            shader_source(shader).ok_or_else(|| Error::Gpu(format!("no shader named {shader}")))?;
        let module = self.scoped(&format!("compiling shaders/{shader}.wgsl"), || {
            self.device
                .create_shader_module(wgpu::ShaderModuleDescriptor {
                    label: Some(shader),
                    source: wgpu::ShaderSource::Wgsl(source.into()),
                })
        })?;
        let module = Arc::new(module);
        self.pipelines
            .modules
            .lock()
            .unwrap()
            .insert(shader, module.clone());
        Ok(module)
    }

    fn pipeline(
        &self,
        spec: &KernelSpec<'_>,
        textures: Vec<TextureAccess>,
    ) -> Result<Arc<CachedPipeline>> {
        let key = PipelineKey {
            shader: spec.shader,
            entry: spec.entry,
            constants: spec
                .constants
                .iter()
                .map(|&(n, v)| (n, v.to_bits()))
                .collect(),
            accesses: spec.tensors.iter().map(|&(_, a)| a).collect(),
            textures,
        };
        if let Some(cached) = self.pipelines.pipelines.lock().unwrap().get(&key) {
            return Ok(cached.clone());
        }
        let module = self.shader_module(spec.shader)?;
        let mut entries = vec![wgpu::BindGroupLayoutEntry {
            binding: 0,
            visibility: wgpu::ShaderStages::COMPUTE,
            ty: wgpu::BindingType::Buffer {
                ty: wgpu::BufferBindingType::Uniform,
                has_dynamic_offset: false,
                min_binding_size: None,
            },
            count: None,
        }];
        for (i, access) in key.accesses.iter().enumerate() {
            entries.push(wgpu::BindGroupLayoutEntry {
                binding: i as u32 + 1,
                visibility: wgpu::ShaderStages::COMPUTE,
                ty: wgpu::BindingType::Buffer {
                    ty: wgpu::BufferBindingType::Storage {
                        read_only: *access == Access::Read,
                    },
                    has_dynamic_offset: false,
                    min_binding_size: None,
                },
                count: None,
            });
        }
        let first_texture = entries.len() as u32;
        for (i, access) in key.textures.iter().enumerate() {
            entries.push(wgpu::BindGroupLayoutEntry {
                binding: first_texture + i as u32,
                visibility: wgpu::ShaderStages::COMPUTE,
                ty: match access {
                    // r32float is not filterable; kernels read it with textureLoad.
                    TextureAccess::Sampled => wgpu::BindingType::Texture {
                        sample_type: wgpu::TextureSampleType::Float { filterable: false },
                        view_dimension: wgpu::TextureViewDimension::D2,
                        multisampled: false,
                    },
                    TextureAccess::Write => wgpu::BindingType::StorageTexture {
                        access: wgpu::StorageTextureAccess::WriteOnly,
                        format: wgpu::TextureFormat::R32Float,
                        view_dimension: wgpu::TextureViewDimension::D2,
                    },
                },
                count: None,
            });
        }
        let what = format!("pipeline layout {}::{}", spec.shader, spec.entry);
        let (layout, pipeline_layout) = self.scoped(&what, || {
            let layout = self
                .device
                .create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
                    label: Some(spec.entry),
                    entries: &entries,
                });
            let pipeline_layout =
                self.device
                    .create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
                        label: Some(spec.entry),
                        bind_group_layouts: &[Some(&layout)],
                        immediate_size: 0,
                    });
            (layout, pipeline_layout)
        })?;
        let pipeline = PendingPipeline::spawn(PipelineJob {
            device: self.device.clone(),
            module,
            layout: pipeline_layout,
            shader: spec.shader,
            entry: spec.entry,
            constants: spec.constants.clone(),
            compile_nanos: self.pipelines.compile_nanos.clone(),
        });
        let cached = Arc::new(CachedPipeline { pipeline, layout });
        self.pipelines.compiled.fetch_add(1, Ordering::Relaxed);
        self.pipelines
            .pipelines
            .lock()
            .unwrap()
            .insert(key, cached.clone());
        Ok(cached)
    }

    /// Build a dispatch: pipeline from the cache, params uniform and bind group made now.
    pub fn dispatch(&self, spec: KernelSpec<'_>) -> Result<Dispatch> {
        self.dispatch_with_textures(spec, &[])
    }

    /// `dispatch_with_textures` for a kernel that may also write a texture whole with its
    /// source tensor's new contents: `sampled` are bound after the tensors, then `mirror`'s
    /// texture as a storage texture, and the launch leaves it current
    /// (`Dispatch::leaving_current`). Without a mirror the kernel's override `flag` is false
    /// and a shared texture it never writes fills the binding.
    pub fn dispatch_mirroring(
        &self,
        mut spec: KernelSpec<'_>,
        sampled: &[&FloatTexture],
        mirror: Option<&TextureCopy>,
        flag: &'static str,
    ) -> Result<Dispatch> {
        spec.constants
            .push((flag, if mirror.is_some() { 1.0 } else { 0.0 }));
        let written = match mirror {
            Some(copy) => copy.texture().clone(),
            None => self.unwritten_texture()?,
        };
        let mut textures: Vec<_> = sampled
            .iter()
            .map(|&texture| (texture, TextureAccess::Sampled))
            .collect();
        textures.push((&written, TextureAccess::Write));
        let dispatch = self.dispatch_with_textures(spec, &textures)?;
        Ok(match mirror {
            Some(copy) => dispatch.leaving_current(copy.clone()),
            None => dispatch,
        })
    }

    /// `dispatch` with r32float textures bound after the tensors, in the order given.
    pub fn dispatch_with_textures(
        &self,
        spec: KernelSpec<'_>,
        textures: &[(&FloatTexture, TextureAccess)],
    ) -> Result<Dispatch> {
        let accesses = textures.iter().map(|&(_, access)| access).collect();
        let pipeline = self.pipeline(&spec, accesses)?;
        let label = format!("{}::{}", spec.shader, spec.entry);
        let params = uniform_buffer(self, &label, spec.params);
        let mut entries = vec![wgpu::BindGroupEntry {
            binding: 0,
            resource: params.as_entire_binding(),
        }];
        for (i, (tensor, _)) in spec.tensors.iter().enumerate() {
            entries.push(wgpu::BindGroupEntry {
                binding: i as u32 + 1,
                resource: tensor.binding(),
            });
        }
        let first_texture = entries.len() as u32;
        for (i, (texture, _)) in textures.iter().enumerate() {
            entries.push(wgpu::BindGroupEntry {
                binding: first_texture + i as u32,
                resource: wgpu::BindingResource::TextureView(&texture.view),
            });
        }
        let bind_group = self.scoped(&format!("binding {label}"), || {
            self.device.create_bind_group(&wgpu::BindGroupDescriptor {
                label: Some(&label),
                layout: &pipeline.layout,
                entries: &entries,
            })
        })?;
        Ok(Dispatch {
            label,
            pipeline,
            bind_group,
            workgroups: spec.workgroups,
            copies: Vec::new(),
            mirrors: Vec::new(),
            writes: spec
                .tensors
                .iter()
                .filter(|(_, access)| *access == Access::ReadWrite)
                .map(|(tensor, _)| tensor.range())
                .collect(),
        })
    }
}

/// Workgroups for `n` invocations in groups of `size`, folded into y past the 65,535 limit.
/// Shaders recover the flat index as `gid.x + gid.y * (num_workgroups.x * size)`.
pub fn workgroups_1d(n: usize, size: u32) -> [u32; 3] {
    let groups = (n as u64).div_ceil(size as u64).max(1);
    if groups <= 65_535 {
        [groups as u32, 1, 1]
    } else {
        let y = groups.div_ceil(65_535);
        [groups.div_ceil(y) as u32, y as u32, 1]
    }
}
