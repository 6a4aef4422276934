//! The contract between a compiled kernel and the runtime that launches it. The runtime
//! reads only this: it never looks inside a kernel.
//!
//! Binding 0 is the packed scalar buffer. It starts with a header of `SCALAR_HEADER_BYTES`:
//! the logical grid `(gx, gy, gz)` as three u32 and the number of workgroups dispatched along
//! x as a fourth u32. Programs are numbered linearly and dispatched over as many hardware
//! grid dimensions as needed (each at most `Target::max_grid_dim`); the kernel prologue
//! recovers `program_id(0..3)` from the linear id and returns early past the end. Scalar
//! arguments follow the header at their `offset`, naturally aligned. Buffers follow at
//! bindings 1, 2, ... in the order of `KernelAbi::buffers`, then the launcher's own
//! `KernelAbi::scratch` buffers.

use crate::ScalarType;

pub const SCALAR_HEADER_BYTES: u32 = 16;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BufferBinding {
    /// Index of the kernel argument (in the Python signature, constexprs included) that
    /// supplies this buffer.
    pub arg_index: usize,
    /// Binding / `[[buffer(n)]]` index; 1-based, 0 is the scalar buffer.
    pub binding: u32,
    pub elem: ScalarType,
    pub reads: bool,
    /// The kernel may store (or atomically update) through this pointer: the host must copy
    /// it back.
    pub writes: bool,
}

/// What a launcher-supplied buffer is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ScratchKind {
    /// u32 lock words for atomics the target has no instruction for (64-bit atomics on
    /// Metal). Zeroed once when the launcher creates it and kept across launches: every
    /// kernel leaves its locks released.
    Locks,
    /// Records written by `tl.device_print` / `tl.device_assert` on GPUs. Zeroed before each
    /// launch and read back after it.
    Debug,
}

/// A buffer the kernel needs that no argument supplies: the launcher (runtime, emulator)
/// creates it and binds it itself, after the argument buffers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScratchBinding {
    pub kind: ScratchKind,
    /// Binding / `[[buffer(n)]]` index, after every entry of `KernelAbi::buffers`.
    pub binding: u32,
    /// Size the launcher must provide, a multiple of 4.
    pub bytes: u32,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScalarSlot {
    pub arg_index: usize,
    /// Byte offset in the scalar buffer (header included).
    pub offset: u32,
    pub ty: ScalarType,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KernelAbi {
    /// Entry point name in the printed source.
    pub entry: String,
    /// Threads per workgroup: num_warps × simd width of the target.
    pub threads_per_group: u32,
    pub buffers: Vec<BufferBinding>,
    /// Launcher-supplied buffers (locks, debug records), bound after `buffers`; callers of a
    /// launch pass only the argument buffers.
    pub scratch: Vec<ScratchBinding>,
    pub scalars: Vec<ScalarSlot>,
    /// Total size of the scalar buffer, a multiple of 16.
    pub scalar_bytes: u32,
    /// Threadgroup memory the kernel declares, for occupancy and limit checks.
    pub shared_bytes: u32,
    /// The print/assert sites whose records the kernel writes into its `ScratchKind::Debug`
    /// buffer (see `crate::debug`); None when it has none.
    pub debug: Option<crate::debug::DebugInfo>,
}

impl KernelAbi {
    /// Number of hardware workgroups to dispatch per dimension for a logical grid, and the
    /// header words to put at the start of the scalar buffer.
    pub fn dispatch(grid: [u32; 3], max_grid_dim: u32) -> ([u32; 3], [u32; 4]) {
        let total = grid[0] as u64 * grid[1] as u64 * grid[2] as u64;
        // A limit of 0 describes no real device; read it as 1 rather than divide by it.
        let max = (max_grid_dim as u64).max(1);
        let x = total.min(max);
        let rest = total.div_ceil(max);
        let y = rest.clamp(1, max);
        let z = rest.div_ceil(max).max(1);
        let dispatch = if total == 0 {
            [0, 0, 0]
        } else {
            [x as u32, y as u32, z as u32]
        };
        (dispatch, [grid[0], grid[1], grid[2], x as u32])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_grids_dispatch_as_is_along_x() {
        let (d, h) = KernelAbi::dispatch([100, 1, 1], 65535);
        assert_eq!(d, [100, 1, 1]);
        assert_eq!(h, [100, 1, 1, 100]);
    }

    #[test]
    fn large_grids_fold_and_cover_every_program() {
        let (d, h) = KernelAbi::dispatch([70000, 3, 1], 65535);
        let covered = d[0] as u64 * d[1] as u64 * d[2] as u64;
        assert!(covered >= 210000);
        assert!(d.iter().all(|&x| x <= 65535));
        assert_eq!(h[3], d[0]);
    }

    #[test]
    fn a_zero_limit_does_not_divide_by_zero() {
        let (d, h) = KernelAbi::dispatch([3, 1, 1], 0);
        assert_eq!(d, [1, 1, 3]);
        assert_eq!(h, [3, 1, 1, 1]);
    }
}
