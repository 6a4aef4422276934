//! The operations of Tile IR and their attributes. They mirror Triton's TTIR (plus the
//! arith/math/scf ops it uses), with signedness taken from operand types instead of being
//! spelled in the op name.
//!
//! Operand conventions (the verifier checks them):
//! - Elementwise ops (`Unary`, `Binary`, `Cmp`, `Select`, `Cast`, `Bitcast`, `AddPtr`) take
//!   operands of identical shape; the frontend inserts `Splat`/`Broadcast` first.
//! - Optional operands are announced by flags in the attribute (`Load::has_mask`...), and
//!   come in the listed order.

use std::fmt;

/// A literal constant. `Constant` ops with a tensor result are splats of this value.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Literal {
    /// Any integer type (and i1: 0 or 1); stored sign- or zero-extended per its type.
    Int(i64),
    /// Any float type, rounded to it when used.
    Float(f64),
}

impl Eq for Literal {}

impl std::hash::Hash for Literal {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        match self {
            Literal::Int(v) => (0u8, *v).hash(state),
            Literal::Float(v) => (1u8, v.to_bits()).hash(state),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UnaryOp {
    /// Arithmetic negation (ints wrap).
    Neg,
    /// Bitwise not (logical not on i1).
    Not,
    Abs,
    Exp,
    Exp2,
    Log,
    Log2,
    Sqrt,
    /// Square root correctly rounded (`tl.sqrt_rn`).
    SqrtRn,
    Rsqrt,
    Sin,
    Cos,
    Tan,
    Asin,
    Acos,
    Atan,
    Sinh,
    Cosh,
    Tanh,
    Erf,
    Floor,
    Ceil,
    /// Round to nearest, ties to even (`libdevice.rint`).
    Rint,
    Trunc,
    /// Result is i1.
    IsNan,
    /// Result is i1.
    IsInf,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BinaryOp {
    Add,
    Sub,
    Mul,
    /// Float division (as `/` on floats), or integer division truncating toward zero
    /// (Triton's `//` and `/` on ints follow C, not Python).
    Div,
    /// Float division correctly rounded (`tl.div_rn`).
    DivRn,
    /// Float remainder with the sign of the dividend (fmod), or C integer remainder.
    Rem,
    And,
    Or,
    Xor,
    Shl,
    /// Arithmetic shift for signed operands, logical for unsigned.
    Shr,
    /// Minimum; on floats NaN-ignoring unless the other operand is NaN too (minNum).
    Min,
    Max,
    /// Minimum that propagates NaN (`propagate_nan=tl.PropagateNan.ALL`).
    MinNan,
    MaxNan,
    /// High half of the full-width integer product (`tl.umulhi`).
    MulHi,
    Pow,
    Atan2,
}

/// Comparison predicates. Float comparisons are ordered (false on NaN) except `Ne`, which is
/// unordered (true on NaN), matching Python and Triton.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CmpPred {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AtomicOp {
    Add,
    Max,
    Min,
    And,
    Or,
    Xor,
    Xchg,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum MemSem {
    Relaxed,
    Acquire,
    Release,
    #[default]
    AcqRel,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum MemScope {
    #[default]
    Gpu,
    Cta,
    Sys,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum InputPrecision {
    #[default]
    Tf32,
    Tf32x3,
    Ieee,
}

/// Everything an op is, apart from its operands, results and regions.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum OpKind {
    // --- constants and program geometry -------------------------------------------------
    /// Result: scalar or tensor (a splat) of the literal.
    Constant(Literal),
    /// `tl.program_id(axis)`, i32.
    ProgramId(u8),
    /// `tl.num_programs(axis)`, i32.
    NumPrograms(u8),
    /// `tl.arange(start, end)`: tensor<(end-start)xi32>.
    MakeRange {
        start: i32,
        end: i32,
    },

    // --- shape ops ------------------------------------------------------------------------
    /// Scalar to tensor.
    Splat,
    /// Size-1 dimensions to the result's sizes (same rank).
    Broadcast,
    /// Insert a size-1 dimension at `axis`.
    ExpandDims(u32),
    /// Same elements in row-major order, new shape. `can_reorder` as in Triton's `view`.
    Reshape {
        can_reorder: bool,
    },
    /// Result dimension i is operand dimension `perm[i]`.
    Permute(Vec<u32>),
    /// Two tensors of one shape into one with a new minor dimension of size 2.
    Join,
    /// Inverse of `Join`: two results.
    Split,

    // --- elementwise --------------------------------------------------------------------
    Unary(UnaryOp),
    Binary(BinaryOp),
    /// Result is i1 of the operands' shape.
    Cmp(CmpPred),
    /// Operands: condition (i1), true value, false value.
    Select,
    /// Value conversion to the result's element type (int↔int extends by the source's
    /// signedness or truncates; float→int truncates toward zero; x→i1 is `x != 0`).
    Cast,
    /// Reinterpret the bits as the result's element type of the same width.
    Bitcast,
    /// `fma(a, b, c)`.
    Fma,
    /// Operands: pointer(s), integer offset(s) in elements.
    AddPtr,

    // --- memory -------------------------------------------------------------------------
    /// Operands: ptr, [mask], [other]. Result: the pointee type in the pointer's shape.
    Load {
        has_mask: bool,
        has_other: bool,
        volatile: bool,
    },
    /// Operands: ptr, value, [mask].
    Store {
        has_mask: bool,
    },
    /// Operands: ptr, value, [mask]. Result: the old values.
    AtomicRmw {
        op: AtomicOp,
        has_mask: bool,
        sem: MemSem,
        scope: MemScope,
    },
    /// Operands: ptr, compare, value. Result: the old values.
    AtomicCas {
        sem: MemSem,
        scope: MemScope,
    },

    // --- reductions, scans, matrix ---------------------------------------------------------
    /// Operands: N tensors of one shape. One region with 2N block arguments (accumulators,
    /// then the new elements) that yields N values. Results: N tensors with `axis` removed
    /// (scalars when the operands are 1-D).
    Reduce {
        axis: u32,
    },
    /// As `Reduce`, results keep the operands' shape.
    Scan {
        axis: u32,
        reverse: bool,
    },
    /// Operands: a [.., M, K], b [.., K, N], acc [.., M, N]. Result: like acc.
    Dot {
        precision: InputPrecision,
        max_num_imprecise_acc: u32,
    },

    // --- structured control flow (MLIR scf) -----------------------------------------------
    /// Operands: lower, upper, step (one integer type), then N initial values. One region
    /// whose block arguments are the induction variable and N carried values, ending in a
    /// `Yield` of N values. Results: the N final values.
    For,
    /// Operand: an i1 scalar. Two regions (then, else) each ending in a `Yield` of the
    /// results.
    If,
    /// Operands: N initial values. Region 0 ("before") takes N arguments and ends in a
    /// `Condition` (i1 scalar, then M values); region 1 ("after") takes those M values and
    /// yields N. Results: the M values passed by the last `Condition`.
    While,
    /// Terminator of For/If/Reduce/Scan regions and While's "after" region.
    Yield,
    /// Terminator of While's "before" region: operand 0 is the condition.
    Condition,
    /// Terminator of the function body.
    Return,

    // --- debugging and hints ------------------------------------------------------------
    /// `tl.device_assert(cond, msg)`. Operand: i1 condition (scalar or tensor).
    Assert {
        message: String,
    },
    /// `tl.device_print(prefix, *args)`.
    Print {
        prefix: String,
        hex: bool,
    },
    /// `tl.debug_barrier()`.
    Barrier,
    /// Value hints (`tl.multiple_of`, `tl.max_contiguous`, `tl.max_constancy`): the result
    /// is the operand, with per-dimension facts for vectorization.
    Hint {
        multiple_of: Vec<u32>,
        max_contiguous: Vec<u32>,
        max_constancy: Vec<u32>,
    },
}

impl OpKind {
    /// Ops with no side effects: removable when unused, mergeable by CSE.
    pub fn is_pure(&self) -> bool {
        !matches!(
            self,
            OpKind::Load { volatile: true, .. }
                | OpKind::Store { .. }
                | OpKind::AtomicRmw { .. }
                | OpKind::AtomicCas { .. }
                | OpKind::Yield
                | OpKind::Condition
                | OpKind::Return
                | OpKind::Assert { .. }
                | OpKind::Print { .. }
                | OpKind::Barrier
                | OpKind::For
                | OpKind::If
                | OpKind::While
        )
    }

    pub fn is_terminator(&self) -> bool {
        matches!(self, OpKind::Yield | OpKind::Condition | OpKind::Return)
    }

    /// The op's name in the text form.
    pub fn name(&self) -> &'static str {
        match self {
            OpKind::Constant(_) => "constant",
            OpKind::ProgramId(_) => "program_id",
            OpKind::NumPrograms(_) => "num_programs",
            OpKind::MakeRange { .. } => "make_range",
            OpKind::Splat => "splat",
            OpKind::Broadcast => "broadcast",
            OpKind::ExpandDims(_) => "expand_dims",
            OpKind::Reshape { .. } => "reshape",
            OpKind::Permute(_) => "permute",
            OpKind::Join => "join",
            OpKind::Split => "split",
            OpKind::Unary(op) => op.name(),
            OpKind::Binary(op) => op.name(),
            OpKind::Cmp(_) => "cmp",
            OpKind::Select => "select",
            OpKind::Cast => "cast",
            OpKind::Bitcast => "bitcast",
            OpKind::Fma => "fma",
            OpKind::AddPtr => "addptr",
            OpKind::Load { .. } => "load",
            OpKind::Store { .. } => "store",
            OpKind::AtomicRmw { .. } => "atomic_rmw",
            OpKind::AtomicCas { .. } => "atomic_cas",
            OpKind::Reduce { .. } => "reduce",
            OpKind::Scan { .. } => "scan",
            OpKind::Dot { .. } => "dot",
            OpKind::For => "for",
            OpKind::If => "if",
            OpKind::While => "while",
            OpKind::Yield => "yield",
            OpKind::Condition => "condition",
            OpKind::Return => "return",
            OpKind::Assert { .. } => "assert",
            OpKind::Print { .. } => "print",
            OpKind::Barrier => "barrier",
            OpKind::Hint { .. } => "hint",
        }
    }
}

macro_rules! named_enum {
    ($ty:ident { $($variant:ident => $name:literal),* $(,)? }) => {
        impl $ty {
            pub const ALL: &'static [$ty] = &[$($ty::$variant),*];

            pub fn name(self) -> &'static str {
                match self { $($ty::$variant => $name),* }
            }

            pub fn from_name(s: &str) -> Option<$ty> {
                match s { $($name => Some($ty::$variant),)* _ => None }
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.name())
            }
        }
    };
}

named_enum!(UnaryOp {
    Neg => "neg", Not => "not", Abs => "abs", Exp => "exp", Exp2 => "exp2", Log => "log",
    Log2 => "log2", Sqrt => "sqrt", SqrtRn => "sqrt_rn", Rsqrt => "rsqrt", Sin => "sin",
    Cos => "cos", Tan => "tan", Asin => "asin", Acos => "acos", Atan => "atan",
    Sinh => "sinh", Cosh => "cosh", Tanh => "tanh", Erf => "erf", Floor => "floor",
    Ceil => "ceil", Rint => "rint", Trunc => "trunc", IsNan => "isnan", IsInf => "isinf",
});

named_enum!(BinaryOp {
    Add => "add", Sub => "sub", Mul => "mul", Div => "div", DivRn => "div_rn", Rem => "rem",
    And => "and", Or => "or", Xor => "xor", Shl => "shl", Shr => "shr", Min => "min",
    Max => "max", MinNan => "min_nan", MaxNan => "max_nan", MulHi => "mulhi", Pow => "pow",
    Atan2 => "atan2",
});

named_enum!(CmpPred { Eq => "eq", Ne => "ne", Lt => "lt", Le => "le", Gt => "gt", Ge => "ge" });

named_enum!(AtomicOp {
    Add => "add", Max => "max", Min => "min", And => "and", Or => "or", Xor => "xor",
    Xchg => "xchg",
});

named_enum!(MemSem { Relaxed => "relaxed", Acquire => "acquire", Release => "release", AcqRel => "acq_rel" });

named_enum!(MemScope { Gpu => "gpu", Cta => "cta", Sys => "sys" });

named_enum!(InputPrecision { Tf32 => "tf32", Tf32x3 => "tf32x3", Ieee => "ieee" });

impl BinaryOp {
    pub fn is_commutative(self) -> bool {
        matches!(
            self,
            BinaryOp::Add
                | BinaryOp::Mul
                | BinaryOp::And
                | BinaryOp::Or
                | BinaryOp::Xor
                | BinaryOp::Min
                | BinaryOp::Max
                | BinaryOp::MinNan
                | BinaryOp::MaxNan
                | BinaryOp::MulHi
        )
    }
}

impl UnaryOp {
    /// Ops whose result is i1 whatever the operand type.
    pub fn is_predicate(self) -> bool {
        matches!(self, UnaryOp::IsNan | UnaryOp::IsInf)
    }
}
