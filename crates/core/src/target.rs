//! Targets as descriptions: lowering and printing read these facts instead of testing which
//! backend they are on.

/// The shading language a target's kernels are printed in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Dialect {
    /// Metal Shading Language 3.0 (3.1 where `native_bf16`).
    Msl,
    /// WGSL for wgpu/naga (Vulkan, DX12, browsers).
    Wgsl,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Target {
    /// Short name used in caches and messages: "apple-m1", "vulkan-lavapipe", "msl-emu".
    pub name: String,
    pub dialect: Dialect,
    /// Hardware SIMD (simdgroup / subgroup) width. Never assumed: 32 on Apple and NVIDIA,
    /// 8 on lavapipe, 64 on some AMD.
    pub simd_width: u32,
    pub max_threads_per_group: u32,
    pub shared_mem_bytes: u32,
    /// Largest workgroup count per grid dimension; larger grids are folded.
    pub max_grid_dim: u32,
    /// Buffer arguments a kernel may have, the packed scalar buffer included (Metal: 31).
    pub max_buffers: u32,
    pub has_f16: bool,
    pub has_i64: bool,
    pub has_f64: bool,
    pub native_bf16: bool,
    /// Storage can be read and written a byte or a half-word at a time. WGSL cannot: 8- and
    /// 16-bit elements are accessed through 32-bit words there.
    pub byte_addressable: bool,
    /// simd/subgroup shuffles and reductions are available.
    pub simd_ops: bool,
    /// The cooperative-matrix (M, N, K) shape of f16 inputs with f32 accumulation, if any
    /// (8×8×8 simdgroup_matrix on Apple7+, 16×16×16 on NVIDIA Vulkan).
    pub matrix_shape: Option<(u32, u32, u32)>,
    pub float_atomic_add: bool,
}

impl Target {
    /// Apple7+ GPUs through Metal: the M1..M5 families share these facts (see DESIGN.md).
    pub fn apple() -> Target {
        Target {
            name: "metal-apple".into(),
            dialect: Dialect::Msl,
            simd_width: 32,
            max_threads_per_group: 1024,
            shared_mem_bytes: 32 * 1024,
            max_grid_dim: 65535,
            max_buffers: 31,
            has_f16: true,
            has_i64: true,
            has_f64: false,
            native_bf16: false,
            byte_addressable: true,
            simd_ops: true,
            matrix_shape: Some((8, 8, 8)),
            float_atomic_add: true,
        }
    }

    /// The MSL emulator executes the Apple target's MSL on the CPU.
    pub fn msl_emulator() -> Target {
        Target {
            name: "msl-emu".into(),
            ..Target::apple()
        }
    }

    /// A conservative WGSL target; the runtime fills in the adapter's real facts.
    pub fn wgsl_generic(simd_width: u32) -> Target {
        Target {
            name: "wgsl".into(),
            dialect: Dialect::Wgsl,
            simd_width,
            max_threads_per_group: 256,
            shared_mem_bytes: 16 * 1024,
            max_grid_dim: 65535,
            max_buffers: 8,
            has_f16: true,
            has_i64: true,
            has_f64: false,
            native_bf16: false,
            byte_addressable: false,
            simd_ops: true,
            matrix_shape: None,
            float_atomic_add: false,
        }
    }

    /// Mesa's lavapipe (software Vulkan) as wgpu 30 reports it (Mesa 22.3, LLVM 15):
    /// subgroups of 8, 32 storage buffers per stage, `SHADER_FLOAT32_ATOMIC`, no
    /// cooperative matrix. The runtime derives its target from the live adapter; this copy
    /// is for tests and the CLI, and a runtime test checks that the two agree.
    pub fn lavapipe() -> Target {
        Target {
            name: "vulkan-lavapipe".into(),
            max_threads_per_group: 1024,
            shared_mem_bytes: 32 * 1024,
            max_buffers: 32,
            float_atomic_add: true,
            ..Target::wgsl_generic(8)
        }
    }
}
