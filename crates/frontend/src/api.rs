//! What the frontend is given: kernel sources, the bindings of the free names they use
//! (resolved by the Python layer), and the call signature to specialize on.

use std::collections::BTreeMap;
use std::sync::Arc;

use tm_core::{ScalarType, SourceFile};

/// A compile-time value: a constexpr argument, a module-level constant or a dtype.
#[derive(Clone, Debug, PartialEq)]
pub enum ConstValue {
    None,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Dtype(ScalarType),
    Tuple(Vec<ConstValue>),
    /// One of Triton's 8-bit float dtypes: it can be named, compared and passed around,
    /// but no target computes with it, so any use that needs its values is refused.
    Fp8Dtype(Fp8),
    /// A `@jit` function given as a constexpr argument (`ACTIVATION=leaky_relu`): calls
    /// of it inline it.
    Function(Arc<FunctionSource>),
}

/// Triton's 8-bit float formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fp8 {
    E4Nv,
    E4B8,
    E4B15,
    E5,
    E5B16,
}

impl Fp8 {
    pub const ALL: [Fp8; 5] = [Fp8::E4Nv, Fp8::E4B8, Fp8::E4B15, Fp8::E5, Fp8::E5B16];

    /// The attribute of `triton.language` (`tl.float8e5`).
    pub fn language_name(self) -> &'static str {
        match self {
            Fp8::E4Nv => "float8e4nv",
            Fp8::E4B8 => "float8e4b8",
            Fp8::E4B15 => "float8e4b15",
            Fp8::E5 => "float8e5",
            Fp8::E5B16 => "float8e5b16",
        }
    }

    /// Triton's `dtype.name` (`fp8e5`).
    pub fn triton_name(self) -> &'static str {
        match self {
            Fp8::E4Nv => "fp8e4nv",
            Fp8::E4B8 => "fp8e4b8",
            Fp8::E4B15 => "fp8e4b15",
            Fp8::E5 => "fp8e5",
            Fp8::E5B16 => "fp8e5b16",
        }
    }

    /// The short name the Python layer encodes dtypes with (`f8e5`).
    pub fn short_name(self) -> &'static str {
        &self.triton_name()[1..]
    }

    pub fn from_short_name(s: &str) -> Option<Fp8> {
        Fp8::ALL.into_iter().find(|f| f.short_name() == s)
    }
}

/// Python modules a kernel may name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ModuleKind {
    /// `triton.language` (usually `tl`).
    Language,
    /// `triton.language.math`.
    LanguageMath,
    /// `triton.language.extra.libdevice` (and `...extra.cuda.libdevice`).
    Libdevice,
    /// The `triton` package itself (for `triton.language.*` spelled out, `triton.cdiv`).
    Triton,
    /// Python's `math` (constants such as `math.pi`, `math.log2(e)` folded at compile time).
    PyMath,
}

/// What a free name of a kernel is bound to in its Python globals or closure.
#[derive(Clone, Debug, PartialEq)]
pub enum Binding {
    Const(ConstValue),
    Module(ModuleKind),
    /// Another `@jit` function: inlined at each call.
    JitFunction(Arc<FunctionSource>),
    /// The member `name` of a module, imported by itself (`from triton.language import
    /// program_id`, `from triton.language.extra.libdevice import pow`): the name means
    /// what `module.name` means.
    ModuleMember {
        module: ModuleKind,
        name: String,
    },
}

pub type Globals = BTreeMap<String, Binding>;

/// The source of one `@jit` function and the bindings of its free names.
#[derive(Clone, Debug, PartialEq)]
pub struct FunctionSource {
    /// The function's text (decorators included is fine), as a file excerpt.
    pub file: Arc<SourceFile>,
    /// The name of the `def` to compile inside `file.text`.
    pub name: String,
    pub globals: Globals,
}

/// How one argument of a call is specialized, as in Triton's signature.
#[derive(Clone, Debug, PartialEq)]
pub enum ArgSpec {
    Pointer {
        elem: ScalarType,
        divisible_by_16: bool,
    },
    Scalar {
        ty: ScalarType,
        divisible_by_16: bool,
        /// Integers equal to 1 are specialized into the kernel as constants (Triton does).
        equal_to_one: bool,
    },
    Constexpr(ConstValue),
}
