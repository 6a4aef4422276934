//! What a name or an expression stands for while lowering: IR values (scalars and
//! tensors), compile-time constants, tuples, and the callable things of the language.

use std::sync::Arc;

use tm_tile::ValueId;

use crate::api::{ConstValue, FunctionSource, ModuleKind};
use crate::lower::builtins::Builtin;

#[derive(Clone, Debug, PartialEq)]
pub enum Val {
    /// A runtime scalar or tensor.
    Value(ValueId),
    /// A constexpr. Never `ConstValue::Tuple` (tuples are `Val::Tuple` of constants) nor
    /// `ConstValue::Function` (that is `Val::JitFn`).
    Const(ConstValue),
    Tuple(Vec<Val>),
    Module(ModuleKind),
    JitFn(Arc<FunctionSource>),
    Builtin(Builtin),
    /// `x.to`, `x.dtype`-style attribute calls: the receiver and the method.
    Method(Box<Val>, Builtin),
    /// `tl.constexpr`, as an annotation and as a callable.
    ConstexprType,
    /// The dtype of a pointer (`p.dtype`), whose `element_ty` is the pointee.
    PtrDtype(tm_tile::ScalarType),
    /// A standard-library function reached as a tensor method: the receiver and the
    /// function, called with the receiver first.
    BoundJit(Box<Val>, Arc<FunctionSource>),
    /// `tl.PropagateNan`, whose attributes are constants.
    PropagateNan,
    /// A block pointer (`tl.make_block_ptr`): a frontend-only value, lowered to a tensor of
    /// pointers and a mask at each load and store.
    BlockPtr(Box<BlockPtr>),
}

/// The parts of a block pointer. `base`, `shape`, `strides` and `offsets` are leaves
/// (runtime values or numbers) so that a block pointer can be loop-carried and merged.
#[derive(Clone, Debug, PartialEq)]
pub struct BlockPtr {
    pub base: Val,
    pub shape: Vec<Val>,
    pub strides: Vec<Val>,
    pub offsets: Vec<Val>,
    pub block_shape: Vec<u32>,
    pub order: Vec<u32>,
}

impl BlockPtr {
    fn parts(&self) -> impl Iterator<Item = &Val> {
        std::iter::once(&self.base)
            .chain(self.shape.iter())
            .chain(self.strides.iter())
            .chain(self.offsets.iter())
    }
}

impl Val {
    pub fn from_const(c: ConstValue) -> Val {
        match c {
            ConstValue::Tuple(items) => {
                Val::Tuple(items.into_iter().map(Val::from_const).collect())
            }
            ConstValue::Function(f) => Val::JitFn(f),
            other => Val::Const(other),
        }
    }

    /// The constant this value is, tuples of constants included.
    pub fn to_const(&self) -> Option<ConstValue> {
        match self {
            Val::Const(c) => Some(c.clone()),
            Val::Tuple(items) => items
                .iter()
                .map(Val::to_const)
                .collect::<Option<Vec<_>>>()
                .map(ConstValue::Tuple),
            // A jit function is a compile-time value: it may be passed on to a
            // `tl.constexpr` parameter of a helper.
            Val::JitFn(f) => Some(ConstValue::Function(f.clone())),
            _ => None,
        }
    }

    /// A number constexpr (bools included), which can become an IR scalar.
    pub fn is_numeric_const(&self) -> bool {
        matches!(
            self,
            Val::Const(ConstValue::Int(_) | ConstValue::Float(_) | ConstValue::Bool(_))
        )
    }

    /// Values that may flow through `if`/`for` as IR values (region results, loop-carried).
    pub fn is_leaf(&self) -> bool {
        matches!(self, Val::Value(_)) || self.is_numeric_const()
    }

    /// Python's name of the kind of thing, for error messages.
    pub fn kind_name(&self) -> &'static str {
        match self {
            Val::Value(_) => "tensor",
            Val::Const(ConstValue::None) => "None",
            Val::Const(ConstValue::Bool(_)) => "constexpr[bool]",
            Val::Const(ConstValue::Int(_)) => "constexpr[int]",
            Val::Const(ConstValue::Float(_)) => "constexpr[float]",
            Val::Const(ConstValue::Str(_)) => "constexpr[str]",
            Val::Const(ConstValue::Dtype(_) | ConstValue::Fp8Dtype(_)) => "dtype",
            Val::Const(ConstValue::Tuple(_)) | Val::Tuple(_) => "tuple",
            Val::Const(ConstValue::Function(_)) => "JITFunction",
            Val::Module(_) => "module",
            Val::JitFn(_) => "JITFunction",
            Val::Builtin(_) | Val::Method(..) => "builtin function",
            Val::BoundJit(..) => "JITFunction",
            Val::PropagateNan => "type",
            Val::BlockPtr(_) => "block_pointer",
            Val::ConstexprType => "type",
            Val::PtrDtype(_) => "pointer_type",
        }
    }
}

/// Collect the leaves of `val` laid out like `template`: positions where the template is a
/// leaf give `val`'s value there; elsewhere `val` must equal the template. `None` when the
/// two differ in structure or at a non-leaf position.
pub fn leaves_like(template: &Val, val: &Val, out: &mut Vec<Val>) -> bool {
    match (template, val) {
        (Val::Tuple(ts), Val::Tuple(vs)) => {
            ts.len() == vs.len() && ts.iter().zip(vs).all(|(t, v)| leaves_like(t, v, out))
        }
        (Val::BlockPtr(t), Val::BlockPtr(v)) => {
            t.block_shape == v.block_shape
                && t.order == v.order
                && t.shape.len() == v.shape.len()
                && t.parts()
                    .zip(v.parts())
                    .all(|(t, v)| leaves_like(t, v, out))
        }
        (t, v) if t.is_leaf() => {
            if v.is_leaf() {
                out.push(v.clone());
                true
            } else {
                false
            }
        }
        (t, v) => t == v,
    }
}

/// Rebuild a value shaped like `template` taking its leaves, in order, from `leaves`.
pub fn rebuild(template: &Val, leaves: &mut impl Iterator<Item = Val>) -> Val {
    match template {
        Val::Tuple(ts) => Val::Tuple(ts.iter().map(|t| rebuild(t, leaves)).collect()),
        Val::BlockPtr(b) => {
            let base = rebuild(&b.base, leaves);
            let shape = b.shape.iter().map(|v| rebuild(v, leaves)).collect();
            let strides = b.strides.iter().map(|v| rebuild(v, leaves)).collect();
            let offsets = b.offsets.iter().map(|v| rebuild(v, leaves)).collect();
            Val::BlockPtr(Box::new(BlockPtr {
                base,
                shape,
                strides,
                offsets,
                block_shape: b.block_shape.clone(),
                order: b.order.clone(),
            }))
        }
        t if t.is_leaf() => leaves.next().unwrap_or_else(|| t.clone()),
        t => t.clone(),
    }
}
