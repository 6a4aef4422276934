//! Lowered Tile IR kernels executed end to end: lowered for the Apple target and run as MSL
//! on the emulator, and lowered for the opened wgpu device (lavapipe here, SIMD width 8) and
//! run as WGSL, each compared with a Rust reference.

#[path = "exec/build.rs"]
mod build;
#[path = "exec/harness.rs"]
mod harness;

mod lowered {
    pub mod atomic;
    pub mod atomic64;
    pub mod bf16;
    pub mod coop;
    pub mod dot;
    pub mod lock;
    pub mod reduce;
    pub mod scan;
    pub mod shape;
}
