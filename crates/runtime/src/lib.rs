//! Runtime on wgpu: devices, buffers, pipeline cache, launch.
//!
//! A `GpuDevice` is opened once (`GpuDevice::open`, selector from `TRITON_METAL_DEVICE`),
//! describes itself to the compiler as a `tm_core::Target`, builds pipelines from printed
//! kernels (`create_pipeline`, cached in memory), and records launches into a stream that
//! is submitted in batches; reads and `synchronize` wait for it.

mod bind_cache;
mod buffer;
mod device;
mod error;
mod facts;
mod launch;
mod pipeline;
mod stream;

pub use buffer::GpuBuffer;
pub use device::{AdapterSummary, CacheStats, GpuDevice};
pub use error::RuntimeError;
pub use pipeline::{GpuPipeline, KernelCode};

#[cfg(test)]
mod thread_safety {
    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn handles_are_send_and_sync() {
        assert_send_sync::<super::GpuDevice>();
        assert_send_sync::<super::GpuBuffer>();
        assert_send_sync::<super::GpuPipeline>();
    }
}
