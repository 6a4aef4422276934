//! The stream of recorded work: launches and copies go into one command encoder and are
//! submitted in batches, so a launch costs a few wgpu calls rather than a queue submission.

use crate::device::{lock, GpuDevice};
use crate::RuntimeError;

/// Launches recorded before a batch is submitted even if nobody synchronizes: the GPU
/// should not sit idle while the host records thousands of launches.
pub(crate) const BATCH_LAUNCHES: u32 = 64;

/// Bytes of scalar data one batch may hold; a batch that fills it is submitted early.
const ARENA_BYTES: u64 = 256 * 1024;

/// Size of the scalar arena on a device with these limits: the most scalar bytes one
/// launch can have.
pub(crate) fn arena_bytes(limits: &wgpu::Limits) -> u64 {
    ARENA_BYTES.min(limits.max_storage_buffer_binding_size)
}

pub(crate) struct Stream {
    // Declared before `encoder`: an open pass must go before its encoder does.
    pub(crate) pass: Option<wgpu::ComputePass<'static>>,
    pub(crate) encoder: Option<wgpu::CommandEncoder>,
    /// Scalar buffers of the launches of this batch, at their dynamic offsets. Uploaded
    /// into `arena` just before the batch is submitted.
    pub(crate) scalars: Vec<u8>,
    pub(crate) arena: wgpu::Buffer,
    pub(crate) arena_bytes: u64,
    pub(crate) align: u64,
    pub(crate) launches: u32,
    /// Reused for every launch's bind-group cache key, so a launch allocates none.
    pub(crate) bind_key: Vec<u64>,
}

impl Stream {
    pub(crate) fn new(device: &wgpu::Device, limits: &wgpu::Limits) -> Stream {
        let arena_bytes = arena_bytes(limits);
        let arena = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("scalar arena"),
            size: arena_bytes,
            usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        Stream {
            pass: None,
            encoder: None,
            scalars: Vec::with_capacity(4096),
            arena,
            arena_bytes,
            align: u64::from(limits.min_storage_buffer_offset_alignment.max(4)),
            launches: 0,
            bind_key: Vec::new(),
        }
    }

    pub(crate) fn encoder(&mut self, device: &wgpu::Device) -> &mut wgpu::CommandEncoder {
        self.pass = None;
        self.encoder.get_or_insert_with(|| {
            device.create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("triton-metal stream"),
            })
        })
    }

    pub(crate) fn pass(&mut self, device: &wgpu::Device) -> &mut wgpu::ComputePass<'static> {
        if self.pass.is_none() {
            let pass = self
                .encoder(device)
                .begin_compute_pass(&wgpu::ComputePassDescriptor {
                    label: None,
                    timestamp_writes: None,
                })
                .forget_lifetime();
            self.pass = Some(pass);
        }
        match self.pass.as_mut() {
            Some(p) => p,
            None => unreachable!("the pass was opened just above"),
        }
    }

    /// Where the next launch's `len` scalar bytes go, or None when the batch is full.
    pub(crate) fn reserve_scalars(&mut self, len: u64) -> Option<u64> {
        let offset = (self.scalars.len() as u64).next_multiple_of(self.align);
        if offset + len > self.arena_bytes {
            return None;
        }
        Some(offset)
    }
}

impl GpuDevice {
    pub(crate) fn flush_stream(&self, stream: &mut Stream) {
        stream.pass = None;
        stream.launches = 0;
        let Some(encoder) = stream.encoder.take() else {
            return;
        };
        if !stream.scalars.is_empty() {
            // Queue writes land before the submission that follows them and after the
            // ones before, so each batch sees its own scalars in the shared arena.
            self.shared
                .queue
                .write_buffer(&stream.arena, 0, &stream.scalars);
            stream.scalars.clear();
        }
        self.shared.queue.submit([encoder.finish()]);
    }

    /// Submits everything recorded so far without waiting for it.
    pub fn flush(&self) -> Result<(), RuntimeError> {
        let mut stream = lock(&self.shared.stream);
        self.flush_stream(&mut stream);
        Ok(())
    }

    pub(crate) fn record_copy(
        &self,
        src: &wgpu::Buffer,
        dst: &wgpu::Buffer,
        size: u64,
    ) -> Result<(), RuntimeError> {
        let mut stream = lock(&self.shared.stream);
        stream
            .encoder(&self.shared.device)
            .copy_buffer_to_buffer(src, 0, dst, 0, size);
        Ok(())
    }

    pub(crate) fn wait(&self) -> Result<(), RuntimeError> {
        self.shared
            .device
            .poll(wgpu::PollType::wait_indefinitely())
            .map(|_| ())
            .map_err(|e| RuntimeError::Device(format!("waiting for the device: {e}")))
    }

    /// Submits everything recorded so far and waits until the device has finished it.
    /// Errors the device raised while running recorded work are reported here.
    pub fn synchronize(&self) -> Result<(), RuntimeError> {
        self.flush()?;
        self.wait()?;
        self.take_errors()
    }
}
