//! Launcher-supplied buffers (`KernelAbi::scratch`): the lock words kept per device, and the
//! debug-record buffers of `tl.device_print` / `tl.device_assert`, fresh for every launch
//! and handed back to the caller once the launch has finished.

use tm_core::{ScratchBinding, ScratchKind};

use crate::buffer::GpuBuffer;
use crate::device::{lock, GpuDevice};
use crate::pipeline::GpuPipeline;
use crate::RuntimeError;

/// Scratch state of one device.
#[derive(Default)]
pub(crate) struct ScratchState {
    /// The lock words every kernel with a `Locks` binding shares. Kernels leave their locks
    /// released, so one zeroed buffer serves every launch; it is replaced (zeroed again)
    /// only when a kernel needs more words than it has.
    locks: Option<GpuBuffer>,
    /// Debug buffers of launches whose records nobody has taken yet: (pipeline id, buffer).
    pending_debug: Vec<(u64, GpuBuffer)>,
}

impl GpuDevice {
    /// The buffers to bind after the argument buffers of a launch of `pipeline`, in
    /// `abi.scratch` order. Debug buffers are registered as pending for
    /// [`GpuDevice::take_debug_output`].
    pub(crate) fn scratch_buffers(
        &self,
        pipeline: &GpuPipeline,
    ) -> Result<Vec<GpuBuffer>, RuntimeError> {
        let abi = &pipeline.inner.abi;
        let mut out = Vec::with_capacity(abi.scratch.len());
        for s in &abi.scratch {
            out.push(match s.kind {
                ScratchKind::Locks => self.locks_buffer(s)?,
                ScratchKind::Debug => {
                    // wgpu zeroes new buffers: that is the zeroing a debug buffer needs.
                    let b = self.create_buffer(u64::from(s.bytes))?;
                    lock(&self.shared.scratch)
                        .pending_debug
                        .push((pipeline.id(), b.clone()));
                    b
                }
            });
        }
        Ok(out)
    }

    fn locks_buffer(&self, s: &ScratchBinding) -> Result<GpuBuffer, RuntimeError> {
        let mut state = lock(&self.shared.scratch);
        if let Some(b) = &state.locks {
            if b.len() >= u64::from(s.bytes) {
                return Ok(b.clone());
            }
        }
        // Launches already recorded keep the old buffer alive through their bind groups;
        // each launch only needs its locks released at its end, which the old one still is.
        let b = self.create_buffer(u64::from(s.bytes))?;
        state.locks = Some(b.clone());
        Ok(b)
    }

    /// The debug records (`ScratchKind::Debug` buffers, whole) of every launch of `pipeline`
    /// recorded since the last call, in launch order. Waits for those launches to finish;
    /// returns at once, without synchronizing, when there are none.
    pub fn take_debug_output(&self, pipeline: &GpuPipeline) -> Result<Vec<Vec<u8>>, RuntimeError> {
        let mine: Vec<GpuBuffer> = {
            let mut state = lock(&self.shared.scratch);
            let id = pipeline.id();
            let (mine, rest): (Vec<_>, Vec<_>) = std::mem::take(&mut state.pending_debug)
                .into_iter()
                .partition(|(p, _)| *p == id);
            state.pending_debug = rest;
            mine.into_iter().map(|(_, b)| b).collect()
        };
        let mut out = Vec::with_capacity(mine.len());
        for b in &mine {
            let mut bytes = vec![0u8; b.len() as usize];
            self.read_buffer(b, &mut bytes)?;
            out.push(bytes);
        }
        Ok(out)
    }

    /// The lock-word buffer currently shared by kernels, if any kernel has asked for one.
    /// For tests and diagnostics.
    pub fn locks_buffer_id(&self) -> Option<u64> {
        lock(&self.shared.scratch).locks.as_ref().map(|b| b.id())
    }
}
