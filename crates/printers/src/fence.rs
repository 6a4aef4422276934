//! Memory fences (`Stmt::Fence`), the acquire/release ordering of atomics.
//!
//! MSL: `atomic_thread_fence(flags, memory_order_seq_cst, scope)`, new in Metal 3.2 (macOS
//! 15, iOS 18; wgpu compiles with the newest version the OS has). Metal 3.0/3.1 have no
//! fence beyond `threadgroup_barrier`, whose ordering is for the threads of one threadgroup
//! only: the printed fence picks by `__METAL_VERSION__`, falling back to that barrier
//! (lowering puts fences where every thread arrives, so a barrier there is safe).
//!
//! WGSL can not express a fence at all. Its atomics are relaxed (WGSL spec, "Memory
//! Model": every atomic operation is relaxed), and its only ordering constructs are the
//! control barriers `storageBarrier()`, `workgroupBarrier()` and `textureBarrier()`,
//! which naga prints as `OpControlBarrier(Workgroup, Workgroup, AcquireRelease | ...)`:
//! acquire/release among the invocations of one workgroup, and only where all of them
//! reach it. So a fence is printed as `storageBarrier()` (lowering puts fences where every
//! thread arrives): ordering within the workgroup holds, ordering between workgroups
//! (a spin lock taken by several programs) is not guaranteed by WGSL, only by what a
//! driver does in practice (NVIDIA and lavapipe treat device memory coherently at
//! workgroup barriers).

use tm_simt::ir::FenceScope;

/// The fence's lines: the Metal 3.2 fence, or before 3.2 the barrier (`divergent: false`)
/// or a compile error (`divergent`: only some threads reach it, where a barrier would hang
/// or be undefined, and leaving the fence out would let a lock's critical section read
/// stale data; Metal before 3.2 has no device-scope fence to use instead).
pub(crate) fn msl_fence(scope: FenceScope, divergent: bool) -> [String; 5] {
    let scope = match scope {
        FenceScope::Threadgroup => "thread_scope_threadgroup",
        FenceScope::Device => "thread_scope_device",
    };
    let before_3_2 = if divergent {
        "#error \"this kernel emulates 64-bit atomics with locks, which need the device memory fence of Metal 3.2 (macOS 15 / iOS 18)\"".into()
    } else {
        "metal::threadgroup_barrier(mem_flags::mem_threadgroup | mem_flags::mem_device);".into()
    };
    [
        "#if __METAL_VERSION__ >= 320".into(),
        format!(
            "metal::atomic_thread_fence(mem_flags::mem_device | mem_flags::mem_threadgroup, memory_order_seq_cst, {scope});"
        ),
        "#else".into(),
        before_3_2,
        "#endif".into(),
    ]
}

pub(crate) const WGSL_FENCE: &str = "storageBarrier();";

/// A fence only some threads reach has no WGSL form (`storageBarrier()` is a control
/// barrier); lowering never asks for one on WGSL targets.
pub(crate) fn wgsl_divergent_fence() -> crate::PrintError {
    crate::PrintError::unsupported("a memory fence in divergent control flow (WGSL has none)")
}
