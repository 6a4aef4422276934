//! Device buffers: creation from host bytes, whole-buffer writes and reads.

use std::sync::{Arc, Weak};

use crate::device::{lock, GpuDevice, Shared};
use crate::RuntimeError;

/// A storage buffer on the device. Cheap to clone; the memory is released when the last
/// clone is dropped (and the GPU is done with it).
#[derive(Clone)]
pub struct GpuBuffer {
    pub(crate) inner: Arc<BufferInner>,
}

pub(crate) struct BufferInner {
    pub(crate) buffer: wgpu::Buffer,
    pub(crate) id: u64,
    len: u64,
    pub(crate) owner: Weak<Shared>,
}

impl Drop for BufferInner {
    fn drop(&mut self) {
        // Cached bind groups hold the buffer alive; forget them so the memory goes now.
        if let Some(shared) = self.owner.upgrade() {
            lock(&shared.bind_groups).forget_buffer(self.id);
        }
    }
}

impl GpuBuffer {
    /// Length in bytes as requested (the allocation may be padded up to 4 bytes more).
    pub fn len(&self) -> u64 {
        self.inner.len
    }

    pub fn is_empty(&self) -> bool {
        self.inner.len == 0
    }

    /// Bytes actually allocated: at least 4 and a multiple of 4, because WGSL storage
    /// arrays are made of 4-byte words and wgpu refuses empty bindings.
    pub fn capacity(&self) -> u64 {
        self.inner.buffer.size()
    }

    /// Identity of the allocation (clones share it).
    pub fn id(&self) -> u64 {
        self.inner.id
    }

    pub fn raw(&self) -> &wgpu::Buffer {
        &self.inner.buffer
    }
}

fn padded(len: u64) -> u64 {
    len.div_ceil(4).max(1) * 4
}

impl GpuDevice {
    fn allocate(&self, len: u64, mapped: bool) -> Result<GpuBuffer, RuntimeError> {
        let size = padded(len);
        let max = self.shared.limits.max_buffer_size;
        if size > max {
            return Err(RuntimeError::Buffer(format!(
                "{len} bytes requested but this device allows at most {max} bytes per buffer"
            )));
        }
        let buffer = self.shared.device.create_buffer(&wgpu::BufferDescriptor {
            label: None,
            size,
            usage: wgpu::BufferUsages::STORAGE
                | wgpu::BufferUsages::COPY_SRC
                | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: mapped,
        });
        Ok(GpuBuffer {
            inner: Arc::new(BufferInner {
                buffer,
                id: self.next_id(),
                len,
                owner: Arc::downgrade(&self.shared),
            }),
        })
    }

    /// A zero-filled buffer of `len` bytes (wgpu clears new buffers).
    pub fn create_buffer(&self, len: u64) -> Result<GpuBuffer, RuntimeError> {
        self.allocate(len, false)
    }

    /// A buffer holding a copy of `data`. Zero-length data gives a valid (4-byte) buffer,
    /// since empty arrays are valid kernel arguments.
    pub fn buffer_from_bytes(&self, data: &[u8]) -> Result<GpuBuffer, RuntimeError> {
        // Mapping at creation writes straight into the new allocation: no staging copy and
        // no ordering against recorded launches, since no launch can know this buffer yet.
        let buf = self.allocate(data.len() as u64, true)?;
        {
            let raw = &buf.inner.buffer;
            let mut view = raw
                .slice(..)
                .get_mapped_range_mut()
                .map_err(|e| RuntimeError::Buffer(format!("mapping a new buffer: {e}")))?;
            view.slice(..data.len()).copy_from_slice(data);
        }
        buf.inner.buffer.unmap();
        Ok(buf)
    }

    /// Replaces the buffer's contents from offset 0. Launches recorded before the write see
    /// the old contents, launches recorded after see the new ones.
    pub fn write_buffer(&self, buf: &GpuBuffer, data: &[u8]) -> Result<(), RuntimeError> {
        let len = data.len() as u64;
        if len > buf.len() {
            return Err(RuntimeError::Buffer(format!(
                "writing {len} bytes into a buffer of {} bytes",
                buf.len()
            )));
        }
        if len == 0 {
            return Ok(());
        }
        // Queue writes take effect before the next submission: pending launches must be
        // submitted first or they would see data written after them.
        self.flush()?;
        if len.is_multiple_of(4) {
            self.shared.queue.write_buffer(&buf.inner.buffer, 0, data);
        } else if len == buf.len() {
            // The padding after the end is ours, so it can be overwritten with zeros.
            let mut padded_data = data.to_vec();
            padded_data.resize(padded(len) as usize, 0);
            self.shared
                .queue
                .write_buffer(&buf.inner.buffer, 0, &padded_data);
        } else {
            return Err(RuntimeError::Buffer(format!(
                "a partial write must be a multiple of 4 bytes, got {len}"
            )));
        }
        Ok(())
    }

    /// Copies the first `out.len()` bytes of the buffer to the host, after every launch
    /// recorded so far has finished.
    pub fn read_buffer(&self, buf: &GpuBuffer, out: &mut [u8]) -> Result<(), RuntimeError> {
        let len = out.len() as u64;
        if len > buf.len() {
            return Err(RuntimeError::Buffer(format!(
                "reading {len} bytes from a buffer of {} bytes",
                buf.len()
            )));
        }
        if len == 0 {
            return Ok(());
        }
        let size = padded(len);
        let staging = self.shared.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("readback"),
            size,
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        // The copy goes into the open stream, behind the launches that produce the data.
        self.record_copy(&buf.inner.buffer, &staging, size)?;
        self.flush()?;
        let (tx, rx) = std::sync::mpsc::channel();
        staging.slice(..).map_async(wgpu::MapMode::Read, move |r| {
            let _ = tx.send(r);
        });
        self.wait()?;
        // Map callbacks fire in whichever thread polls: another thread's poll may still be
        // delivering ours when our wait returns, hence a grace period rather than try_recv.
        match rx.recv_timeout(std::time::Duration::from_secs(30)) {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(RuntimeError::Buffer(format!("readback failed: {e}"))),
            Err(_) => {
                return Err(RuntimeError::Device(
                    "readback did not complete after waiting for the device".into(),
                ))
            }
        }
        {
            let view = staging
                .slice(..)
                .get_mapped_range()
                .map_err(|e| RuntimeError::Buffer(format!("mapping readback buffer: {e}")))?;
            out.copy_from_slice(&view[..out.len()]);
        }
        staging.unmap();
        self.take_errors()
    }
}
