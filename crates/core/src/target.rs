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

/// C++ and MSL words a kernel may not be named after (those plausible as kernel names).
const MSL_RESERVED: &[&str] = &[
    "kernel",
    "device",
    "constant",
    "threadgroup",
    "thread",
    "void",
    "int",
    "uint",
    "float",
    "half",
    "bool",
    "char",
    "short",
    "long",
    "if",
    "else",
    "for",
    "while",
    "do",
    "return",
    "break",
    "continue",
    "switch",
    "case",
    "default",
    "struct",
    "class",
    "namespace",
    "using",
    "static",
    "inline",
    "const",
    "true",
    "false",
    "main",
    "metal",
    "template",
    "typename",
    "auto",
    "new",
    "delete",
    "this",
    "operator",
    "sizeof",
    "unsigned",
    "signed",
    "double",
    "uchar",
    "ushort",
    "ulong",
    "bfloat",
    "enum",
    "union",
    "typedef",
    "volatile",
    "extern",
    "register",
    "goto",
    "private",
    "public",
    "protected",
    "virtual",
    "friend",
    "explicit",
    "mutable",
    "constexpr",
    "decltype",
    "nullptr",
    "noexcept",
    "throw",
    "try",
    "catch",
    "export",
    "float2",
    "float4",
    "half2",
    "half4",
    "int2",
    "int4",
    "uint2",
    "uint4",
    "size_t",
    "vertex",
    "fragment",
];

/// WGSL keywords and reserved words a kernel may not be named after (those plausible as
/// kernel names).
const WGSL_RESERVED: &[&str] = &[
    "alias",
    "array",
    "atomic",
    "bitcast",
    "bool",
    "break",
    "case",
    "const",
    "const_assert",
    "continue",
    "continuing",
    "default",
    "diagnostic",
    "discard",
    "else",
    "enable",
    "f16",
    "f32",
    "false",
    "fn",
    "for",
    "i32",
    "if",
    "let",
    "loop",
    "mat2x2",
    "override",
    "ptr",
    "requires",
    "return",
    "sampler",
    "struct",
    "switch",
    "true",
    "u32",
    "var",
    "vec2",
    "vec3",
    "vec4",
    "while",
    "i64",
    "u64",
    "main",
    "self",
    "static",
    "type",
    "new",
    "null",
    "module",
    "handle",
    "mod",
    "match",
    "async",
    "await",
    "do",
    "final",
    "import",
    "in",
    "public",
    "unsafe",
    "where",
    "yield",
    "private",
    "storage",
    "uniform",
    "workgroup",
    "read",
    "write",
    "read_write",
    "function",
];

impl Dialect {
    /// Words of the language that a printed entry point may not be.
    pub fn reserved_words(self) -> &'static [&'static str] {
        match self {
            Dialect::Msl => MSL_RESERVED,
            Dialect::Wgsl => WGSL_RESERVED,
        }
    }

    /// The name a kernel's entry point is printed under (and looked up by: `KernelAbi::entry`).
    /// Users do name kernels `kernel`, `main` or `loop`; such names, and names that look like
    /// the ones printers invent (`tm_*`, `v0`, `b1`, `s2`), get the `tm_entry_` prefix, which
    /// nothing else printed starts with. Other names are kept, so profilers and errors show
    /// them as written. Names that are not plain ASCII identifiers are returned unchanged
    /// for the printer to refuse.
    pub fn entry_point(self, kernel: &str) -> String {
        let invented = kernel.starts_with("tm_") || {
            let mut c = kernel.chars();
            matches!(c.next(), Some('v' | 'b' | 's'))
                && c.next().is_some_and(|d| d.is_ascii_digit())
        };
        if invented || self.reserved_words().contains(&kernel) {
            format!("tm_entry_{kernel}")
        } else {
            kernel.to_string()
        }
    }
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
    /// Registers can be 8- and 16-bit integers. WGSL has none: lowering keeps such values in
    /// 32-bit registers (i32 / u32) holding the exact narrow value, re-normalized after
    /// every operation that can leave the narrow range.
    pub narrow_int_registers: bool,
    /// simd/subgroup shuffles and reductions are available.
    pub simd_ops: bool,
    /// The cooperative-matrix (M, N, K) shape of f16 inputs with f32 accumulation, if any
    /// (8×8×8 simdgroup_matrix on Apple7+, 16×16×16 on NVIDIA Vulkan).
    pub matrix_shape: Option<(u32, u32, u32)>,
    pub float_atomic_add: bool,
    /// Native 64-bit atomic read-modify-write and compare-exchange on storage memory
    /// (wgpu's `SHADER_INT64_ATOMIC_ALL_OPS`: `atomic<i64>` / `atomic<u64>` in WGSL).
    /// Without it, 64-bit atomics are emulated where the dialect allows (MSL: a lock table,
    /// see tm-simt's `lower::atomic64`) and refused elsewhere. Apple GPUs have no 64-bit
    /// add or compare-exchange at all: Metal's only 64-bit atomics are `atomic_max`/`min` on
    /// `ulong` without a return value (Apple9, or Apple8 with Mac2), which cannot implement
    /// Triton's atomics (they return the old value).
    pub int64_atomics: bool,
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
            narrow_int_registers: true,
            simd_ops: true,
            matrix_shape: Some((8, 8, 8)),
            float_atomic_add: true,
            int64_atomics: false,
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
            narrow_int_registers: false,
            simd_ops: true,
            matrix_shape: None,
            float_atomic_add: false,
            int64_atomics: false,
        }
    }

    /// Mesa's lavapipe (software Vulkan) as wgpu 30 reports it (Mesa 22.3, LLVM 15):
    /// subgroups of 8, 32 storage buffers per stage, `SHADER_FLOAT32_ATOMIC`,
    /// `SHADER_INT64_ATOMIC_ALL_OPS`, no cooperative matrix. The runtime derives its target from the live adapter; this copy
    /// is for tests and the CLI, and a runtime test checks that the two agree.
    pub fn lavapipe() -> Target {
        Target {
            name: "vulkan-lavapipe".into(),
            max_threads_per_group: 1024,
            shared_mem_bytes: 32 * 1024,
            max_buffers: 32,
            float_atomic_add: true,
            int64_atomics: true,
            ..Target::wgsl_generic(8)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_points_avoid_reserved_and_invented_names() {
        for d in [Dialect::Msl, Dialect::Wgsl] {
            assert_eq!(d.entry_point("add_kernel"), "add_kernel");
            for name in ["main", "tm_erf", "v0", "b12", "s3"] {
                assert_eq!(d.entry_point(name), format!("tm_entry_{name}"), "{d:?}");
            }
        }
        assert_eq!(Dialect::Msl.entry_point("kernel"), "tm_entry_kernel");
        assert_eq!(Dialect::Msl.entry_point("float"), "tm_entry_float");
        assert_eq!(Dialect::Wgsl.entry_point("fn"), "tm_entry_fn");
        assert_eq!(Dialect::Wgsl.entry_point("loop"), "tm_entry_loop");
        // A word reserved in one language only keeps its name in the other.
        assert_eq!(Dialect::Wgsl.entry_point("kernel"), "kernel");
    }
}
