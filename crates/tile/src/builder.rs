//! Typed helpers over `Function::push` that infer result types from operand types. The
//! builder does not check its inputs: wrong inputs give IR that `verify` rejects.

use tm_core::Loc;

use crate::func::{BlockId, Function, ValueId};
use crate::ops::{BinaryOp, CmpPred, Literal, OpKind, UnaryOp};
use crate::passes::eval_canon;
use crate::types::{Elem, ScalarType, Type};

/// Appends ops at the end of `block`, each with location `loc`.
pub struct Builder<'f> {
    pub f: &'f mut Function,
    pub block: BlockId,
    pub loc: Loc,
}

impl<'f> Builder<'f> {
    /// A builder appending to the function's body.
    pub fn new(f: &'f mut Function) -> Builder<'f> {
        let block = f.body;
        Builder {
            f,
            block,
            loc: Loc::UNKNOWN,
        }
    }

    pub fn at_block(f: &'f mut Function, block: BlockId) -> Builder<'f> {
        Builder {
            f,
            block,
            loc: Loc::UNKNOWN,
        }
    }

    pub fn ty(&self, v: ValueId) -> &Type {
        self.f.ty(v)
    }

    fn push(&mut self, kind: OpKind, operands: Vec<ValueId>, ty: Type) -> ValueId {
        self.f.push(self.block, kind, operands, ty, self.loc)
    }

    /// A constant of `ty` (a tensor type makes a splat constant). Integers are stored in
    /// the canonical form of the type (wrapped to its width).
    pub fn constant(&mut self, lit: Literal, ty: Type) -> ValueId {
        let lit = match (lit, ty.scalar_type()) {
            (Literal::Int(v), Some(s)) if s.is_int() => Literal::Int(eval_canon(v, s)),
            _ => lit,
        };
        self.push(OpKind::Constant(lit), vec![], ty)
    }

    pub fn int(&mut self, s: ScalarType, v: i64) -> ValueId {
        self.constant(Literal::Int(v), Type::scalar(s))
    }

    pub fn float(&mut self, s: ScalarType, v: f64) -> ValueId {
        self.constant(Literal::Float(v), Type::scalar(s))
    }

    pub fn program_id(&mut self, axis: u8) -> ValueId {
        self.push(
            OpKind::ProgramId(axis),
            vec![],
            Type::scalar(ScalarType::I32),
        )
    }

    pub fn num_programs(&mut self, axis: u8) -> ValueId {
        self.push(
            OpKind::NumPrograms(axis),
            vec![],
            Type::scalar(ScalarType::I32),
        )
    }

    pub fn make_range(&mut self, start: i32, end: i32) -> ValueId {
        let n = (end as i64 - start as i64).max(0) as u32;
        let ty = Type::tensor(Elem::Scalar(ScalarType::I32), vec![n]);
        self.push(OpKind::MakeRange { start, end }, vec![], ty)
    }

    pub fn splat(&mut self, v: ValueId, shape: Vec<u32>) -> ValueId {
        let ty = self.ty(v).with_shape(shape);
        self.push(OpKind::Splat, vec![v], ty)
    }

    pub fn broadcast(&mut self, v: ValueId, shape: Vec<u32>) -> ValueId {
        let ty = self.ty(v).with_shape(shape);
        self.push(OpKind::Broadcast, vec![v], ty)
    }

    pub fn expand_dims(&mut self, v: ValueId, axis: u32) -> ValueId {
        let mut shape = self.ty(v).shape.clone();
        shape.insert((axis as usize).min(shape.len()), 1);
        let ty = self.ty(v).with_shape(shape);
        self.push(OpKind::ExpandDims(axis), vec![v], ty)
    }

    pub fn reshape(&mut self, v: ValueId, shape: Vec<u32>, can_reorder: bool) -> ValueId {
        let ty = self.ty(v).with_shape(shape);
        self.push(OpKind::Reshape { can_reorder }, vec![v], ty)
    }

    pub fn permute(&mut self, v: ValueId, perm: Vec<u32>) -> ValueId {
        let src = &self.ty(v).shape;
        let shape = perm
            .iter()
            .map(|&p| src.get(p as usize).copied().unwrap_or(1))
            .collect();
        let ty = self.ty(v).with_shape(shape);
        self.push(OpKind::Permute(perm), vec![v], ty)
    }

    pub fn unary(&mut self, op: UnaryOp, v: ValueId) -> ValueId {
        let ty = if op.is_predicate() {
            self.ty(v).with_elem(Elem::Scalar(ScalarType::I1))
        } else {
            self.ty(v).clone()
        };
        self.push(OpKind::Unary(op), vec![v], ty)
    }

    pub fn binary(&mut self, op: BinaryOp, a: ValueId, b: ValueId) -> ValueId {
        let ty = self.ty(a).clone();
        self.push(OpKind::Binary(op), vec![a, b], ty)
    }

    pub fn cmp(&mut self, pred: CmpPred, a: ValueId, b: ValueId) -> ValueId {
        let ty = self.ty(a).with_elem(Elem::Scalar(ScalarType::I1));
        self.push(OpKind::Cmp(pred), vec![a, b], ty)
    }

    pub fn select(&mut self, cond: ValueId, a: ValueId, b: ValueId) -> ValueId {
        let ty = self.ty(a).clone();
        self.push(OpKind::Select, vec![cond, a, b], ty)
    }

    pub fn cast(&mut self, v: ValueId, to: ScalarType) -> ValueId {
        let ty = self.ty(v).with_elem(Elem::Scalar(to));
        self.push(OpKind::Cast, vec![v], ty)
    }

    pub fn bitcast(&mut self, v: ValueId, to: Elem) -> ValueId {
        let ty = self.ty(v).with_elem(to);
        self.push(OpKind::Bitcast, vec![v], ty)
    }

    pub fn fma(&mut self, a: ValueId, b: ValueId, c: ValueId) -> ValueId {
        let ty = self.ty(a).clone();
        self.push(OpKind::Fma, vec![a, b, c], ty)
    }

    pub fn addptr(&mut self, ptr: ValueId, offset: ValueId) -> ValueId {
        let ty = self.ty(ptr).clone();
        self.push(OpKind::AddPtr, vec![ptr, offset], ty)
    }

    /// `other` is only meaningful with a mask (the verifier requires one).
    pub fn load(&mut self, ptr: ValueId, mask: Option<ValueId>, other: Option<ValueId>) -> ValueId {
        let pt = self.ty(ptr);
        let elem = pt.elem.pointee().map_or(pt.elem, Elem::Scalar);
        let ty = pt.with_elem(elem);
        let mut operands = vec![ptr];
        operands.extend(mask);
        operands.extend(other);
        let kind = OpKind::Load {
            has_mask: mask.is_some(),
            has_other: other.is_some(),
            volatile: false,
        };
        self.push(kind, operands, ty)
    }

    pub fn store(&mut self, ptr: ValueId, value: ValueId, mask: Option<ValueId>) {
        let mut operands = vec![ptr, value];
        operands.extend(mask);
        let kind = OpKind::Store {
            has_mask: mask.is_some(),
        };
        self.f
            .push_op(self.block, kind, operands, vec![], vec![], self.loc);
    }

    pub fn yield_(&mut self, values: Vec<ValueId>) {
        self.f
            .push_op(self.block, OpKind::Yield, values, vec![], vec![], self.loc);
    }

    pub fn ret(&mut self) {
        self.f
            .push_op(self.block, OpKind::Return, vec![], vec![], vec![], self.loc);
    }

    /// Build the region on a fresh block with `arg_types`, restoring the insertion block
    /// afterwards; `body` returns the values to yield.
    fn region(
        &mut self,
        arg_types: &[Type],
        body: impl FnOnce(&mut Builder, &[ValueId]) -> Vec<ValueId>,
    ) -> BlockId {
        let block = self.f.new_block(arg_types);
        let args = self.f.blocks[block].args.clone();
        let saved = std::mem::replace(&mut self.block, block);
        let yielded = body(self, &args);
        self.yield_(yielded);
        self.block = saved;
        block
    }

    /// `for iv in range(lower, upper, step)` carrying `inits`; `body` gets the induction
    /// variable and the carried values and returns the next carried values.
    pub fn for_(
        &mut self,
        lower: ValueId,
        upper: ValueId,
        step: ValueId,
        inits: Vec<ValueId>,
        body: impl FnOnce(&mut Builder, ValueId, &[ValueId]) -> Vec<ValueId>,
    ) -> Vec<ValueId> {
        let mut arg_types = vec![self.ty(lower).clone()];
        arg_types.extend(inits.iter().map(|&v| self.ty(v).clone()));
        let result_types = arg_types[1..].to_vec();
        let region = self.region(&arg_types, |b, args| body(b, args[0], &args[1..]));
        let mut operands = vec![lower, upper, step];
        operands.extend(inits);
        let op = self.f.push_op(
            self.block,
            OpKind::For,
            operands,
            result_types,
            vec![region],
            self.loc,
        );
        self.f.ops[op].results.clone()
    }

    /// `if cond` with results of `result_types`; each branch returns what it yields.
    pub fn if_(
        &mut self,
        cond: ValueId,
        result_types: Vec<Type>,
        then: impl FnOnce(&mut Builder) -> Vec<ValueId>,
        else_: impl FnOnce(&mut Builder) -> Vec<ValueId>,
    ) -> Vec<ValueId> {
        let t = self.region(&[], |b, _| then(b));
        let e = self.region(&[], |b, _| else_(b));
        let op = self.f.push_op(
            self.block,
            OpKind::If,
            vec![cond],
            result_types,
            vec![t, e],
            self.loc,
        );
        self.f.ops[op].results.clone()
    }

    /// Reduce `operands` along `axis`; `combine` gets the accumulators then the new
    /// elements (scalars) and returns the combined accumulators.
    pub fn reduce(
        &mut self,
        operands: Vec<ValueId>,
        axis: u32,
        combine: impl FnOnce(&mut Builder, &[ValueId]) -> Vec<ValueId>,
    ) -> Vec<ValueId> {
        let scalars: Vec<Type> = operands
            .iter()
            .map(|&v| self.ty(v).with_shape(vec![]))
            .collect();
        let mut arg_types = scalars.clone();
        arg_types.extend(scalars);
        let result_types = operands
            .iter()
            .map(|&v| {
                let mut shape = self.ty(v).shape.clone();
                if (axis as usize) < shape.len() {
                    shape.remove(axis as usize);
                }
                self.ty(v).with_shape(shape)
            })
            .collect();
        let region = self.region(&arg_types, combine);
        let op = self.f.push_op(
            self.block,
            OpKind::Reduce { axis },
            operands,
            result_types,
            vec![region],
            self.loc,
        );
        self.f.ops[op].results.clone()
    }
}
