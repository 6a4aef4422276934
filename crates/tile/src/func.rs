//! Storage of a Tile IR function: arenas of values, ops and blocks addressed by typed
//! handles, as in naga. Regions are single blocks (MLIR scf style), owned by their op.

use std::sync::Arc;

use tm_core::{Arena, Handle, Loc, SourceFile};

use crate::ops::OpKind;
use crate::types::Type;

pub type ValueId = Handle<Value>;
pub type OpId = Handle<Op>;
pub type BlockId = Handle<Block>;

/// Where a value comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ValueDef {
    /// The i-th parameter of the function.
    Param(u32),
    /// The i-th result of an op.
    Result(OpId, u32),
    /// The i-th argument of a block.
    BlockArg(BlockId, u32),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Value {
    pub ty: Type,
    pub def: ValueDef,
    /// A source-level name for readability of the text form (`%x_ptr`); optional.
    pub name: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Op {
    pub kind: OpKind,
    pub operands: Vec<ValueId>,
    pub results: Vec<ValueId>,
    /// Owned single-block regions (loop bodies, branches, combine functions).
    pub regions: Vec<BlockId>,
    pub loc: Loc,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Block {
    pub args: Vec<ValueId>,
    pub ops: Vec<OpId>,
}

/// Facts about a kernel parameter from call-site specialization (Triton's "divisible by 16"
/// attribute), used for vectorization and alignment.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Param {
    pub value: ValueId,
    pub name: String,
    /// Index of the argument in the Python call (constexprs and specialized-away arguments
    /// included), so the ABI can map buffers and scalars back to arguments.
    pub arg_index: u32,
    /// Integer value or pointer address known to be divisible by 16 (bytes for pointers).
    pub divisible_by_16: bool,
}

/// One kernel, after inlining: the unit every pass and backend works on.
#[derive(Clone, Debug)]
pub struct Function {
    pub name: String,
    pub params: Vec<Param>,
    pub values: Arena<Value>,
    pub ops: Arena<Op>,
    pub blocks: Arena<Block>,
    pub body: BlockId,
    /// Source files that `Loc::file` indexes: the kernel's, then those of inlined callees.
    pub files: Vec<Arc<SourceFile>>,
}

impl Function {
    pub fn new(name: impl Into<String>) -> Function {
        let mut blocks = Arena::default();
        let body = blocks.append(Block::default());
        Function {
            name: name.into(),
            params: Vec::new(),
            values: Arena::default(),
            ops: Arena::default(),
            blocks,
            body,
            files: Vec::new(),
        }
    }

    pub fn ty(&self, v: ValueId) -> &Type {
        &self.values[v].ty
    }

    pub fn add_param(
        &mut self,
        name: impl Into<String>,
        ty: Type,
        arg_index: u32,
        divisible_by_16: bool,
    ) -> ValueId {
        let name = name.into();
        let value = self.values.append(Value {
            ty,
            def: ValueDef::Param(self.params.len() as u32),
            name: Some(name.clone()),
        });
        self.params.push(Param {
            value,
            name,
            arg_index,
            divisible_by_16,
        });
        value
    }

    pub fn new_block(&mut self, arg_types: &[Type]) -> BlockId {
        let block = self.blocks.append(Block::default());
        for (i, ty) in arg_types.iter().enumerate() {
            let v = self.values.append(Value {
                ty: ty.clone(),
                def: ValueDef::BlockArg(block, i as u32),
                name: None,
            });
            self.blocks[block].args.push(v);
        }
        block
    }

    /// Create an op (not yet placed in any block) with results of the given types.
    pub fn create_op(
        &mut self,
        kind: OpKind,
        operands: Vec<ValueId>,
        result_types: Vec<Type>,
        regions: Vec<BlockId>,
        loc: Loc,
    ) -> OpId {
        let op = self.ops.append(Op {
            kind,
            operands,
            results: Vec::new(),
            regions,
            loc,
        });
        for (i, ty) in result_types.into_iter().enumerate() {
            let v = self.values.append(Value {
                ty,
                def: ValueDef::Result(op, i as u32),
                name: None,
            });
            self.ops[op].results.push(v);
        }
        op
    }

    /// Create an op at the end of `block`.
    pub fn push_op(
        &mut self,
        block: BlockId,
        kind: OpKind,
        operands: Vec<ValueId>,
        result_types: Vec<Type>,
        regions: Vec<BlockId>,
        loc: Loc,
    ) -> OpId {
        let op = self.create_op(kind, operands, result_types, regions, loc);
        self.blocks[block].ops.push(op);
        op
    }

    /// Create a single-result op at the end of `block` and return its result.
    pub fn push(
        &mut self,
        block: BlockId,
        kind: OpKind,
        operands: Vec<ValueId>,
        result_type: Type,
        loc: Loc,
    ) -> ValueId {
        let op = self.push_op(block, kind, operands, vec![result_type], Vec::new(), loc);
        self.ops[op].results[0]
    }

    /// The op defining a value, if it is an op result.
    pub fn def_op(&self, v: ValueId) -> Option<OpId> {
        match self.values[v].def {
            ValueDef::Result(op, _) => Some(op),
            _ => None,
        }
    }

    /// Visit every op reachable from the body, in program order, regions before the ops
    /// that follow their owner.
    pub fn walk(&self, mut f: impl FnMut(OpId)) {
        fn rec(func: &Function, block: BlockId, f: &mut dyn FnMut(OpId)) {
            for &op in &func.blocks[block].ops {
                f(op);
                for &r in &func.ops[op].regions {
                    rec(func, r, f);
                }
            }
        }
        rec(self, self.body, &mut f);
    }

    /// Replace every use of `from` by `to` in ops reachable from the body.
    pub fn replace_all_uses(&mut self, from: ValueId, to: ValueId) {
        let mut ops = Vec::new();
        self.walk(|op| ops.push(op));
        for op in ops {
            for o in &mut self.ops[op].operands {
                if *o == from {
                    *o = to;
                }
            }
        }
    }

    /// The source location as (file path, line, column), when known.
    pub fn describe_loc(&self, loc: Loc) -> Option<(&str, u32, u32)> {
        if !loc.is_known() {
            return None;
        }
        let file = self.files.get(loc.file as usize)?;
        Some((file.path.as_str(), loc.line, loc.col))
    }
}
