//! Runtime on wgpu: devices, buffers, pipeline cache, launch.
//!
//! A `GpuDevice` is opened once (`GpuDevice::open`, selector from `TRITON_METAL_DEVICE`),
//! describes itself to the compiler as a `tm_core::Target`, builds pipelines from printed
//! kernels (`create_pipeline`, cached in memory), and records launches into a stream that
//! is submitted in batches; reads and `synchronize` wait for it.
//!
//! Semantics callers rely on:
//! - Work on one device is ordered as it was issued: launches, `write_buffer` and
//!   `read_buffer` see each other's effects in call order, from any thread.
//! - A buffer passed both to a read-only and to a written binding of one launch (in-place
//!   `x = x + y`) is allowed: the read-only bindings see a copy taken just before it.
//! - Buffers are padded to a multiple of 4 bytes (at least 4); `len()` is what was asked.
//! - Errors the device raises asynchronously come back from the next `synchronize` or
//!   `read_buffer`; compile errors come back from `create_pipeline` with naga's message.
//!
//! WGSL facts checked by the tests on lavapipe and NVIDIA: naga 30 refuses
//! `enable subgroups;` (the SUBGROUP feature alone enables subgroup builtins), f16 needs
//! `enable f16;`, i64 needs no directive and an i64 scalar is read as
//! `bitcast<i64>(u64(lo) | (u64(hi) << 32u))`, and `atomic<f32>` supports `atomicAdd`
//! where `Target::float_atomic_add` says so.

mod bind_cache;
mod buffer;
mod device;
mod error;
mod facts;
mod launch;
mod pipeline;
mod scratch;
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
