//! Launching a pipeline: argument checks against the ABI and the device, the grid header,
//! bind groups, and recording into the stream.

use std::sync::Arc;

use tm_core::{KernelAbi, ScratchKind};

use crate::bind_cache::bind_key;
use crate::buffer::GpuBuffer;
use crate::device::{lock, GpuDevice};
use crate::pipeline::GpuPipeline;
use crate::stream::BATCH_LAUNCHES;
use crate::RuntimeError;

impl GpuDevice {
    /// Records one launch of `pipeline` over the logical `grid`. `scalars` is the kernel's
    /// scalar buffer (`abi.scalar_bytes` long) with the header left for us to write;
    /// `buffers` follow `abi.buffers` in order; the `abi.scratch` buffers are the device's
    /// own (see scratch.rs): the debug records of a launch are collected with
    /// `take_debug_output`. The launch runs asynchronously: reads and `synchronize` wait
    /// for it. A grid with a zero dimension launches nothing.
    pub fn launch(
        &self,
        pipeline: &GpuPipeline,
        grid: [u32; 3],
        scalars: &mut [u8],
        buffers: &[&GpuBuffer],
    ) -> Result<(), RuntimeError> {
        let abi = &pipeline.inner.abi;
        let invalid = |reason: String| RuntimeError::InvalidLaunch {
            entry: abi.entry.clone(),
            reason,
        };
        let me = Arc::as_ptr(&self.shared);
        if pipeline.inner.owner != me as usize {
            return Err(invalid("the pipeline was built on another device".into()));
        }
        if scalars.len() != abi.scalar_bytes as usize {
            return Err(invalid(format!(
                "scalar buffer of {} bytes, the kernel expects {}",
                scalars.len(),
                abi.scalar_bytes
            )));
        }
        if buffers.len() != abi.buffers.len() {
            return Err(invalid(format!(
                "{} buffers given, the kernel takes {}",
                buffers.len(),
                abi.buffers.len()
            )));
        }
        let max_binding = self.shared.limits.max_storage_buffer_binding_size;
        for (i, b) in buffers.iter().enumerate() {
            if b.inner.owner.as_ptr() != me {
                return Err(invalid(format!("buffer {i} belongs to another device")));
            }
            if b.capacity() > max_binding {
                return Err(invalid(format!(
                    "buffer {i} has {} bytes; this device binds at most {max_binding} bytes per buffer",
                    b.capacity()
                )));
            }
        }
        if grid.contains(&0) {
            return Ok(());
        }
        let total = grid.iter().map(|&g| u128::from(g)).product::<u128>();
        if total > u128::from(u32::MAX) {
            return Err(invalid(format!(
                "grid {grid:?} has {total} programs; one launch numbers at most 2^32 - 1"
            )));
        }
        let max_dim = self.shared.target.max_grid_dim;
        let (dispatch, header) = KernelAbi::dispatch(grid, max_dim);
        // The prologue computes the linear program id in u32 (see CONVENTIONS.md); the
        // largest one it can form must fit.
        let largest = (dispatch[0] as u64 - 1)
            + dispatch[0] as u64
                * ((dispatch[1] as u64 - 1) + max_dim as u64 * (dispatch[2] as u64 - 1));
        if dispatch[2] > max_dim || largest > u32::MAX as u64 {
            return Err(invalid(format!(
                "grid {grid:?} has more programs than one launch can number (2^32)"
            )));
        }
        for (word, value) in scalars.chunks_exact_mut(4).zip(header) {
            word.copy_from_slice(&value.to_le_bytes());
        }
        let scratch = self.scratch_buffers(pipeline)?;
        self.record_dispatch(pipeline, dispatch, scalars, buffers, &scratch);
        Ok(())
    }

    fn record_dispatch(
        &self,
        pipeline: &GpuPipeline,
        dispatch: [u32; 3],
        scalars: &[u8],
        buffers: &[&GpuBuffer],
        scratch: &[GpuBuffer],
    ) {
        let device = &self.shared.device;
        let p = &pipeline.inner;
        let mut stream = lock(&self.shared.stream);

        let offset = match stream.reserve_scalars(scalars.len() as u64) {
            Some(o) => o,
            None => {
                self.flush_stream(&mut stream);
                // An empty arena holds any scalar buffer the ABI check let through.
                0
            }
        };
        stream.scalars.resize(offset as usize, 0);
        stream.scalars.extend_from_slice(scalars);

        let writes = |i: usize| p.abi.buffers[i].writes;
        // A debug buffer is new at every launch: a bind group holding it is never reused.
        let fresh_scratch = p.abi.scratch.iter().any(|s| s.kind == ScratchKind::Debug);
        let scratch_raw: Vec<&wgpu::Buffer> = scratch.iter().map(|b| b.raw()).collect();
        let bind_group =
            if fresh_scratch && (0..buffers.len()).all(|i| !needs_snapshot(writes, buffers, i)) {
                let raw: Vec<&wgpu::Buffer> = buffers.iter().map(|b| b.raw()).collect();
                self.bind_group(pipeline, &stream.arena, &raw, &scratch_raw)
            } else if (0..buffers.len()).all(|i| !needs_snapshot(writes, buffers, i)) {
                bind_key(
                    &mut stream.bind_key,
                    p.id,
                    buffers
                        .iter()
                        .map(|b| b.id())
                        .chain(scratch.iter().map(|b| b.id())),
                );
                let cached = lock(&self.shared.bind_groups).get(&stream.bind_key);
                match cached {
                    Some(g) => g,
                    None => {
                        let raw: Vec<&wgpu::Buffer> = buffers.iter().map(|b| b.raw()).collect();
                        let g = self.bind_group(pipeline, &stream.arena, &raw, &scratch_raw);
                        lock(&self.shared.bind_groups).insert(&stream.bind_key, g.clone());
                        g
                    }
                }
            } else {
                // A buffer bound both read-only and writable is a usage conflict in WebGPU:
                // the read-only bindings get a snapshot taken just before the launch.
                let mut temps = Vec::new();
                for (i, b) in buffers.iter().enumerate() {
                    if needs_snapshot(writes, buffers, i) {
                        let src = b.raw();
                        let tmp = device.create_buffer(&wgpu::BufferDescriptor {
                            label: Some("alias snapshot"),
                            size: src.size(),
                            usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_DST,
                            mapped_at_creation: false,
                        });
                        stream
                            .encoder(device)
                            .copy_buffer_to_buffer(src, 0, &tmp, 0, src.size());
                        temps.push((i, tmp));
                    }
                }
                let raw: Vec<&wgpu::Buffer> = buffers
                    .iter()
                    .enumerate()
                    .map(|(i, b)| match temps.iter().find(|(j, _)| *j == i) {
                        Some((_, t)) => t,
                        None => b.raw(),
                    })
                    .collect();
                self.bind_group(pipeline, &stream.arena, &raw, &scratch_raw)
            };

        let dynamic_offset = offset as u32;
        let pass = stream.pass(device);
        pass.set_pipeline(&p.pipeline);
        pass.set_bind_group(0, &bind_group, &[dynamic_offset]);
        pass.dispatch_workgroups(dispatch[0], dispatch[1], dispatch[2]);
        stream.launches += 1;
        if stream.launches >= BATCH_LAUNCHES {
            self.flush_stream(&mut stream);
        }
    }

    fn bind_group(
        &self,
        pipeline: &GpuPipeline,
        arena: &wgpu::Buffer,
        buffers: &[&wgpu::Buffer],
        scratch: &[&wgpu::Buffer],
    ) -> wgpu::BindGroup {
        let p = &pipeline.inner;
        let mut entries = Vec::with_capacity(buffers.len() + scratch.len() + 1);
        entries.push(wgpu::BindGroupEntry {
            binding: 0,
            resource: wgpu::BindingResource::Buffer(wgpu::BufferBinding {
                buffer: arena,
                offset: 0,
                size: std::num::NonZeroU64::new(u64::from(p.abi.scalar_bytes)),
            }),
        });
        for (b, raw) in p.abi.buffers.iter().zip(buffers) {
            entries.push(wgpu::BindGroupEntry {
                binding: b.binding,
                resource: raw.as_entire_binding(),
            });
        }
        for (s, raw) in p.abi.scratch.iter().zip(scratch) {
            entries.push(wgpu::BindGroupEntry {
                binding: s.binding,
                resource: raw.as_entire_binding(),
            });
        }
        self.shared
            .device
            .create_bind_group(&wgpu::BindGroupDescriptor {
                label: None,
                layout: &p.layout,
                entries: &entries,
            })
    }
}

/// Whether buffer argument `i` is bound read-only while the same allocation is also bound
/// writable in this launch. Checked without allocating: the common launch has no alias.
fn needs_snapshot(writes: impl Fn(usize) -> bool, buffers: &[&GpuBuffer], i: usize) -> bool {
    !writes(i)
        && buffers
            .iter()
            .enumerate()
            .any(|(j, o)| j != i && writes(j) && o.id() == buffers[i].id())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::KernelCode;
    use tm_core::{BufferBinding, ScalarType};

    #[test]
    fn bind_groups_are_reused_and_forgotten_with_their_buffers() {
        let dev = match GpuDevice::open(None) {
            Ok(d) => d,
            Err(e) => {
                assert_ne!(
                    std::env::var("TRITON_METAL_REQUIRE_GPU").as_deref(),
                    Ok("1"),
                    "no device: {e}"
                );
                eprintln!("skipping: {e}");
                return;
            }
        };
        let src = "@group(0) @binding(0) var<storage, read> tm_scalars: array<u32>;
@group(0) @binding(1) var<storage, read_write> b0: array<u32>;
@compute @workgroup_size(1)
fn k(@builtin(workgroup_id) tm_group: vec3<u32>,
     @builtin(local_invocation_index) tm_tid: u32) { b0[0] = b0[0] + 1u; }";
        let abi = KernelAbi {
            entry: "k".into(),
            threads_per_group: 1,
            buffers: vec![BufferBinding {
                arg_index: 0,
                binding: 1,
                elem: ScalarType::U32,
                reads: true,
                writes: true,
            }],
            scratch: vec![],
            scalars: vec![],
            scalar_bytes: 16,
            shared_bytes: 0,
            debug: None,
        };
        let p = dev
            .create_pipeline(&KernelCode::Wgsl(src.into()), &abi)
            .unwrap();
        let a = dev.create_buffer(4).unwrap();
        let b = dev.create_buffer(4).unwrap();
        let mut s = [0u8; 16];
        let cached = || lock(&dev.shared.bind_groups).len();
        for _ in 0..3 {
            dev.launch(&p, [1, 1, 1], &mut s, &[&a]).unwrap();
        }
        assert_eq!(cached(), 1);
        dev.launch(&p, [1, 1, 1], &mut s, &[&b]).unwrap();
        assert_eq!(cached(), 2);
        let mut out = [0u8; 4];
        dev.read_buffer(&a, &mut out).unwrap();
        assert_eq!(u32::from_le_bytes(out), 3);
        drop(a);
        assert_eq!(cached(), 1);
        // A clone keeps the allocation, and its bind group, alive.
        let b2 = b.clone();
        drop(b);
        assert_eq!(cached(), 1);
        drop(b2);
        assert_eq!(cached(), 0);
        dev.synchronize().unwrap();
    }
}
