//! Expressions: constexprs fold in Python, everything else becomes Tile IR.

use ruff_python_ast::{self as ast, BoolOp, CmpOp, Expr, Number, Operator, UnaryOp as PyUnary};
use tm_tile::{BinaryOp, CmpPred, Elem, OpKind, ScalarType, Type, UnaryOp, ValueId};

use super::builtins;
use super::promote::Operand;
use super::{constfold, elem_name, triton_name, FnCtx, Lowerer, Result, Site};
use crate::api::{Binding, ConstValue};
use crate::names::PY_BUILTINS;
use crate::values::Val;

/// Python's AST class name of an expression, for "unsupported AST node type" errors.
pub fn expr_node_name(e: &Expr) -> &'static str {
    match e {
        Expr::BoolOp(_) => "BoolOp",
        Expr::Named(_) => "NamedExpr",
        Expr::BinOp(_) => "BinOp",
        Expr::UnaryOp(_) => "UnaryOp",
        Expr::Lambda(_) => "Lambda",
        Expr::If(_) => "IfExp",
        Expr::Dict(_) => "Dict",
        Expr::Set(_) => "Set",
        Expr::ListComp(_) => "ListComp",
        Expr::SetComp(_) => "SetComp",
        Expr::DictComp(_) => "DictComp",
        Expr::Generator(_) => "GeneratorExp",
        Expr::Await(_) => "Await",
        Expr::Yield(_) => "Yield",
        Expr::YieldFrom(_) => "YieldFrom",
        Expr::Compare(_) => "Compare",
        Expr::Call(_) => "Call",
        Expr::FString(_) => "JoinedStr",
        Expr::TString(_) => "TemplateStr",
        Expr::StringLiteral(_)
        | Expr::BytesLiteral(_)
        | Expr::NumberLiteral(_)
        | Expr::BooleanLiteral(_)
        | Expr::NoneLiteral(_)
        | Expr::EllipsisLiteral(_) => "Constant",
        Expr::Attribute(_) => "Attribute",
        Expr::Subscript(_) => "Subscript",
        Expr::Starred(_) => "Starred",
        Expr::Name(_) => "Name",
        Expr::List(_) => "List",
        Expr::Tuple(_) => "Tuple",
        Expr::Slice(_) => "Slice",
        Expr::IpyEscapeCommand(_) => "IpyEscapeCommand",
    }
}

impl Lowerer {
    pub fn expr(&mut self, cx: &mut FnCtx, e: &Expr) -> Result<Val> {
        match e {
            Expr::Name(n) => self.name(cx, n),
            Expr::NumberLiteral(n) => match &n.value {
                Number::Int(i) => match i.as_i64() {
                    Some(v) => Ok(Val::Const(ConstValue::Int(v))),
                    None => Err(cx.err(e, "integer constant out of the 64-bit range")),
                },
                Number::Float(f) => Ok(Val::Const(ConstValue::Float(*f))),
                Number::Complex { .. } => Err(cx.err(e, "unsupported: complex numbers")),
            },
            Expr::BooleanLiteral(b) => Ok(Val::Const(ConstValue::Bool(b.value))),
            Expr::NoneLiteral(_) => Ok(Val::Const(ConstValue::None)),
            Expr::StringLiteral(s) => Ok(Val::Const(ConstValue::Str(s.value.to_str().to_string()))),
            Expr::Tuple(t) => self.elements(cx, &t.elts),
            Expr::List(t) => self.elements(cx, &t.elts),
            Expr::BinOp(b) => {
                let l = self.expr(cx, &b.left)?;
                let r = self.expr(cx, &b.right)?;
                let site = cx.site(e);
                self.binop(b.op, l, r, &site)
            }
            Expr::UnaryOp(u) => {
                let v = self.expr(cx, &u.operand)?;
                let site = cx.site(e);
                self.unary(u.op, v, &site)
            }
            Expr::BoolOp(b) => self.boolop(cx, b),
            Expr::Compare(c) => {
                if c.ops.len() != 1 {
                    return Err(cx.err(
                        e,
                        "unsupported: simultaneous multiple comparison is not supported",
                    ));
                }
                let l = self.expr(cx, &c.left)?;
                let r = self.expr(cx, &c.comparators[0])?;
                let site = cx.site(e);
                self.compare(c.ops[0], l, r, &site)
            }
            Expr::If(i) => self.ternary(cx, i),
            Expr::Attribute(a) => {
                let v = self.expr(cx, &a.value)?;
                let site = cx.site(e);
                builtins::attribute(self, v, a.attr.as_str(), &site)
            }
            Expr::Subscript(s) => self.subscript(cx, s),
            Expr::Call(c) => self.call_expr(cx, c),
            other => Err(cx.err(
                other,
                format!("unsupported AST node type: {}", expr_node_name(other)),
            )),
        }
    }

    fn elements(&mut self, cx: &mut FnCtx, elts: &[Expr]) -> Result<Val> {
        let mut out = Vec::with_capacity(elts.len());
        for x in elts {
            out.push(self.expr(cx, x)?);
        }
        Ok(Val::Tuple(out))
    }

    pub(super) fn name(&mut self, cx: &mut FnCtx, n: &ast::ExprName) -> Result<Val> {
        let id = n.id.as_str();
        if let Some(v) = cx.scope.get(id) {
            return Ok(v.clone());
        }
        if let Some(b) = cx.globals.get(id) {
            return Ok(match b {
                Binding::Const(c) => Val::from_const(c.clone()),
                Binding::Module(m) => Val::Module(*m),
                Binding::JitFunction(f) => Val::JitFn(f.clone()),
                Binding::ModuleMember { module, name } => {
                    let site = cx.site(n);
                    return builtins::attribute(self, Val::Module(*module), name, &site);
                }
            });
        }
        if let Some(b) = builtins::python_builtin(id) {
            return Ok(Val::Builtin(b));
        }
        if PY_BUILTINS.contains(&id) {
            return Err(cx.err(
                n,
                format!("unsupported: Python builtin '{id}' is not supported in kernels"),
            ));
        }
        Err(cx.err(n, format!("name '{id}' is not defined")))
    }

    pub fn binop(&mut self, op: Operator, a: Val, b: Val, site: &Site) -> Result<Val> {
        let sym = op.as_str();
        if let (Some(x), Some(y)) = (a.to_const(), b.to_const()) {
            if let Some(r) = constfold::binary(op, &x, &y) {
                return r.map(Val::Const).map_err(|e| site.err(e));
            }
            match (op, x, y) {
                (Operator::Add, ConstValue::Tuple(mut p), ConstValue::Tuple(q)) => {
                    p.extend(q);
                    return Ok(Val::from_const(ConstValue::Tuple(p)));
                }
                (Operator::Mult, ConstValue::Tuple(t), ConstValue::Int(n))
                | (Operator::Mult, ConstValue::Int(n), ConstValue::Tuple(t)) => {
                    // List repetition (`[2] * n`), bounded like any constexpr tuple.
                    let n = n.max(0) as usize;
                    if t.len().saturating_mul(n) > 1 << 16 {
                        return Err(site.err("tuple repetition too large"));
                    }
                    let mut out = Vec::with_capacity(t.len() * n);
                    for _ in 0..n {
                        out.extend(t.iter().cloned());
                    }
                    return Ok(Val::from_const(ConstValue::Tuple(out)));
                }
                _ => {}
            }
        }
        let unsupported = || {
            site.err(format!(
                "unsupported operand types for {sym}: '{}' and '{}'",
                a.kind_name(),
                b.kind_name()
            ))
        };
        if !a.is_leaf() || !b.is_leaf() {
            return Err(unsupported());
        }
        if op == Operator::MatMult {
            let (Val::Value(x), Val::Value(y)) = (&a, &b) else {
                return Err(unsupported());
            };
            let opts = super::dot::DotOptions::default();
            return super::dot::dot(self, *x, *y, opts, site).map(Val::Value);
        }
        let oa = self.operand(&a, site, sym)?;
        let ob = self.operand(&b, site, sym)?;
        let (ea, eb) = (self.operand_elem(&oa), self.operand_elem(&ob));
        if ea.is_ptr() || eb.is_ptr() {
            if matches!(op, Operator::Add | Operator::Sub) {
                return self.ptr_arith(op, oa, ob, site).map(Val::Value);
            }
            return Err(site.err(format!(
                "invalid operands of type {} and {}",
                elem_name(ea),
                elem_name(eb)
            )));
        }
        let div_or_mod = matches!(op, Operator::Div | Operator::FloorDiv | Operator::Mod);
        let mut t = self.common_type(&oa, &ob, div_or_mod, site)?;
        let st = t.scalar().unwrap_or(ScalarType::I32);
        let bop = match op {
            Operator::Add => BinaryOp::Add,
            Operator::Sub => BinaryOp::Sub,
            Operator::Mult => BinaryOp::Mul,
            Operator::Div => {
                if st.is_int() {
                    t = Elem::Scalar(ScalarType::F32);
                }
                BinaryOp::Div
            }
            Operator::FloorDiv => {
                if st.is_float() {
                    return Err(site.err(format!("unexpected type {}", triton_name(st))));
                }
                BinaryOp::Div
            }
            Operator::Mod => BinaryOp::Rem,
            Operator::BitAnd
            | Operator::BitOr
            | Operator::BitXor
            | Operator::LShift
            | Operator::RShift => {
                if !st.is_int() {
                    // Triton checks after converting both operands to the common type.
                    return Err(site.err(format!(
                        "invalid operands of type {} and {}",
                        elem_name(t),
                        elem_name(t)
                    )));
                }
                match op {
                    Operator::BitAnd => BinaryOp::And,
                    Operator::BitOr => BinaryOp::Or,
                    Operator::BitXor => BinaryOp::Xor,
                    Operator::LShift => BinaryOp::Shl,
                    _ => BinaryOp::Shr,
                }
            }
            Operator::Pow => {
                if !st.is_float() {
                    return Err(site.err(format!(
                        "unsupported: '**' on {} tensors (only floating-point bases)",
                        triton_name(st)
                    )));
                }
                BinaryOp::Pow
            }
            Operator::MatMult => return Err(unsupported()),
        };
        // Triton picks `>>`'s kind from the tensor operand's own dtype before promotion
        // (`tensor.__rshift__`/`__rrshift__`: the right operand's when the left is a number).
        let arithmetic = match (&oa, &ob) {
            (Operand::Value(_), _) => ea.scalar().is_some_and(|s| s.is_signed_int()),
            (_, _) => eb.scalar().is_some_and(|s| s.is_signed_int()),
        };
        let vs = self.unify_to(&[oa, ob], t, site)?;
        let ty = self.ty(vs[0]);
        if bop == BinaryOp::Shr && arithmetic != st.is_signed_int() {
            return self.shr_as(vs, arithmetic, site).map(Val::Value);
        }
        Ok(Val::Value(self.emit(OpKind::Binary(bop), vs, ty, site)))
    }

    /// `a >> b` on operands of a common integer type whose signedness is not the shift's
    /// kind: reinterpret as the integer of the other signedness, shift, reinterpret back.
    fn shr_as(&mut self, vs: Vec<ValueId>, arithmetic: bool, site: &Site) -> Result<ValueId> {
        let ty = self.ty(vs[0]);
        let st = ty.scalar_type().unwrap_or(ScalarType::I32);
        let Some(other) = ScalarType::int_of_width(st.bits(), arithmetic) else {
            return Err(site.err(format!("invalid operand of type {}", triton_name(st))));
        };
        let oty = ty.with_elem(Elem::Scalar(other));
        let a = self.emit(OpKind::Bitcast, vec![vs[0]], oty.clone(), site);
        let b = self.emit(OpKind::Bitcast, vec![vs[1]], oty.clone(), site);
        let r = self.emit(OpKind::Binary(BinaryOp::Shr), vec![a, b], oty, site);
        Ok(self.emit(OpKind::Bitcast, vec![r], ty, site))
    }

    /// `ptr ± int` and `int + ptr`: AddPtr with broadcasting.
    fn ptr_arith(&mut self, op: Operator, a: Operand, b: Operand, site: &Site) -> Result<ValueId> {
        let (ea, eb) = (self.operand_elem(&a), self.operand_elem(&b));
        if ea.is_ptr() && eb.is_ptr() {
            return Err(site.err(if op == Operator::Add {
                "cannot add pointers together"
            } else {
                "unsupported: subtracting pointers"
            }));
        }
        let (ptr, off, eoff) = if ea.is_ptr() {
            (a, b, eb)
        } else if op == Operator::Add {
            (b, a, ea)
        } else {
            return Err(site.err(format!(
                "invalid operands of type {} and {}",
                elem_name(ea),
                elem_name(eb)
            )));
        };
        let off_t = match eoff.scalar() {
            Some(s) if s.is_int() => s,
            _ => {
                return Err(site.err(format!(
                    "invalid operands of type {} and {}",
                    elem_name(self.operand_elem(&ptr)),
                    elem_name(eoff)
                )))
            }
        };
        let off = match (op, off) {
            (Operator::Sub, Operand::Number(c)) => {
                let n = constfold::binary(Operator::Sub, &ConstValue::Int(0), &c)
                    .unwrap_or_else(|| Err("bad offset".into()))
                    .map_err(|e| site.err(e))?;
                Operand::Number(n)
            }
            (Operator::Sub, Operand::Value(v)) => {
                let ty = self.ty(v);
                Operand::Value(self.emit(OpKind::Unary(UnaryOp::Neg), vec![v], ty, site))
            }
            (_, o) => o,
        };
        let Operand::Value(p) = ptr else {
            return Err(site.err("internal error: pointer operand is not a value"));
        };
        let pshape = self.func.ty(p).shape.clone();
        let off = match off {
            Operand::Value(v) => v,
            Operand::Number(c) => {
                let t = super::promote::default_type(&c).unwrap_or(off_t);
                self.number(&c, t, pshape.clone(), site)?
            }
        };
        // A boolean offset counts as 0 or 1 (Triton's int1 is an integer), but AddPtr takes
        // offsets of a real integer width.
        let off = if self.func.ty(off).elem == Elem::Scalar(ScalarType::I1) {
            let ty = self.func.ty(off).with_elem(Elem::Scalar(ScalarType::I32));
            self.emit(OpKind::Cast, vec![off], ty, site)
        } else {
            off
        };
        let oshape = self.func.ty(off).shape.clone();
        let shape = self.broadcast_shape(&[&pshape, &oshape], site)?;
        let p = self.broadcast_to(p, &shape, site)?;
        let off = self.broadcast_to(off, &shape, site)?;
        let ty = self.ty(p);
        Ok(self.emit(OpKind::AddPtr, vec![p, off], ty, site))
    }

    pub fn unary(&mut self, op: PyUnary, v: Val, site: &Site) -> Result<Val> {
        if let Some(c) = v.to_const() {
            let r = match (op, &c) {
                (PyUnary::Not, c) => Some(ConstValue::Bool(!constfold::truthy(c))),
                (PyUnary::UAdd, ConstValue::Bool(b)) => Some(ConstValue::Int(*b as i64)),
                (PyUnary::UAdd, ConstValue::Int(_) | ConstValue::Float(_)) => Some(c.clone()),
                (PyUnary::USub, ConstValue::Bool(b)) => Some(ConstValue::Int(-(*b as i64))),
                (PyUnary::USub, ConstValue::Int(i)) => {
                    Some(ConstValue::Int(i.checked_neg().ok_or_else(|| {
                        site.err("integer overflow in constant expression")
                    })?))
                }
                (PyUnary::USub, ConstValue::Float(f)) => Some(ConstValue::Float(-f)),
                (PyUnary::Invert, ConstValue::Bool(b)) => Some(ConstValue::Int(!(*b as i64))),
                (PyUnary::Invert, ConstValue::Int(i)) => Some(ConstValue::Int(!i)),
                _ => None,
            };
            return r.map(Val::Const).ok_or_else(|| {
                site.err(format!(
                    "bad operand type for unary {}: '{}'",
                    op.as_str(),
                    v.kind_name()
                ))
            });
        }
        let Val::Value(x) = v else {
            return Err(site.err(format!(
                "bad operand type for unary {}: '{}'",
                op.as_str(),
                v.kind_name()
            )));
        };
        let ty = self.ty(x);
        match (op, ty.elem) {
            (PyUnary::UAdd, _) => Ok(Val::Value(x)),
            (PyUnary::USub, Elem::Scalar(_)) => Ok(Val::Value(self.emit(
                OpKind::Unary(UnaryOp::Neg),
                vec![x],
                ty,
                site,
            ))),
            (PyUnary::Invert, Elem::Scalar(s)) if s.is_int() => Ok(Val::Value(self.emit(
                OpKind::Unary(UnaryOp::Not),
                vec![x],
                ty,
                site,
            ))),
            (PyUnary::Not, Elem::Scalar(_)) => {
                let b = self.as_i1(x, site);
                let ty = self.ty(b);
                Ok(Val::Value(self.emit(
                    OpKind::Unary(UnaryOp::Not),
                    vec![b],
                    ty,
                    site,
                )))
            }
            (PyUnary::USub, e) => Err(site.err(format!(
                "wrong type argument to unary minus ({})",
                elem_name(e)
            ))),
            (_, e) => Err(site.err(format!(
                "wrong type argument to unary invert ({})",
                elem_name(e)
            ))),
        }
    }

    /// `x != 0` as i1 (the Cast op's meaning for a bool target).
    pub fn as_i1(&mut self, x: ValueId, site: &Site) -> ValueId {
        self.cast_to(x, Elem::Scalar(ScalarType::I1), site)
    }

    fn boolop(&mut self, cx: &mut FnCtx, b: &ast::ExprBoolOp) -> Result<Val> {
        if b.values.len() != 2 {
            return Err(cx.err(b, "unsupported: chained boolean operators (A or B or C) are not supported; use parentheses to split the chain."));
        }
        let l = self.expr(cx, &b.values[0])?;
        let r = self.expr(cx, &b.values[1])?;
        let site = cx.site(b);
        if let Some(c) = l.to_const() {
            // Python semantics on a constexpr left operand: `x and y` is x if x is falsy.
            let t = constfold::truthy(&c);
            return Ok(match (b.op, t) {
                (BoolOp::And, false) | (BoolOp::Or, true) => l,
                _ => r,
            });
        }
        let lv = self.materialize(&l, &site)?;
        let rv = self.materialize(&r, &site)?;
        let (lv, rv) = (self.as_i1(lv, &site), self.as_i1(rv, &site));
        let vs = self.unify_to(
            &[Operand::Value(lv), Operand::Value(rv)],
            Elem::Scalar(ScalarType::I1),
            &site,
        )?;
        let op = if b.op == BoolOp::And {
            BinaryOp::And
        } else {
            BinaryOp::Or
        };
        let ty = self.ty(vs[0]);
        Ok(Val::Value(self.emit(OpKind::Binary(op), vs, ty, &site)))
    }

    pub fn compare(&mut self, op: CmpOp, a: Val, b: Val, site: &Site) -> Result<Val> {
        if let (Some(x), Some(y)) = (a.to_const(), b.to_const()) {
            return constfold::compare(op, &x, &y)
                .map(|r| Val::Const(ConstValue::Bool(r)))
                .map_err(|e| site.err(e));
        }
        let pred = match op {
            CmpOp::Eq => CmpPred::Eq,
            CmpOp::NotEq => CmpPred::Ne,
            CmpOp::Lt => CmpPred::Lt,
            CmpOp::LtE => CmpPred::Le,
            CmpOp::Gt => CmpPred::Gt,
            CmpOp::GtE => CmpPred::Ge,
            CmpOp::Is | CmpOp::IsNot => {
                // Only identity with constexprs is decidable: a tensor is never None.
                if a.to_const().is_some() || b.to_const().is_some() {
                    return Ok(Val::Const(ConstValue::Bool(op == CmpOp::IsNot)));
                }
                return Err(site.err(format!(
                    "unsupported: '{}' between runtime values",
                    op.as_str()
                )));
            }
            CmpOp::In | CmpOp::NotIn => {
                return Err(site.err(format!("unsupported: '{}' on runtime values", op.as_str())))
            }
        };
        if !a.is_leaf() || !b.is_leaf() {
            return Err(site.err(format!(
                "unsupported operand types for {}: '{}' and '{}'",
                op.as_str(),
                a.kind_name(),
                b.kind_name()
            )));
        }
        let oa = self.operand(&a, site, op.as_str())?;
        let ob = self.operand(&b, site, op.as_str())?;
        let t = self.common_type(&oa, &ob, false, site)?;
        let vs = self.unify_to(&[oa, ob], t, site)?;
        let ty = self.ty(vs[0]).with_elem(Elem::Scalar(ScalarType::I1));
        Ok(Val::Value(self.emit(OpKind::Cmp(pred), vs, ty, site)))
    }

    fn ternary(&mut self, cx: &mut FnCtx, i: &ast::ExprIf) -> Result<Val> {
        let test = self.expr(cx, &i.test)?;
        let site = cx.site(i);
        if let Some(c) = test.to_const() {
            return if constfold::truthy(&c) {
                self.expr(cx, &i.body)
            } else {
                self.expr(cx, &i.orelse)
            };
        }
        let cond = self.condition(&test, &site)?;
        let parent = self.block;
        let then_b = self.func.new_block(&[]);
        let else_b = self.func.new_block(&[]);
        self.block = then_b;
        let tv = self
            .expr(cx, &i.body)
            .and_then(|v| self.materialize(&v, &site));
        self.block = else_b;
        let ev = self
            .expr(cx, &i.orelse)
            .and_then(|v| self.materialize(&v, &site));
        self.block = parent;
        let (tv, ev) = (tv?, ev?);
        let (tt, et) = (self.ty(tv), self.ty(ev));
        if tt != et {
            return Err(site.err(format!(
                "Mismatched type between the branches of a conditional expression: {} and {}",
                super::type_name(&tt),
                super::type_name(&et)
            )));
        }
        let results = self.push_if(
            parent,
            cond,
            [(then_b, vec![tv]), (else_b, vec![ev])],
            &site,
        );
        Ok(Val::Value(results[0]))
    }

    /// The i1 scalar a runtime `if` branches on.
    pub fn condition(&mut self, v: &Val, site: &Site) -> Result<ValueId> {
        let Val::Value(x) = v else {
            return Err(site.err(format!("unsupported: a '{}' as a condition", v.kind_name())));
        };
        let ty = self.ty(*x);
        if ty.is_tensor() {
            return Err(site.err(format!(
                "Boolean value of Tensor with more than one value is ambiguous (condition of type {})",
                super::type_name(&ty)
            )));
        }
        if ty.elem.is_ptr() {
            return Err(site.err("unsupported: a pointer as a condition"));
        }
        Ok(self.as_i1(*x, site))
    }

    fn subscript(&mut self, cx: &mut FnCtx, s: &ast::ExprSubscript) -> Result<Val> {
        let base = self.expr(cx, &s.value)?;
        let site = cx.site(s);
        match base {
            Val::Tuple(items) => {
                if let Expr::Slice(sl) = &*s.slice {
                    return self.tuple_slice(cx, items, sl, &site);
                }
                let idx = self.expr(cx, &s.slice)?;
                let Val::Const(ConstValue::Int(i)) = idx else {
                    return Err(site.err("tuple indices must be constexpr integers"));
                };
                let n = items.len() as i64;
                let j = if i < 0 { i + n } else { i };
                if j < 0 || j >= n {
                    return Err(site.err("tuple index out of range"));
                }
                Ok(items[j as usize].clone())
            }
            Val::Value(mut x) => {
                let parts: Vec<&Expr> = match &*s.slice {
                    Expr::Tuple(t) => t.elts.iter().collect(),
                    other => vec![other],
                };
                for (dim, p) in parts.iter().enumerate() {
                    let is_none = match p {
                        Expr::NoneLiteral(_) => true,
                        Expr::Slice(sl)
                            if sl.lower.is_none() && sl.upper.is_none() && sl.step.is_none() =>
                        {
                            false
                        }
                        Expr::Name(_) | Expr::Attribute(_) => {
                            if matches!(self.expr(cx, p)?, Val::Const(ConstValue::None)) {
                                true
                            } else {
                                return Err(cx.err(
                                    *p,
                                    "unsupported tensor index: only None and ':' are supported",
                                ));
                            }
                        }
                        _ => {
                            return Err(cx.err(
                                *p,
                                "unsupported tensor index: only None and ':' are supported",
                            ))
                        }
                    };
                    if is_none {
                        x = self.expand_dims(x, dim, &site)?;
                    } else if dim >= self.func.ty(x).rank() {
                        return Err(site.err(format!(
                            "too many indices for tensor of dimension {}",
                            self.func.ty(x).rank()
                        )));
                    }
                }
                Ok(Val::Value(x))
            }
            other => Err(site.err(format!(
                "'{}' object is not subscriptable",
                other.kind_name()
            ))),
        }
    }

    /// `t[a:b:c]` on a tuple, with Python's slice semantics.
    fn tuple_slice(
        &mut self,
        cx: &mut FnCtx,
        items: Vec<Val>,
        sl: &ast::ExprSlice,
        site: &Site,
    ) -> Result<Val> {
        let mut bound = |e: &Option<Box<Expr>>| -> Result<Option<i64>> {
            match e {
                None => Ok(None),
                Some(e) => match self.expr(cx, e)? {
                    Val::Const(ConstValue::None) => Ok(None),
                    Val::Const(ConstValue::Int(i)) => Ok(Some(i)),
                    _ => Err(site.err("slice indices must be constexpr integers or None")),
                },
            }
        };
        let (lo, hi, step) = (bound(&sl.lower)?, bound(&sl.upper)?, bound(&sl.step)?);
        let step = step.unwrap_or(1);
        if step == 0 {
            return Err(site.err("slice step cannot be zero"));
        }
        let n = items.len() as i64;
        let clamp = |i: i64, lo_b: i64, hi_b: i64| {
            let i = if i < 0 { i + n } else { i };
            i.clamp(lo_b, hi_b)
        };
        let mut out = Vec::new();
        if step > 0 {
            let (mut i, end) = (clamp(lo.unwrap_or(0), 0, n), clamp(hi.unwrap_or(n), 0, n));
            while i < end {
                out.push(items[i as usize].clone());
                i += step;
            }
        } else {
            let mut i = lo.map_or(n - 1, |v| clamp(v, -1, n - 1));
            let end = hi.map_or(-1, |v| clamp(v, -1, n - 1));
            while i > end {
                out.push(items[i as usize].clone());
                i += step;
            }
        }
        Ok(Val::Tuple(out))
    }

    pub fn expand_dims(&mut self, x: ValueId, axis: usize, site: &Site) -> Result<ValueId> {
        let ty = self.ty(x);
        if ty.shape.is_empty() {
            if axis != 0 {
                return Err(site.err(format!("invalid axis {axis} for expand_dims of a scalar")));
            }
            return Ok(self.emit(OpKind::Splat, vec![x], ty.with_shape(vec![1]), site));
        }
        if axis > ty.rank() {
            return Err(site.err(format!(
                "invalid axis {axis} for expand_dims of a rank-{} tensor",
                ty.rank()
            )));
        }
        let mut shape = ty.shape.clone();
        shape.insert(axis, 1);
        Ok(self.emit(
            OpKind::ExpandDims(axis as u32),
            vec![x],
            Type::tensor(ty.elem, shape),
            site,
        ))
    }

    fn call_expr(&mut self, cx: &mut FnCtx, c: &ast::ExprCall) -> Result<Val> {
        let f = self.expr(cx, &c.func)?;
        let mut pos = Vec::with_capacity(c.arguments.args.len());
        for a in c.arguments.args.iter() {
            if let Expr::Starred(_) = a {
                return Err(cx.err(a, "unsupported AST node type: Starred"));
            }
            pos.push(self.expr(cx, a)?);
        }
        let mut kw = Vec::with_capacity(c.arguments.keywords.len());
        for k in c.arguments.keywords.iter() {
            let Some(name) = &k.arg else {
                return Err(cx.err(k, "unsupported: **kwargs in a call"));
            };
            kw.push((name.as_str().to_string(), self.expr(cx, &k.value)?));
        }
        let site = cx.site(c);
        let args = builtins::Args { pos, kw };
        match f {
            Val::Builtin(b) => builtins::call(self, b, args, &site),
            Val::Method(recv, b) => {
                let mut args = args;
                args.pos.insert(0, *recv);
                builtins::call(self, b, args, &site)
            }
            Val::JitFn(src) => self.call_jit(&src, args, &site),
            Val::BoundJit(recv, src) => {
                let mut args = args;
                args.pos.insert(0, *recv);
                self.call_jit(&src, args, &site)
            }
            Val::ConstexprType => {
                let v = builtins::Args::single(args, "constexpr", &site)?;
                if v.to_const().is_none() {
                    return Err(site.err("constexpr() requires a compile-time constant"));
                }
                Ok(v)
            }
            other => Err(site.err(format!("'{}' object is not callable", other.kind_name()))),
        }
    }
}
