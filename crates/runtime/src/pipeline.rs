//! Compute pipelines from printed kernels, their bind group layouts (derived from the
//! kernel ABI exactly as the printers declare the bindings) and the in-memory cache.

use std::sync::Arc;

use tm_core::{Dialect, KernelAbi};

use crate::device::{error_text, lock, GpuDevice};
use crate::RuntimeError;

/// A printed kernel in one of the two dialects the printers produce.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum KernelCode {
    Wgsl(String),
    Msl(String),
}

impl KernelCode {
    pub fn dialect(&self) -> Dialect {
        match self {
            KernelCode::Wgsl(_) => Dialect::Wgsl,
            KernelCode::Msl(_) => Dialect::Msl,
        }
    }

    pub fn text(&self) -> &str {
        match self {
            KernelCode::Wgsl(s) | KernelCode::Msl(s) => s,
        }
    }
}

/// A compiled kernel ready to launch. Cheap to clone.
#[derive(Clone)]
pub struct GpuPipeline {
    pub(crate) inner: Arc<PipelineInner>,
}

pub(crate) struct PipelineInner {
    pub(crate) id: u64,
    /// The device that built it (compared by address only).
    pub(crate) owner: usize,
    pub(crate) abi: KernelAbi,
    pub(crate) pipeline: wgpu::ComputePipeline,
    pub(crate) layout: wgpu::BindGroupLayout,
}

impl GpuPipeline {
    pub fn abi(&self) -> &KernelAbi {
        &self.inner.abi
    }

    /// Identity of the compiled pipeline: equal ids mean the cache returned the same one.
    pub fn id(&self) -> u64 {
        self.inner.id
    }
}

/// Everything a pipeline depends on. The full code is part of the key (not just a hash of
/// it) so that two kernels can never be confused, however unlikely a collision.
#[derive(Clone, PartialEq, Eq, Hash)]
pub(crate) struct PipelineKey {
    code: KernelCode,
    entry: String,
    threads_per_group: u32,
    scalar_bytes: u32,
    /// Not needed to build the pipeline, but checked against the device: every field
    /// `check_abi` looks at is in the key, so a hit never skips a check.
    shared_bytes: u32,
    /// (binding, writable) per buffer, in ABI order.
    buffers: Vec<(u32, bool)>,
    /// (kind, binding, bytes) per launcher-supplied buffer.
    scratch: Vec<(tm_core::ScratchKind, u32, u32)>,
}

impl PipelineKey {
    fn new(code: &KernelCode, abi: &KernelAbi) -> PipelineKey {
        PipelineKey {
            code: code.clone(),
            entry: abi.entry.clone(),
            threads_per_group: abi.threads_per_group,
            scalar_bytes: abi.scalar_bytes,
            shared_bytes: abi.shared_bytes,
            buffers: abi.buffers.iter().map(|b| (b.binding, b.writes)).collect(),
            scratch: abi
                .scratch
                .iter()
                .map(|s| (s.kind, s.binding, s.bytes))
                .collect(),
        }
    }
}

impl GpuDevice {
    /// The pipeline for `code` with `abi`, compiled on first use and cached in memory
    /// afterwards. Compile errors come back as `RuntimeError::ShaderCompile` carrying the
    /// shader compiler's message.
    pub fn create_pipeline(
        &self,
        code: &KernelCode,
        abi: &KernelAbi,
    ) -> Result<GpuPipeline, RuntimeError> {
        let key = PipelineKey::new(code, abi);
        if let Some(p) = lock(&self.shared.pipelines).get(&key) {
            lock(&self.shared.pipeline_stats).hits += 1;
            return Ok(p.clone());
        }
        self.check_abi(code, abi)?;
        // Compiling can take long: other threads keep launching meanwhile. Two threads
        // racing on one kernel both compile; the first to finish wins the cache slot.
        let built = self.build_pipeline(code, abi)?;
        lock(&self.shared.pipeline_stats).misses += 1;
        let mut cache = lock(&self.shared.pipelines);
        Ok(cache.entry(key).or_insert(built).clone())
    }

    fn check_abi(&self, code: &KernelCode, abi: &KernelAbi) -> Result<(), RuntimeError> {
        let target = &self.shared.target;
        let bad = |message: String| -> Result<(), RuntimeError> {
            Err(RuntimeError::Pipeline {
                entry: abi.entry.clone(),
                message,
            })
        };
        if code.dialect() != target.dialect && code.dialect() == Dialect::Msl {
            return Err(RuntimeError::Unsupported(format!(
                "MSL kernels run only on Metal with passthrough shaders; this device is {}",
                self.description()
            )));
        }
        if abi.threads_per_group == 0 || abi.threads_per_group > target.max_threads_per_group {
            return bad(format!(
                "{} threads per group; this device allows 1..={}",
                abi.threads_per_group, target.max_threads_per_group
            ));
        }
        if abi.scalar_bytes < tm_core::SCALAR_HEADER_BYTES || !abi.scalar_bytes.is_multiple_of(4) {
            return bad(format!(
                "scalar buffer of {} bytes; it holds at least the {}-byte header and is made of 4-byte words",
                abi.scalar_bytes,
                tm_core::SCALAR_HEADER_BYTES
            ));
        }
        let max_scalars = crate::stream::arena_bytes(&self.shared.limits);
        if u64::from(abi.scalar_bytes) > max_scalars {
            return bad(format!(
                "scalar buffer of {} bytes; launches carry at most {max_scalars}",
                abi.scalar_bytes
            ));
        }
        if abi.shared_bytes > target.shared_mem_bytes {
            return bad(format!(
                "{} bytes of threadgroup memory; this device has {}",
                abi.shared_bytes, target.shared_mem_bytes
            ));
        }
        let total = abi.buffers.len() as u64 + abi.scratch.len() as u64 + 1;
        if total > target.max_buffers as u64 {
            return bad(format!(
                "{} buffers, {} launcher buffers and the scalar buffer; this device binds at most {} per kernel",
                abi.buffers.len(),
                abi.scratch.len(),
                target.max_buffers
            ));
        }
        let max_binding = self.shared.limits.max_storage_buffer_binding_size;
        for (j, s) in abi.scratch.iter().enumerate() {
            let want = abi.buffers.len() + 1 + j;
            if s.binding as usize != want {
                return bad(format!(
                    "launcher buffer {j} ({:?}) is at binding {}; it must be at {want}, after the argument buffers",
                    s.kind, s.binding
                ));
            }
            if s.bytes == 0 || !s.bytes.is_multiple_of(4) || u64::from(s.bytes) > max_binding {
                return bad(format!(
                    "launcher buffer {j} ({:?}) of {} bytes; it must be a positive multiple of 4 of at most {max_binding}",
                    s.kind, s.bytes
                ));
            }
        }
        for (i, b) in abi.buffers.iter().enumerate() {
            // Contiguous bindings keep `[[buffer(n)]]` equal to binding n on Metal, where
            // wgpu hands out buffer slots in layout order.
            if b.binding as usize != i + 1 {
                return bad(format!(
                    "buffer {i} is at binding {}; buffers must occupy bindings 1, 2, ... in order",
                    b.binding
                ));
            }
        }
        Ok(())
    }

    fn layout_entries(abi: &KernelAbi) -> Vec<wgpu::BindGroupLayoutEntry> {
        let storage = |binding: u32, read_only: bool, dynamic: bool| wgpu::BindGroupLayoutEntry {
            binding,
            visibility: wgpu::ShaderStages::COMPUTE,
            ty: wgpu::BindingType::Buffer {
                ty: wgpu::BufferBindingType::Storage { read_only },
                has_dynamic_offset: dynamic,
                min_binding_size: None,
            },
            count: None,
        };
        // The scalars of every launch in a batch share one buffer at different offsets,
        // which is what lets bind groups be reused across launches.
        let mut entries = vec![storage(0, true, true)];
        // Must agree with the printers: `read` exactly when the kernel never writes.
        entries.extend(
            abi.buffers
                .iter()
                .map(|b| storage(b.binding, !b.writes, false)),
        );
        entries.extend(abi.scratch.iter().map(|s| storage(s.binding, false, false)));
        entries
    }

    fn build_pipeline(
        &self,
        code: &KernelCode,
        abi: &KernelAbi,
    ) -> Result<GpuPipeline, RuntimeError> {
        let device = &self.shared.device;
        let entry = abi.entry.as_str();
        let scope = device.push_error_scope(wgpu::ErrorFilter::Validation);
        let module = self.create_module(code, abi);
        let info = pollster::block_on(module.get_compilation_info());
        if let Some(err) = pollster::block_on(scope.pop()) {
            let located: Vec<String> = info
                .messages
                .iter()
                .filter(|m| m.message_type == wgpu::CompilationMessageType::Error)
                // naga's message already quotes the source line with a caret.
                .map(|m| m.message.trim().to_string())
                .collect();
            let message = if located.is_empty() {
                error_text(&err)
            } else {
                located.join("\n")
            };
            return Err(RuntimeError::ShaderCompile {
                entry: entry.to_string(),
                message,
            });
        }

        let scope = device.push_error_scope(wgpu::ErrorFilter::Validation);
        let layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some(entry),
            entries: &Self::layout_entries(abi),
        });
        let pipeline_layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: Some(entry),
            bind_group_layouts: &[Some(&layout)],
            immediate_size: 0,
        });
        let pipeline = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
            label: Some(entry),
            layout: Some(&pipeline_layout),
            module: &module,
            entry_point: Some(entry),
            compilation_options: Default::default(),
            cache: None,
        });
        if let Some(err) = pollster::block_on(scope.pop()) {
            return Err(RuntimeError::Pipeline {
                entry: entry.to_string(),
                message: error_text(&err),
            });
        }
        Ok(GpuPipeline {
            inner: Arc::new(PipelineInner {
                id: self.next_id(),
                owner: Arc::as_ptr(&self.shared) as usize,
                abi: abi.clone(),
                pipeline,
                layout,
            }),
        })
    }

    fn create_module(&self, code: &KernelCode, abi: &KernelAbi) -> wgpu::ShaderModule {
        let device = &self.shared.device;
        match code {
            KernelCode::Wgsl(src) => device.create_shader_module(wgpu::ShaderModuleDescriptor {
                label: Some(&abi.entry),
                source: wgpu::ShaderSource::Wgsl(src.as_str().into()),
            }),
            KernelCode::Msl(src) => {
                let entry_points = [wgpu::PassthroughShaderEntryPoint {
                    name: abi.entry.as_str().into(),
                    // Metal needs the threadgroup size at pipeline creation; MSL cannot
                    // declare it the way WGSL's @workgroup_size does.
                    workgroup_size: (abi.threads_per_group, 1, 1),
                }];
                let desc = wgpu::ShaderModuleDescriptorPassthrough {
                    label: Some(&abi.entry),
                    entry_points: entry_points.as_slice().into(),
                    msl: Some(src.as_str().into()),
                    ..Default::default()
                };
                // SAFETY: check_abi admits MSL only on Metal with PASSTHROUGH_SHADERS
                // enabled. The source comes from our printer, which declares exactly the
                // buffers of the ABI at [[buffer(0..n)]], matching the layout built from
                // the same ABI; the Metal compiler still checks the source itself.
                unsafe { device.create_shader_module_passthrough(desc) }
            }
        }
    }
}
