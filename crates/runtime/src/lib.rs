//! Runtime on wgpu: devices, buffers, pipeline cache, launch.
