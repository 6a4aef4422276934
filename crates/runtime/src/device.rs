//! Opening a device: which adapter, with which limits and features, and what the compiler
//! may assume about it.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use tm_core::Target;

use crate::bind_cache::BindGroupCache;
use crate::facts;
use crate::pipeline::{GpuPipeline, PipelineKey};
use crate::scratch::ScratchState;
use crate::stream::Stream;
use crate::RuntimeError;

/// One logical device and everything attached to it. Cheap to clone; clones share the
/// device, its caches and its stream of pending launches.
#[derive(Clone)]
pub struct GpuDevice {
    pub(crate) shared: Arc<Shared>,
}

pub(crate) struct Shared {
    pub(crate) device: wgpu::Device,
    pub(crate) queue: wgpu::Queue,
    pub(crate) info: wgpu::AdapterInfo,
    pub(crate) limits: wgpu::Limits,
    pub(crate) features: wgpu::Features,
    pub(crate) target: Target,
    pub(crate) pipelines: Mutex<HashMap<PipelineKey, GpuPipeline>>,
    pub(crate) pipeline_stats: Mutex<CacheStats>,
    pub(crate) stream: Mutex<Stream>,
    pub(crate) bind_groups: Mutex<BindGroupCache>,
    pub(crate) scratch: Mutex<ScratchState>,
    /// Errors wgpu reports outside any error scope; without a handler it would panic.
    pub(crate) errors: Arc<Mutex<Vec<String>>>,
    next_id: AtomicU64,
}

/// Pipeline-cache counters, for tests and for the Python layer's debug output.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CacheStats {
    pub hits: u64,
    pub misses: u64,
}

/// One adapter as seen before opening it, for listing what a machine has.
#[derive(Clone, Debug)]
pub struct AdapterSummary {
    pub backend: String,
    pub name: String,
    pub device_type: String,
    pub driver: String,
}

/// Locks a mutex even if a thread panicked while holding it: the data behind our mutexes
/// stays consistent between statements, so a poisoned lock carries no broken invariant.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn instance_for(selector: Option<&str>) -> wgpu::Instance {
    let mut desc = wgpu::InstanceDescriptor::new_without_display_handle();
    // GL has no compute features worth having and initialising EGL can be slow or noisy;
    // it is only tried when asked for by name.
    desc.backends = wgpu::Backends::PRIMARY;
    if selector.is_some_and(|s| matches!(s.to_ascii_lowercase().as_str(), "gl" | "gles" | "opengl"))
    {
        desc.backends |= wgpu::Backends::GL;
    }
    // Validation layers make every call slower and print to stderr; WGPU_DEBUG and
    // WGPU_VALIDATION still turn them on.
    desc.flags = wgpu::InstanceFlags::empty().with_env();
    wgpu::Instance::new(desc)
}

fn rank(info: &wgpu::AdapterInfo) -> (u8, u8) {
    let kind = match info.device_type {
        wgpu::DeviceType::DiscreteGpu => 4,
        wgpu::DeviceType::IntegratedGpu => 3,
        wgpu::DeviceType::VirtualGpu => 2,
        wgpu::DeviceType::Cpu => 1,
        wgpu::DeviceType::Other => 0,
    };
    let backend = match info.backend {
        wgpu::Backend::Metal | wgpu::Backend::Vulkan | wgpu::Backend::Dx12 => 2,
        wgpu::Backend::Gl => 1,
        _ => 0,
    };
    (kind, backend)
}

fn backend_of(word: &str) -> Option<wgpu::Backend> {
    match word {
        "vulkan" | "vk" => Some(wgpu::Backend::Vulkan),
        "metal" | "mtl" => Some(wgpu::Backend::Metal),
        "dx12" | "d3d12" => Some(wgpu::Backend::Dx12),
        "gl" | "gles" | "opengl" => Some(wgpu::Backend::Gl),
        _ => None,
    }
}

/// Whether an adapter answers to a selector: a backend name ("vulkan"), a substring of the
/// adapter or driver name ("llvmpipe", "nvidia"), or both as "backend:name".
fn matches(selector: &str, info: &wgpu::AdapterInfo) -> bool {
    let selector = selector.trim().to_ascii_lowercase();
    let (backend, name) = match selector.split_once(':') {
        Some((b, n)) => (backend_of(b.trim()), Some(n.trim().to_string())),
        None => match backend_of(&selector) {
            Some(b) => (Some(b), None),
            None => (None, Some(selector.clone())),
        },
    };
    if backend.is_some_and(|b| b != info.backend) {
        return false;
    }
    let Some(name) = name.filter(|n| !n.is_empty()) else {
        return true;
    };
    // Mesa calls the driver lavapipe but the device llvmpipe; people type either.
    let name = if name == "lavapipe" {
        "llvmpipe".to_string()
    } else {
        name
    };
    info.name.to_ascii_lowercase().contains(&name)
        || info.driver.to_ascii_lowercase().contains(&name)
}

fn summary(info: &wgpu::AdapterInfo) -> AdapterSummary {
    AdapterSummary {
        backend: facts::backend_name(info.backend).to_string(),
        name: info.name.clone(),
        device_type: format!("{:?}", info.device_type),
        driver: format!("{} {}", info.driver, info.driver_info)
            .trim()
            .to_string(),
    }
}

impl GpuDevice {
    /// Every adapter wgpu can see here, best first.
    pub fn list_adapters() -> Vec<AdapterSummary> {
        let instance = instance_for(None);
        let mut infos: Vec<_> =
            pollster::block_on(instance.enumerate_adapters(wgpu::Backends::PRIMARY))
                .iter()
                .map(|a| a.get_info())
                .collect();
        infos.sort_by_key(|i| std::cmp::Reverse(rank(i)));
        infos.iter().map(summary).collect()
    }

    /// Opens the best adapter, or the first (best) one `selector` matches. The selector is
    /// what a user put in `TRITON_METAL_DEVICE`: a backend ("vulkan", "metal", "dx12"), a
    /// piece of the adapter name ("llvmpipe", "nvidia") or "backend:name".
    pub fn open(selector: Option<&str>) -> Result<GpuDevice, RuntimeError> {
        // Drivers are not all happy to have devices created from several threads at once
        // (seen hanging with NVIDIA's Vulkan driver); opening is rare, so serialize it.
        static OPENING: Mutex<()> = Mutex::new(());
        let _one_at_a_time = lock(&OPENING);
        let selector = selector.map(str::trim).filter(|s| !s.is_empty());
        let instance = instance_for(selector);
        let mut adapters: Vec<wgpu::Adapter> =
            pollster::block_on(instance.enumerate_adapters(wgpu::Backends::all()))
                .into_iter()
                .filter(|a| a.get_info().backend != wgpu::Backend::Noop)
                .collect();
        if adapters.is_empty() {
            return Err(RuntimeError::NoAdapter(
                "wgpu sees no Vulkan, Metal or DX12 adapter on this machine".into(),
            ));
        }
        let seen: Vec<String> = adapters
            .iter()
            .map(|a| {
                let i = a.get_info();
                format!("{}: {}", facts::backend_name(i.backend), i.name)
            })
            .collect();
        if let Some(sel) = selector {
            adapters.retain(|a| matches(sel, &a.get_info()));
            if adapters.is_empty() {
                return Err(RuntimeError::NoAdapter(format!(
                    "no adapter matches `{sel}`; available: {}",
                    seen.join(", ")
                )));
            }
        }
        adapters.sort_by_key(|a| std::cmp::Reverse(rank(&a.get_info())));
        let adapter = adapters.swap_remove(0);
        Self::from_adapter(adapter)
    }

    fn from_adapter(adapter: wgpu::Adapter) -> Result<GpuDevice, RuntimeError> {
        let info = adapter.get_info();
        // wgpu hands out WebGPU's portable minimums unless asked: kernels need the real
        // storage-binding size, shared memory and workgroup size of the hardware.
        let limits = adapter.limits();
        let features = adapter.features() & facts::wanted_features(info.backend);
        let experimental = if features.contains(wgpu::Features::EXPERIMENTAL_COOPERATIVE_MATRIX) {
            // SAFETY: wgpu asks callers of experimental features to accept that their
            // implementation may have bugs; we use cooperative matrices only through WGSL
            // that naga validates, and only for the dot lowering's matrix path.
            unsafe { wgpu::ExperimentalFeatures::enabled() }
        } else {
            wgpu::ExperimentalFeatures::disabled()
        };
        let desc = wgpu::DeviceDescriptor {
            label: Some("triton-metal"),
            required_features: features,
            required_limits: limits.clone(),
            experimental_features: experimental,
            ..Default::default()
        };
        let (device, queue) = pollster::block_on(adapter.request_device(&desc)).map_err(|e| {
            RuntimeError::DeviceOpen {
                adapter: info.name.clone(),
                reason: e.to_string(),
            }
        })?;
        let errors: Arc<Mutex<Vec<String>>> = Arc::default();
        let sink = errors.clone();
        device.on_uncaptured_error(Arc::new(move |e: wgpu::Error| {
            lock(&sink).push(error_text(&e));
        }));
        let sink = errors.clone();
        device.set_device_lost_callback(move |reason, message| {
            if reason != wgpu::DeviceLostReason::Destroyed {
                lock(&sink).push(format!("device lost: {message}"));
            }
        });
        let mut target = facts::target_for(&info, &limits, features);
        if target.dialect == tm_core::Dialect::Wgsl {
            target.matrix_shape =
                facts::matrix_shape(features, &adapter.cooperative_matrix_properties());
        }
        let stream = Stream::new(&device, &limits);
        Ok(GpuDevice {
            shared: Arc::new(Shared {
                device,
                queue,
                info,
                limits,
                features,
                target,
                pipelines: Mutex::default(),
                pipeline_stats: Mutex::default(),
                stream: Mutex::new(stream),
                bind_groups: Mutex::default(),
                scratch: Mutex::default(),
                errors,
                next_id: AtomicU64::new(1),
            }),
        })
    }

    /// What kernels for this device are lowered for.
    pub fn target(&self) -> &Target {
        &self.shared.target
    }

    /// The limits the device was opened with (the adapter's own).
    pub fn limits(&self) -> &wgpu::Limits {
        &self.shared.limits
    }

    pub fn features(&self) -> wgpu::Features {
        self.shared.features
    }

    pub fn adapter_info(&self) -> &wgpu::AdapterInfo {
        &self.shared.info
    }

    /// "Vulkan: llvmpipe (LLVM 15.0.6, 256 bits), subgroup 8".
    pub fn description(&self) -> String {
        let info = &self.shared.info;
        let t = &self.shared.target;
        let mut s = format!("{}: {}", facts::backend_name(info.backend), info.name);
        if info.subgroup_min_size == info.subgroup_max_size {
            s.push_str(&format!(", subgroup {}", info.subgroup_min_size));
        } else {
            s.push_str(&format!(
                ", subgroup {}..{}",
                info.subgroup_min_size, info.subgroup_max_size
            ));
        }
        if !t.simd_ops {
            s.push_str(" (no simd ops)");
        }
        s
    }

    pub fn pipeline_cache_stats(&self) -> CacheStats {
        *lock(&self.shared.pipeline_stats)
    }

    pub(crate) fn next_id(&self) -> u64 {
        self.shared.next_id.fetch_add(1, Ordering::Relaxed)
    }

    /// Reports (and forgets) the errors wgpu raised asynchronously since the last check.
    pub(crate) fn take_errors(&self) -> Result<(), RuntimeError> {
        let mut errors = lock(&self.shared.errors);
        if errors.is_empty() {
            return Ok(());
        }
        let text = errors.join("\n");
        errors.clear();
        Err(RuntimeError::Device(text))
    }
}

impl Drop for Shared {
    fn drop(&mut self) {
        // Recorded launches still run, and the device is idle before it is destroyed:
        // tearing a device down under in-flight work is where drivers misbehave.
        let stream = self.stream.get_mut().unwrap_or_else(|p| p.into_inner());
        stream.pass = None;
        if let Some(encoder) = stream.encoder.take() {
            if !stream.scalars.is_empty() {
                self.queue.write_buffer(&stream.arena, 0, &stream.scalars);
            }
            self.queue.submit([encoder.finish()]);
        }
        let _ = self.device.poll(wgpu::PollType::wait_indefinitely());
    }
}

/// The whole error: wgpu's description plus its chain of causes, where naga's message is.
pub(crate) fn error_text(e: &wgpu::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        let part = s.to_string();
        if !text.contains(&part) {
            text.push_str("\n  ");
            text.push_str(&part);
        }
        source = s.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(backend: wgpu::Backend, name: &str) -> wgpu::AdapterInfo {
        let mut i = wgpu::AdapterInfo::new(wgpu::DeviceType::Cpu, backend);
        i.name = name.into();
        i
    }

    #[test]
    fn selectors_match_backend_name_or_both() {
        let lvp = info(wgpu::Backend::Vulkan, "llvmpipe (LLVM 15.0.6, 256 bits)");
        assert!(matches("vulkan", &lvp));
        assert!(matches("Vulkan", &lvp));
        assert!(!matches("metal", &lvp));
        assert!(matches("llvmpipe", &lvp));
        assert!(matches("lavapipe", &lvp));
        assert!(matches("vulkan:llvm", &lvp));
        assert!(!matches("dx12:llvm", &lvp));
        assert!(!matches("nvidia", &lvp));
    }

    #[test]
    fn discrete_ranks_above_cpu() {
        let mut gpu = info(wgpu::Backend::Vulkan, "gpu");
        gpu.device_type = wgpu::DeviceType::DiscreteGpu;
        let cpu = info(wgpu::Backend::Vulkan, "cpu");
        assert!(rank(&gpu) > rank(&cpu));
    }
}
