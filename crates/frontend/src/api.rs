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
    /// A `@jit` function given as a constexpr argument (`ACTIVATION=leaky_relu`): calls
    /// of it inline it.
    Function(Arc<FunctionSource>),
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
