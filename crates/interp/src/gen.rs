//! Random well-typed kernels for differential testing (feature `gen`).
//!
//! A [`Kernel`] is a plain description: a 2-D block of `rows × cols` lanes over an
//! `n_rows × n_cols` problem, inputs loaded with masks (full 2-D tiles, row or column vectors
//! broadcast with expand_dims, or scalar arguments splatted), a chain of ops over
//! i8/i16/i32/i64/u32/f16/f32 (arithmetic, bitwise, shifts, division by anything including
//! zero, select on comparisons including NaN ones, casts, constants, `for` loops, reductions
//! broadcast back over the block as softmax does), and either
//! a masked store of the whole tile or a sum/max/min along one axis of it, stored per block.
//! [`Kernel::build`] lowers it to Tile IR, [`Kernel::args`] gives the argument list every
//! engine gets, and [`Kernel::reference`] evaluates it directly in Rust (written
//! independently of the interpreter), so any engine can be checked against it or against
//! another engine. [`kernel`] is the proptest strategy; shrinking removes ops and inputs and
//! shrinks shapes and values.
//!
//! The reference carries an error bound with every value (see [`Tolerance`]): 0 where every
//! engine must give the exact bits, a finite bound after an approximate op (`exp` on a GPU,
//! a float sum in another order, a flushed subnormal), and "unknown" where such an error
//! may have crossed a discontinuity (a floor, a comparison, a float→int cast), so that the
//! element cannot be checked.

use half::f16;
use proptest::prelude::*;
use tm_core::{Loc, ScalarType};
use tm_tile::{BinaryOp, Builder, CmpPred, Function, Literal, Type, UnaryOp, ValueId};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dt {
    I32,
    F32,
    I8,
    I16,
    I64,
    U32,
    F16,
}

impl Dt {
    pub const ALL: [Dt; 7] = [Dt::I32, Dt::F32, Dt::I8, Dt::I16, Dt::I64, Dt::U32, Dt::F16];

    pub fn scalar(self) -> ScalarType {
        match self {
            Dt::I32 => ScalarType::I32,
            Dt::F32 => ScalarType::F32,
            Dt::I8 => ScalarType::I8,
            Dt::I16 => ScalarType::I16,
            Dt::I64 => ScalarType::I64,
            Dt::U32 => ScalarType::U32,
            Dt::F16 => ScalarType::F16,
        }
    }

    pub fn is_float(self) -> bool {
        matches!(self, Dt::F32 | Dt::F16)
    }

    pub fn bits(self) -> u32 {
        match self {
            Dt::I8 => 8,
            Dt::I16 | Dt::F16 => 16,
            Dt::I32 | Dt::U32 | Dt::F32 => 32,
            Dt::I64 => 64,
        }
    }

    pub fn size(self) -> usize {
        self.bits() as usize / 8
    }

    /// Wraps an integer to this type's width (sign- or zero-extended back to i64).
    pub fn wrap(self, x: i64) -> i64 {
        match self {
            Dt::I8 => x as i8 as i64,
            Dt::I16 => x as i16 as i64,
            Dt::I32 => x as i32 as i64,
            Dt::U32 => x as u32 as i64,
            Dt::I64 | Dt::F32 | Dt::F16 => x,
        }
    }

    /// Rounds a float to this type (nearest even).
    pub fn round(self, x: f64) -> f64 {
        match self {
            Dt::F16 => f16::from_f64(x).to_f64(),
            _ => x as f32 as f64,
        }
    }

    fn unsigned(self) -> bool {
        self == Dt::U32
    }

    fn epsilon(self) -> f64 {
        match self {
            Dt::F16 => 2f64.powi(-11),
            _ => 2f64.powi(-24),
        }
    }

    fn max_finite(self) -> f64 {
        match self {
            Dt::F16 => 65504.0,
            _ => f32::MAX as f64,
        }
    }

    fn min_normal(self) -> f64 {
        match self {
            Dt::F16 => 2f64.powi(-14),
            _ => f32::MIN_POSITIVE as f64,
        }
    }

    /// The spacing of this type's values at `x`.
    fn ulp(self, x: f64) -> f64 {
        let x = x.abs();
        if !x.is_finite() {
            return f64::INFINITY;
        }
        let (mant, emin) = match self {
            Dt::F16 => (10, -14),
            _ => (23, -126),
        };
        let e = if x < self.min_normal() {
            emin
        } else {
            x.log2().floor() as i32
        };
        2f64.powi(e - mant)
    }

    pub fn encode(self, v: Val) -> Vec<u8> {
        match (self, v) {
            (Dt::F32, Val::F(x)) => (x as f32).to_le_bytes().to_vec(),
            (Dt::F16, Val::F(x)) => f16::from_f64(x).to_bits().to_le_bytes().to_vec(),
            (dt, Val::I(x)) if !dt.is_float() => x.to_le_bytes()[..dt.size()].to_vec(),
            (dt, _) => vec![0; dt.size()],
        }
    }

    pub fn decode(self, b: &[u8]) -> Val {
        let mut w = [0u8; 8];
        w[..b.len().min(8)].copy_from_slice(&b[..b.len().min(8)]);
        let raw = i64::from_le_bytes(w);
        match self {
            Dt::F32 => Val::F(f32::from_bits(raw as u32) as f64),
            Dt::F16 => Val::F(f16::from_bits(raw as u16).to_f64()),
            dt => Val::I(dt.wrap(raw)),
        }
    }
}

/// How an input reaches the block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// `n_rows × n_cols` row-major buffer, loaded with the 2-D mask.
    Full,
    /// `n_cols` buffer, loaded as a row vector and broadcast down the rows.
    Row,
    /// `n_rows` buffer, loaded as a column vector and broadcast across the columns.
    Col,
    /// A scalar argument, splatted (i32 and f32 only).
    Scalar,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Input {
    pub dt: Dt,
    pub layout: Layout,
    /// The elements, exact values of `dt`.
    pub data: Vec<Val>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Node {
    Input(usize),
    Const(Val, Dt),
    Unary(UnaryOp, usize),
    /// The right operand is cast to the left one's type first.
    Binary(BinaryOp, usize, usize),
    /// `select(a PRED b, c, d)`, with b cast to a's type and d to c's.
    Select(CmpPred, usize, usize, usize, usize),
    Cast(usize, Dt),
    /// `x = a; for _ in range(n): x = x OP b` (b cast to a's type), as a `for` op carrying
    /// the tile.
    Loop(BinaryOp, usize, usize, u32),
    /// A sum/max/min along `axis` of the block, broadcast back over that axis (softmax's
    /// `x - max(x, axis)` shape of computation).
    ReduceBroadcast(ReduceOp, u32, usize),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReduceOp {
    Sum,
    Max,
    Min,
}

/// A reduction of the last node along `axis` of the block, stored per block: along axis 1
/// the output is `n_rows × grid[1]`, along axis 0 `grid[0] × n_cols`. Every lane of the
/// block takes part, the masked-off ones too (their loads read `other = 0`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reduction {
    pub op: ReduceOp,
    pub axis: u32,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Kernel {
    pub rows: u32,
    pub cols: u32,
    pub n_rows: u32,
    pub n_cols: u32,
    /// Simdgroups per program for the compiled engines (the interpreter ignores it).
    pub num_warps: u32,
    pub inputs: Vec<Input>,
    /// Nodes in evaluation order; the last one is stored (or reduced).
    pub nodes: Vec<Node>,
    pub reduce: Option<Reduction>,
}

/// A value of the reference evaluation: integers sign- or zero-extended from their type,
/// floats exact values of theirs.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Val {
    I(i64),
    F(f64),
}

impl Val {
    fn f(self) -> f64 {
        match self {
            Val::F(x) => x,
            Val::I(x) => x as f64,
        }
    }

    fn i(self) -> i64 {
        match self {
            Val::I(x) => x,
            Val::F(x) => x as i64,
        }
    }
}

/// One argument as every engine takes it.
#[derive(Clone, Debug, PartialEq)]
pub enum Arg {
    Buffer(ScalarType, Vec<u8>),
    I32(i32),
    F32(f32),
}

/// How far an engine may be from the exact reference.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Tolerance {
    /// `exp` may be off by `exp_ulps + exp_ulps_per_unit * |x|` units in the last place
    /// (Vulkan allows 3 + 2|x|).
    pub exp_ulps: f64,
    pub exp_ulps_per_unit: f64,
    /// Subnormal results may be flushed to zero (Vulkan and Metal allow it).
    pub flush_subnormals: bool,
    /// Nothing is known of a value once an infinity or a NaN appears: WGSL lets
    /// implementations assume there are none (lavapipe folds `x - x` to 0 and `x != x` to
    /// false).
    pub assume_finite: bool,
}

impl Tolerance {
    /// What the interpreter must meet: exact but for float sums in another order.
    pub const EXACT: Tolerance = Tolerance {
        exp_ulps: 0.0,
        exp_ulps_per_unit: 0.0,
        flush_subnormals: false,
        assume_finite: false,
    };
    /// What a GPU backend may do.
    pub const GPU: Tolerance = Tolerance {
        exp_ulps: 3.0,
        exp_ulps_per_unit: 2.0,
        flush_subnormals: true,
        assume_finite: false,
    };
    /// What a WGSL backend may do.
    pub const WGSL: Tolerance = Tolerance {
        assume_finite: true,
        ..Tolerance::GPU
    };
}

/// A reference value with the bound on how far a correct engine may be from it: 0 for
/// exactly this value, `INFINITY` for anything.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Bounded {
    pub val: Val,
    pub err: f64,
}

const INT_BIN: &[BinaryOp] = &[
    BinaryOp::Add,
    BinaryOp::Sub,
    BinaryOp::Mul,
    BinaryOp::Div,
    BinaryOp::Rem,
    BinaryOp::And,
    BinaryOp::Or,
    BinaryOp::Xor,
    BinaryOp::Shl,
    BinaryOp::Shr,
    BinaryOp::Min,
    BinaryOp::Max,
];
const FLOAT_BIN: &[BinaryOp] = &[
    BinaryOp::Add,
    BinaryOp::Sub,
    BinaryOp::Mul,
    BinaryOp::Div,
    BinaryOp::Min,
    BinaryOp::Max,
];
const INT_UN: &[UnaryOp] = &[UnaryOp::Neg, UnaryOp::Not, UnaryOp::Abs];
const FLOAT_UN: &[UnaryOp] = &[
    UnaryOp::Neg,
    UnaryOp::Abs,
    UnaryOp::Sqrt,
    UnaryOp::Floor,
    UnaryOp::Exp,
];
const PREDS: &[CmpPred] = &[
    CmpPred::Eq,
    CmpPred::Ne,
    CmpPred::Lt,
    CmpPred::Le,
    CmpPred::Gt,
    CmpPred::Ge,
];

impl Kernel {
    pub fn dt(&self, node: usize) -> Dt {
        match &self.nodes[node] {
            Node::Input(i) => self.inputs[*i].dt,
            Node::Const(_, dt) | Node::Cast(_, dt) => *dt,
            Node::Unary(_, a)
            | Node::Binary(_, a, _)
            | Node::Loop(_, a, _, _)
            | Node::ReduceBroadcast(_, _, a) => self.dt(*a),
            Node::Select(_, _, _, c, _) => self.dt(*c),
        }
    }

    pub fn out_dt(&self) -> Dt {
        self.dt(self.nodes.len() - 1)
    }

    pub fn grid(&self) -> [u32; 3] {
        [
            self.n_rows.div_ceil(self.rows),
            self.n_cols.div_ceil(self.cols),
            1,
        ]
    }

    /// The output's shape: the problem, or one row/column per block for a reduction.
    pub fn out_shape(&self) -> (u32, u32) {
        let g = self.grid();
        match self.reduce {
            None => (self.n_rows, self.n_cols),
            Some(Reduction { axis: 0, .. }) => (g[0], self.n_cols),
            Some(_) => (self.n_rows, g[1]),
        }
    }

    /// The types the kernel uses anywhere.
    pub fn uses(&self, dt: Dt) -> bool {
        (0..self.nodes.len()).any(|i| self.dt(i) == dt) || self.inputs.iter().any(|i| i.dt == dt)
    }

    /// Arguments in parameter order: the inputs, the output buffer, n_rows, n_cols.
    pub fn args(&self) -> Vec<Arg> {
        let mut out: Vec<Arg> = self
            .inputs
            .iter()
            .map(|inp| match (inp.layout, inp.dt) {
                (Layout::Scalar, Dt::F32) => Arg::F32(inp.data[0].f() as f32),
                (Layout::Scalar, _) => Arg::I32(inp.data[0].i() as i32),
                (_, dt) => Arg::Buffer(
                    dt.scalar(),
                    inp.data.iter().flat_map(|&x| dt.encode(x)).collect(),
                ),
            })
            .collect();
        let (r, c) = self.out_shape();
        let dt = self.out_dt();
        out.push(Arg::Buffer(
            dt.scalar(),
            vec![0u8; (r * c) as usize * dt.size()],
        ));
        out.push(Arg::I32(self.n_rows as i32));
        out.push(Arg::I32(self.n_cols as i32));
        out
    }

    /// The Tile IR of the kernel (every op at line 1 of a file named `gen.py`).
    pub fn build(&self) -> Function {
        let mut f = Function::new("gen_kernel");
        f.files
            .push(tm_core::SourceFile::new("gen.py", "# generated", 1));
        let mut params = Vec::new();
        for (i, inp) in self.inputs.iter().enumerate() {
            let ty = match inp.layout {
                Layout::Scalar => Type::scalar(inp.dt.scalar()),
                _ => Type::ptr(inp.dt.scalar()),
            };
            params.push(f.add_param(format!("in{i}"), ty, i as u32, false));
        }
        let k = self.inputs.len() as u32;
        let out = f.add_param("out", Type::ptr(self.out_dt().scalar()), k, false);
        let nr = f.add_param("n_rows", Type::scalar(ScalarType::I32), k + 1, false);
        let nc = f.add_param("n_cols", Type::scalar(ScalarType::I32), k + 2, false);
        let (rows, cols) = (self.rows, self.cols);
        let sh = vec![rows, cols];
        let mut b = Builder::new(&mut f);
        b.loc = Loc::new(0, 1, 1);
        let offs = |b: &mut Builder, axis: u8, size: u32| {
            let pid = b.program_id(axis);
            let c = b.int(ScalarType::I32, size as i64);
            let base = b.binary(BinaryOp::Mul, pid, c);
            let base = b.splat(base, vec![size]);
            let r = b.make_range(0, size as i32);
            (pid, b.binary(BinaryOp::Add, base, r))
        };
        let (pid0, om) = offs(&mut b, 0, rows);
        let (pid1, on) = offs(&mut b, 1, cols);
        let nrs = b.splat(nr, vec![rows]);
        let mrow1 = b.cmp(CmpPred::Lt, om, nrs);
        let ncs = b.splat(nc, vec![cols]);
        let mcol1 = b.cmp(CmpPred::Lt, on, ncs);
        let om2 = b.expand_dims(om, 1);
        let on2 = b.expand_dims(on, 0);
        let mrow2 = b.expand_dims(mrow1, 1);
        let mrow2 = b.broadcast(mrow2, sh.clone());
        let mcol2 = b.expand_dims(mcol1, 0);
        let mcol2 = b.broadcast(mcol2, sh.clone());
        let mask = b.binary(BinaryOp::And, mrow2, mcol2);
        let ncs2 = b.splat(nc, vec![rows, 1]);
        let rowoff = b.binary(BinaryOp::Mul, om2, ncs2);
        let rowoff = b.broadcast(rowoff, sh.clone());
        let coloff = b.broadcast(on2, sh.clone());
        let idx = b.binary(BinaryOp::Add, rowoff, coloff);
        // Masked-off lanes take part in a reduction: they must read a defined value.
        let reduces = self.reduce.is_some()
            || self
                .nodes
                .iter()
                .any(|n| matches!(n, Node::ReduceBroadcast(..)));
        let zero = |b: &mut Builder, dt: Dt, shape: Vec<u32>| -> Option<ValueId> {
            if !reduces {
                return None;
            }
            let lit = if dt.is_float() {
                Literal::Float(0.0)
            } else {
                Literal::Int(0)
            };
            Some(b.constant(lit, Type::tensor(tm_tile::Elem::Scalar(dt.scalar()), shape)))
        };

        let mut vals: Vec<ValueId> = Vec::new();
        let mut loaded: Vec<Option<ValueId>> = vec![None; self.inputs.len()];
        for node in &self.nodes {
            let v = match node {
                Node::Input(i) => match loaded[*i] {
                    Some(v) => v,
                    None => {
                        let p = params[*i];
                        let dt = self.inputs[*i].dt;
                        let v = match self.inputs[*i].layout {
                            Layout::Scalar => b.splat(p, sh.clone()),
                            Layout::Full => {
                                let ps = b.splat(p, sh.clone());
                                let ps = b.addptr(ps, idx);
                                let other = zero(&mut b, dt, sh.clone());
                                b.load(ps, Some(mask), other)
                            }
                            Layout::Row => {
                                let ps = b.splat(p, vec![cols]);
                                let ps = b.addptr(ps, on);
                                let other = zero(&mut b, dt, vec![cols]);
                                let v = b.load(ps, Some(mcol1), other);
                                let v = b.expand_dims(v, 0);
                                b.broadcast(v, sh.clone())
                            }
                            Layout::Col => {
                                let ps = b.splat(p, vec![rows]);
                                let ps = b.addptr(ps, om);
                                let other = zero(&mut b, dt, vec![rows]);
                                let v = b.load(ps, Some(mrow1), other);
                                let v = b.expand_dims(v, 1);
                                b.broadcast(v, sh.clone())
                            }
                        };
                        loaded[*i] = Some(v);
                        v
                    }
                },
                Node::Const(x, dt) => {
                    let lit = match x {
                        Val::I(x) => Literal::Int(*x),
                        Val::F(x) => Literal::Float(*x),
                    };
                    let ty = Type::tensor(tm_tile::Elem::Scalar(dt.scalar()), sh.clone());
                    b.constant(lit, ty)
                }
                Node::Unary(op, a) => b.unary(*op, vals[*a]),
                Node::Binary(op, l, r) => {
                    let rr = conv(&mut b, self, vals[*r], *r, self.dt(*l));
                    b.binary(*op, vals[*l], rr)
                }
                Node::Select(p, x, y, c, d) => {
                    let yy = conv(&mut b, self, vals[*y], *y, self.dt(*x));
                    let cond = b.cmp(*p, vals[*x], yy);
                    let dd = conv(&mut b, self, vals[*d], *d, self.dt(*c));
                    b.select(cond, vals[*c], dd)
                }
                Node::Cast(a, dt) => conv(&mut b, self, vals[*a], *a, *dt),
                Node::Loop(op, a, r, n) => {
                    let rr = conv(&mut b, self, vals[*r], *r, self.dt(*a));
                    let lo = b.int(ScalarType::I32, 0);
                    let hi = b.int(ScalarType::I32, *n as i64);
                    let step = b.int(ScalarType::I32, 1);
                    let op = *op;
                    b.for_(lo, hi, step, vec![vals[*a]], |b, _iv, carried| {
                        vec![b.binary(op, carried[0], rr)]
                    })[0]
                }
                Node::ReduceBroadcast(op, axis, a) => {
                    let op = reduce_op(*op);
                    let r = b.reduce(vec![vals[*a]], *axis, |b, args| {
                        vec![b.binary(op, args[0], args[1])]
                    })[0];
                    let e = b.expand_dims(r, *axis);
                    b.broadcast(e, sh.clone())
                }
            };
            vals.push(v);
        }
        let Some(&last) = vals.last() else {
            b.ret();
            return f;
        };
        match self.reduce {
            None => {
                let po = b.splat(out, sh);
                let po = b.addptr(po, idx);
                b.store(po, last, Some(mask));
            }
            Some(red) => {
                let op = reduce_op(red.op);
                let r = b.reduce(vec![last], red.axis, |b, args| {
                    vec![b.binary(op, args[0], args[1])]
                })[0];
                let g = self.grid();
                if red.axis == 0 {
                    // out[pid0, c]
                    let base = b.binary(BinaryOp::Mul, pid0, nc);
                    let base = b.splat(base, vec![cols]);
                    let o = b.binary(BinaryOp::Add, base, on);
                    let po = b.splat(out, vec![cols]);
                    let po = b.addptr(po, o);
                    b.store(po, r, Some(mcol1));
                } else {
                    // out[r, pid1]
                    let gc = b.int(ScalarType::I32, g[1] as i64);
                    let gcs = b.splat(gc, vec![rows]);
                    let o = b.binary(BinaryOp::Mul, om, gcs);
                    let p1 = b.splat(pid1, vec![rows]);
                    let o = b.binary(BinaryOp::Add, o, p1);
                    let po = b.splat(out, vec![rows]);
                    let po = b.addptr(po, o);
                    b.store(po, r, Some(mrow1));
                }
            }
        }
        b.ret();
        f
    }

    /// Input `i` as lane (r, c) of the padded block grid sees it: masked-off lanes read 0.
    fn input_at(&self, i: usize, r: usize, c: usize) -> Val {
        let inp = &self.inputs[i];
        let (in_r, in_c) = (r < self.n_rows as usize, c < self.n_cols as usize);
        let zero = if inp.dt.is_float() {
            Val::F(0.0)
        } else {
            Val::I(0)
        };
        match inp.layout {
            Layout::Full if in_r && in_c => inp.data[r * self.n_cols as usize + c],
            Layout::Row if in_c => inp.data[c],
            Layout::Col if in_r => inp.data[r],
            Layout::Scalar => inp.data[0],
            _ => zero,
        }
    }

    /// The last node over the lanes of block (pr, pc), row-major `rows × cols`, with
    /// error bounds. Whole blocks, because a reduction broadcast back reads its neighbours.
    fn block(&self, pr: usize, pc: usize, tol: &Tolerance) -> Vec<Bounded> {
        let (rows, cols) = (self.rows as usize, self.cols as usize);
        let lanes = rows * cols;
        let mut vals: Vec<Vec<Bounded>> = Vec::with_capacity(self.nodes.len());
        for node in &self.nodes {
            let per_lane = |f: &dyn Fn(usize) -> Bounded| (0..lanes).map(f).collect::<Vec<_>>();
            let v: Vec<Bounded> = match node {
                Node::Input(i) => per_lane(&|l| {
                    exact(self.input_at(*i, pr * rows + l / cols, pc * cols + l % cols))
                }),
                Node::Const(x, _) => per_lane(&|_| exact(*x)),
                Node::Unary(op, a) => per_lane(&|l| b_unary(*op, self.dt(*a), vals[*a][l], tol)),
                Node::Binary(op, l, rr) => {
                    let dt = self.dt(*l);
                    per_lane(&|i| {
                        let rv = b_cast(vals[*rr][i], self.dt(*rr), dt, tol);
                        b_binary(*op, dt, vals[*l][i], rv, tol)
                    })
                }
                Node::Select(p, x, y, cc, d) => per_lane(&|i| {
                    let yv = b_cast(vals[*y][i], self.dt(*y), self.dt(*x), tol);
                    let dv = b_cast(vals[*d][i], self.dt(*d), self.dt(*cc), tol);
                    match b_cmp(*p, vals[*x][i], yv) {
                        Some(true) => vals[*cc][i],
                        Some(false) => dv,
                        None => unknown(vals[*cc][i].val),
                    }
                }),
                Node::Cast(a, dt) => per_lane(&|i| b_cast(vals[*a][i], self.dt(*a), *dt, tol)),
                Node::Loop(op, a, rr, n) => {
                    let dt = self.dt(*a);
                    per_lane(&|i| {
                        let rv = b_cast(vals[*rr][i], self.dt(*rr), dt, tol);
                        let mut x = vals[*a][i];
                        for _ in 0..*n {
                            x = b_binary(*op, dt, x, rv, tol);
                        }
                        x
                    })
                }
                Node::ReduceBroadcast(op, axis, a) => {
                    let dt = self.dt(*a);
                    let src = &vals[*a];
                    per_lane(&|i| {
                        let (r, c) = (i / cols, i % cols);
                        let group: Vec<Bounded> = if *axis == 0 {
                            (0..rows).map(|rr| src[rr * cols + c]).collect()
                        } else {
                            (0..cols).map(|cc| src[r * cols + cc]).collect()
                        };
                        b_reduce(*op, dt, &group)
                    })
                }
            };
            let v = v
                .into_iter()
                .map(|v| match v.val {
                    Val::F(x) if tol.assume_finite && !x.is_finite() => unknown(v.val),
                    _ => v,
                })
                .collect();
            vals.push(v);
        }
        vals.pop().unwrap_or_else(|| vec![exact(Val::I(0)); lanes])
    }

    /// The expected output, row-major over [`Kernel::out_shape`], with error bounds.
    pub fn reference_bounded(&self, tol: &Tolerance) -> Vec<Bounded> {
        let (or, oc) = self.out_shape();
        let (rows, cols) = (self.rows as usize, self.cols as usize);
        let g = self.grid();
        let dt = self.out_dt();
        let mut out = vec![exact(Val::I(0)); (or * oc) as usize];
        for pr in 0..g[0] as usize {
            for pc in 0..g[1] as usize {
                let b = self.block(pr, pc, tol);
                match self.reduce {
                    None => {
                        for (l, &v) in b.iter().enumerate().take(rows * cols) {
                            let (r, c) = (pr * rows + l / cols, pc * cols + l % cols);
                            if r < or as usize && c < oc as usize {
                                out[r * oc as usize + c] = v;
                            }
                        }
                    }
                    Some(red) if red.axis == 0 => {
                        for c in 0..cols {
                            let col: Vec<Bounded> = (0..rows).map(|r| b[r * cols + c]).collect();
                            let gc = pc * cols + c;
                            if gc < oc as usize {
                                out[pr * oc as usize + gc] = b_reduce(red.op, dt, &col);
                            }
                        }
                    }
                    Some(red) => {
                        for r in 0..rows {
                            let row = &b[r * cols..(r + 1) * cols];
                            let gr = pr * rows + r;
                            if gr < or as usize {
                                out[gr * oc as usize + pc] = b_reduce(red.op, dt, row);
                            }
                        }
                    }
                }
            }
        }
        out
    }

    /// The expected output, row-major over [`Kernel::out_shape`].
    pub fn reference(&self) -> Vec<Val> {
        self.reference_bounded(&Tolerance::EXACT)
            .into_iter()
            .map(|b| b.val)
            .collect()
    }

    /// Compares an engine's output buffer with the reference: ints exactly, floats within
    /// `ulps` units in the last place for `exp` (NaN matches NaN), float sums within the
    /// error of another summation order. Returns the first mismatch.
    pub fn check(&self, out: &[u8], ulps: u32) -> Result<(), String> {
        self.check_with(
            out,
            &Tolerance {
                exp_ulps: ulps as f64,
                ..Tolerance::EXACT
            },
        )
    }

    /// Checks a compiled engine's output against the reference with what GPUs may do.
    pub fn check_engine(&self, out: &[u8]) -> Result<(), String> {
        self.check_with(out, &Tolerance::GPU)
    }

    /// The index of the first output element outside the reference's bound (a buffer too
    /// short mismatches at its end).
    pub fn mismatch(&self, out: &[u8], tol: &Tolerance) -> Option<usize> {
        let want = self.reference_bounded(tol);
        let dt = self.out_dt();
        let n = dt.size();
        want.iter().enumerate().position(|(i, w)| {
            out.get(i * n..i * n + n)
                .is_none_or(|b| !accepts(w, dt.decode(b)))
        })
    }

    /// The same kernel on the one-lane problem of output element (r, c) of an elementwise
    /// kernel: what a failure there needs, and nothing else.
    pub fn single_lane(&self, r: usize, c: usize) -> Option<Kernel> {
        if self.reduce.is_some() || r >= self.n_rows as usize || c >= self.n_cols as usize {
            return None;
        }
        let mut k = self.clone();
        k.n_rows = 1;
        k.n_cols = 1;
        for inp in &mut k.inputs {
            let v = match inp.layout {
                Layout::Full => inp.data[r * self.n_cols as usize + c],
                Layout::Row => inp.data[c],
                Layout::Col => inp.data[r],
                Layout::Scalar => inp.data[0],
            };
            inp.data = vec![v];
        }
        Some(k)
    }

    pub fn check_with(&self, out: &[u8], tol: &Tolerance) -> Result<(), String> {
        let want = self.reference_bounded(tol);
        let dt = self.out_dt();
        let n = dt.size();
        if out.len() < want.len() * n {
            return Err(format!(
                "output buffer of {} bytes, want {}",
                out.len(),
                want.len() * n
            ));
        }
        if let Some(i) = self.mismatch(out, tol) {
            let w = &want[i];
            let got = dt.decode(&out[i * n..i * n + n]);
            let oc = self.out_shape().1 as usize;
            return Err(format!(
                "at ({}, {}): got {got:?}, want {:?} (± {})",
                i / oc,
                i % oc,
                w.val,
                w.err
            ));
        }
        Ok(())
    }

    /// Drops the nodes the result does not depend on and the inputs nothing reads, so that a
    /// shrunk failure shows only what matters.
    pub fn prune(&mut self) {
        let n = self.nodes.len();
        if n == 0 {
            return;
        }
        let mut live = vec![false; n];
        live[n - 1] = true;
        for i in (0..n).rev() {
            if !live[i] {
                continue;
            }
            match self.nodes[i] {
                Node::Input(_) | Node::Const(..) => {}
                Node::Unary(_, a) | Node::Cast(a, _) | Node::ReduceBroadcast(_, _, a) => {
                    live[a] = true
                }
                Node::Binary(_, a, b) | Node::Loop(_, a, b, _) => {
                    live[a] = true;
                    live[b] = true;
                }
                Node::Select(_, a, b, c, d) => {
                    for x in [a, b, c, d] {
                        live[x] = true;
                    }
                }
            }
        }
        let mut used = vec![false; self.inputs.len()];
        for (i, node) in self.nodes.iter().enumerate() {
            if let (true, Node::Input(k)) = (live[i], node) {
                used[*k] = true;
            }
        }
        let mut new_input = vec![0; self.inputs.len()];
        let mut inputs = Vec::new();
        for (k, inp) in self.inputs.iter().enumerate() {
            if used[k] {
                new_input[k] = inputs.len();
                inputs.push(inp.clone());
            }
        }
        let mut new_node = vec![0; n];
        let mut nodes = Vec::new();
        for (i, node) in self.nodes.iter().enumerate() {
            if !live[i] {
                continue;
            }
            let m = |x: usize| new_node[x];
            let pruned = match *node {
                Node::Input(k) => Node::Input(new_input[k]),
                Node::Const(v, dt) => Node::Const(v, dt),
                Node::Unary(op, a) => Node::Unary(op, m(a)),
                Node::Cast(a, dt) => Node::Cast(m(a), dt),
                Node::Binary(op, a, b) => Node::Binary(op, m(a), m(b)),
                Node::Loop(op, a, b, c) => Node::Loop(op, m(a), m(b), c),
                Node::ReduceBroadcast(op, axis, a) => Node::ReduceBroadcast(op, axis, m(a)),
                Node::Select(p, a, b, c, d) => Node::Select(p, m(a), m(b), m(c), m(d)),
            };
            new_node[i] = nodes.len();
            nodes.push(pruned);
        }
        self.inputs = inputs;
        self.nodes = nodes;
    }

    /// The inputs, one line each.
    pub fn describe_inputs(&self) -> String {
        let mut s = String::new();
        for (i, inp) in self.inputs.iter().enumerate() {
            let v: Vec<String> = inp.data.iter().map(|&x| show(x)).collect();
            s.push_str(&format!(
                "in{i}: {:?} {:?} [{}]\n",
                inp.dt,
                inp.layout,
                v.join(", ")
            ));
        }
        s
    }

    pub fn describe_reference(&self) -> String {
        let v: Vec<String> = self
            .reference_bounded(&Tolerance::GPU)
            .iter()
            .map(|b| {
                let s = show(b.val);
                if b.err == 0.0 {
                    s
                } else {
                    format!("{s}±{:e}", b.err)
                }
            })
            .collect();
        format!("[{}]", v.join(", "))
    }

    pub fn describe_output(&self, out: &[u8]) -> String {
        let dt = self.out_dt();
        let v: Vec<String> = out
            .chunks_exact(dt.size())
            .map(|c| show(dt.decode(c)))
            .collect();
        format!("[{}]", v.join(", "))
    }
}

fn reduce_op(op: ReduceOp) -> BinaryOp {
    match op {
        ReduceOp::Sum => BinaryOp::Add,
        ReduceOp::Max => BinaryOp::Max,
        ReduceOp::Min => BinaryOp::Min,
    }
}

fn show(v: Val) -> String {
    match v {
        Val::I(x) => x.to_string(),
        Val::F(x) => format!("{x:?}"),
    }
}

fn accepts(w: &Bounded, got: Val) -> bool {
    if w.err.is_infinite() || w.err.is_nan() {
        return true;
    }
    match (w.val, got) {
        (Val::I(x), Val::I(g)) => x == g,
        (Val::F(x), Val::F(g)) => (x.is_nan() && g.is_nan()) || x == g || (x - g).abs() <= w.err,
        _ => false,
    }
}

fn conv(b: &mut Builder, k: &Kernel, v: ValueId, node: usize, to: Dt) -> ValueId {
    if k.dt(node) == to {
        v
    } else {
        b.cast(v, to.scalar())
    }
}

// ---- the reference semantics, written out per scalar -----------------------------------------

pub fn ref_cast(v: Val, from: Dt, to: Dt) -> Val {
    if from == to {
        return v;
    }
    match (v, to.is_float()) {
        (Val::I(x), true) => Val::F(match to {
            // One rounding from the integer: `as f32` rounds i64 directly.
            Dt::F32 => x as f32 as f64,
            _ => f16::from_f64(x as f64).to_f64(),
        }),
        (Val::I(x), false) => Val::I(to.wrap(x)),
        (Val::F(x), true) => Val::F(to.round(x)),
        // Truncation toward zero, saturating, NaN to 0: Rust's `as`.
        (Val::F(x), false) => Val::I(match to {
            Dt::I8 => x as i8 as i64,
            Dt::I16 => x as i16 as i64,
            Dt::I32 => x as i32 as i64,
            Dt::U32 => x as u32 as i64,
            _ => x as i64,
        }),
    }
}

pub fn ref_unary(op: UnaryOp, dt: Dt, v: Val) -> Val {
    match v {
        Val::I(x) => Val::I(dt.wrap(match op {
            UnaryOp::Neg => x.wrapping_neg(),
            UnaryOp::Not => !x,
            UnaryOp::Abs if !dt.unsigned() => x.wrapping_abs(),
            _ => x,
        })),
        Val::F(x) => {
            let x = x as f32;
            Val::F(dt.round(match op {
                UnaryOp::Neg => -x,
                UnaryOp::Abs => x.abs(),
                UnaryOp::Sqrt => x.sqrt(),
                UnaryOp::Floor => x.floor(),
                UnaryOp::Exp => x.exp(),
                _ => x,
            } as f64))
        }
    }
}

pub fn ref_binary(op: BinaryOp, dt: Dt, a: Val, b: Val) -> Val {
    match (a, b) {
        (Val::I(x), Val::I(y)) => {
            let w = dt.bits() as u64;
            // The shift amount is read as unsigned of the operand's width.
            let amount = (y as u64) & (u64::MAX >> (64 - w));
            Val::I(dt.wrap(match op {
                BinaryOp::Add => x.wrapping_add(y),
                BinaryOp::Sub => x.wrapping_sub(y),
                BinaryOp::Mul => x.wrapping_mul(y),
                BinaryOp::Div if y == 0 => -1,
                BinaryOp::Div => x.wrapping_div(y),
                BinaryOp::Rem if y == 0 => x,
                BinaryOp::Rem => x.wrapping_rem(y),
                BinaryOp::And => x & y,
                BinaryOp::Or => x | y,
                BinaryOp::Xor => x ^ y,
                BinaryOp::Shl if amount >= w => 0,
                BinaryOp::Shl => x << amount,
                BinaryOp::Shr if amount >= w => {
                    if x < 0 {
                        -1
                    } else {
                        0
                    }
                }
                // Unsigned values are zero-extended: the arithmetic shift is a logical one.
                BinaryOp::Shr => x >> amount,
                BinaryOp::Min => x.min(y),
                BinaryOp::Max => x.max(y),
                _ => x,
            }))
        }
        (Val::F(x), Val::F(y)) => {
            let (x, y) = (x as f32, y as f32);
            Val::F(dt.round(match op {
                BinaryOp::Add => x + y,
                BinaryOp::Sub => x - y,
                BinaryOp::Mul => x * y,
                BinaryOp::Div => x / y,
                BinaryOp::Min => x.min(y),
                BinaryOp::Max => x.max(y),
                _ => x,
            } as f64))
        }
        _ => a,
    }
}

pub fn ref_cmp(p: CmpPred, a: Val, b: Val) -> bool {
    let o = match (a, b) {
        (Val::I(x), Val::I(y)) => x.partial_cmp(&y),
        (Val::F(x), Val::F(y)) => x.partial_cmp(&y),
        _ => None,
    };
    use std::cmp::Ordering::*;
    match (p, o) {
        (CmpPred::Ne, None) => true,
        (_, None) => false,
        (CmpPred::Eq, Some(o)) => o == Equal,
        (CmpPred::Ne, Some(o)) => o != Equal,
        (CmpPred::Lt, Some(o)) => o == Less,
        (CmpPred::Le, Some(o)) => o != Greater,
        (CmpPred::Gt, Some(o)) => o == Greater,
        (CmpPred::Ge, Some(o)) => o != Less,
    }
}

// ---- error bounds -------------------------------------------------------------------------

fn exact(val: Val) -> Bounded {
    Bounded { val, err: 0.0 }
}

fn unknown(val: Val) -> Bounded {
    Bounded {
        val,
        err: f64::INFINITY,
    }
}

/// A float result `r` of inputs that carried errors: one more ulp for the rounding of the
/// perturbed result, subnormals possibly flushed, and nothing known past overflow.
fn finish(dt: Dt, r: f64, err: f64, tol: &Tolerance) -> Bounded {
    // 0 × ∞ in the error arithmetic means nothing is known.
    let mut err = if err.is_nan() { f64::INFINITY } else { err };
    if err > 0.0 {
        err += dt.ulp(r);
    }
    if tol.flush_subnormals && r != 0.0 && r.abs() < dt.min_normal() {
        err = err.max(dt.min_normal());
    }
    if err > 0.0 && (!r.is_finite() || r.abs() + err > dt.max_finite()) {
        err = f64::INFINITY;
    }
    Bounded {
        val: Val::F(r),
        err,
    }
}

fn int_result(val: Val, inputs: &[Bounded]) -> Bounded {
    if inputs.iter().any(|b| b.err > 0.0) {
        unknown(val)
    } else {
        exact(val)
    }
}

/// Whether `f` gives one answer over the whole interval `x ± e`.
fn robust<T: PartialEq>(x: f64, e: f64, f: impl Fn(f64) -> T) -> bool {
    e == 0.0 || (e.is_finite() && x.is_finite() && f(x - e) == f(x) && f(x + e) == f(x))
}

fn b_unary(op: UnaryOp, dt: Dt, a: Bounded, tol: &Tolerance) -> Bounded {
    let r = ref_unary(op, dt, a.val);
    let Val::F(rf) = r else {
        return int_result(r, &[a]);
    };
    let x = a.val.f();
    let e = a.err;
    let err = match op {
        UnaryOp::Neg | UnaryOp::Abs => e,
        UnaryOp::Floor if robust(x, e, f64::floor) => 0.0,
        UnaryOp::Floor => f64::INFINITY,
        UnaryOp::Sqrt => {
            if e == 0.0 {
                0.0
            } else if x - e < 0.0 {
                f64::INFINITY
            } else {
                e.sqrt().min(e / (2.0 * x.sqrt()))
            }
        }
        UnaryOp::Exp => {
            let approx = (tol.exp_ulps + tol.exp_ulps_per_unit * x.abs()) * dt.ulp(rf);
            if !x.is_finite() {
                e
            } else {
                rf.abs() * e.exp_m1() + approx
            }
        }
        _ => f64::INFINITY,
    };
    finish(dt, rf, err, tol)
}

fn b_binary(op: BinaryOp, dt: Dt, a: Bounded, b: Bounded, tol: &Tolerance) -> Bounded {
    let r = ref_binary(op, dt, a.val, b.val);
    let Val::F(rf) = r else {
        return int_result(r, &[a, b]);
    };
    let (x, y, ex, ey) = (a.val.f(), b.val.f(), a.err, b.err);
    if ex == 0.0 && ey == 0.0 {
        return finish(dt, rf, 0.0, tol);
    }
    let err = match op {
        BinaryOp::Add | BinaryOp::Sub => ex + ey,
        BinaryOp::Mul => x.abs() * ey + y.abs() * ex + ex * ey,
        BinaryOp::Div => {
            if y.abs() <= ey {
                f64::INFINITY
            } else {
                (ex + rf.abs() * ey) / (y.abs() - ey)
            }
        }
        BinaryOp::Min | BinaryOp::Max => ex.max(ey),
        _ => f64::INFINITY,
    };
    finish(dt, rf, err, tol)
}

fn b_cast(v: Bounded, from: Dt, to: Dt, tol: &Tolerance) -> Bounded {
    let r = ref_cast(v.val, from, to);
    if v.err == 0.0 {
        return match r {
            Val::F(rf) => finish(to, rf, 0.0, tol),
            _ => exact(r),
        };
    }
    match (from.is_float(), to.is_float()) {
        (true, false) => {
            let x = v.val.f();
            if robust(x, v.err, |z| ref_cast(Val::F(z), from, to)) {
                exact(r)
            } else {
                unknown(r)
            }
        }
        (true, true) => finish(to, r.f(), v.err, tol),
        _ => unknown(r),
    }
}

/// The comparison, or None when the errors could flip it.
fn b_cmp(p: CmpPred, a: Bounded, b: Bounded) -> Option<bool> {
    let res = ref_cmp(p, a.val, b.val);
    let e = a.err + b.err;
    if e.is_nan() {
        return None;
    }
    if e == 0.0 {
        return Some(res);
    }
    if e.is_infinite() {
        return None;
    }
    let (x, y) = (a.val.f(), b.val.f());
    ((x - y).abs() > e).then_some(res)
}

fn b_reduce(op: ReduceOp, dt: Dt, lanes: &[Bounded]) -> Bounded {
    if !dt.is_float() {
        let mut acc = lanes[0].val.i();
        for l in &lanes[1..] {
            let x = l.val.i();
            acc = dt.wrap(match op {
                ReduceOp::Sum => acc.wrapping_add(x),
                ReduceOp::Max => acc.max(x),
                ReduceOp::Min => acc.min(x),
            });
        }
        return int_result(Val::I(acc), lanes);
    }
    let err_in = lanes
        .iter()
        .map(|l| if l.err.is_nan() { f64::INFINITY } else { l.err })
        .fold(0.0, f64::max);
    match op {
        ReduceOp::Max | ReduceOp::Min => {
            let mut acc = f64::NAN;
            for l in lanes {
                let x = l.val.f();
                acc = match op {
                    ReduceOp::Max => acc.max(x),
                    _ => acc.min(x),
                };
            }
            Bounded {
                val: Val::F(acc),
                err: err_in,
            }
        }
        ReduceOp::Sum => {
            let sum: f64 = lanes.iter().map(|l| l.val.f()).sum();
            let abs: f64 = lanes
                .iter()
                .map(|l| l.val.f().abs())
                .filter(|x| x.is_finite())
                .sum();
            let errs: f64 = lanes
                .iter()
                .map(|l| if l.err.is_nan() { f64::INFINITY } else { l.err })
                .sum();
            let any_special = lanes.iter().any(|l| !l.val.f().is_finite());
            // Partial sums in another order may overflow where ours did not.
            if abs > dt.max_finite() / 2.0 && (any_special || abs + errs > dt.max_finite()) {
                return unknown(Val::F(dt.round(sum)));
            }
            let n = lanes.len() as f64;
            let r = dt.round(sum);
            let err = errs + (n - 1.0) * dt.epsilon() * abs;
            let err = if err > 0.0 { err + dt.ulp(r) } else { 0.0 };
            Bounded {
                val: Val::F(r),
                err: if r.is_finite() { err } else { errs },
            }
        }
    }
}

// ---- strategies -----------------------------------------------------------------------------

fn value(dt: Dt) -> BoxedStrategy<Val> {
    let ints = |small: BoxedStrategy<i64>, any: BoxedStrategy<i64>, min: i64, max: i64| {
        prop_oneof![
            6 => small,
            1 => Just(min),
            1 => Just(max),
            1 => Just(0i64),
            2 => any,
        ]
        .prop_map(Val::I)
        .boxed()
    };
    match dt {
        Dt::I32 => ints(
            (-100i64..100).boxed(),
            any::<i32>().prop_map(i64::from).boxed(),
            i32::MIN as i64,
            i32::MAX as i64,
        ),
        Dt::I8 => ints(
            (-10i64..10).boxed(),
            any::<i8>().prop_map(i64::from).boxed(),
            -128,
            127,
        ),
        Dt::I16 => ints(
            (-100i64..100).boxed(),
            any::<i16>().prop_map(i64::from).boxed(),
            i16::MIN as i64,
            i16::MAX as i64,
        ),
        Dt::I64 => ints(
            (-100i64..100).boxed(),
            any::<i64>().boxed(),
            i64::MIN,
            i64::MAX,
        ),
        Dt::U32 => ints(
            (0i64..100).boxed(),
            any::<u32>().prop_map(i64::from).boxed(),
            0,
            u32::MAX as i64,
        ),
        Dt::F32 => prop_oneof![
            12 => (-64i32..64).prop_map(|x| x as f64 * 0.25),
            2 => Just(0.0f64),
            2 => Just(-0.0f64),
            2 => (-1e6f32..1e6f32).prop_map(f64::from),
            1 => Just(f64::NAN),
            1 => Just(f64::INFINITY),
            1 => Just(f64::NEG_INFINITY),
        ]
        .prop_map(Val::F)
        .boxed(),
        Dt::F16 => prop_oneof![
            12 => (-64i32..64).prop_map(|x| x as f64 * 0.25),
            2 => Just(0.0f64),
            2 => Just(-0.0f64),
            2 => (-1000f64..1000f64).prop_map(|x| Dt::F16.round(x)),
            1 => Just(f64::NAN),
            1 => Just(f64::INFINITY),
        ]
        .prop_map(Val::F)
        .boxed(),
    }
}

fn dt() -> impl Strategy<Value = Dt> {
    prop_oneof![
        4 => Just(Dt::I32),
        4 => Just(Dt::F32),
        1 => Just(Dt::I8),
        1 => Just(Dt::I16),
        1 => Just(Dt::I64),
        1 => Just(Dt::U32),
        1 => Just(Dt::F16),
    ]
}

fn layout() -> impl Strategy<Value = Layout> {
    prop_oneof![
        3 => Just(Layout::Full),
        1 => Just(Layout::Row),
        1 => Just(Layout::Col),
        1 => Just(Layout::Scalar),
    ]
}

fn reduction() -> impl Strategy<Value = Option<Reduction>> {
    let op = prop_oneof![
        Just(ReduceOp::Sum),
        Just(ReduceOp::Max),
        Just(ReduceOp::Min)
    ];
    prop::option::weighted(
        0.3,
        (op, 0u32..2).prop_map(|(op, axis)| Reduction { op, axis }),
    )
}

/// Raw choices for one node, resolved against the nodes before it by [`resolve`]; kept raw
/// so that proptest shrinks them as numbers.
type RawNode = (u8, u16, u16, u16, u16, u8, u8);

fn resolve(k: &Kernel, raw: RawNode) -> Node {
    let (kind, a, b, c, d, op, extra) = raw;
    let n = k.nodes.len();
    let pick = |x: u16| x as usize % n;
    let (a, b, c, d) = (pick(a), pick(b), pick(c), pick(d));
    let binop = |dt: Dt| {
        if dt.is_float() {
            FLOAT_BIN[op as usize % FLOAT_BIN.len()]
        } else {
            INT_BIN[op as usize % INT_BIN.len()]
        }
    };
    match kind % 11 {
        0 => Node::Input(extra as usize % k.inputs.len()),
        1 => {
            let dt = Dt::ALL[extra as usize % Dt::ALL.len()];
            let x = (op as i64) - 128;
            let v = if dt.is_float() {
                Val::F(x as f64 * 0.5)
            } else {
                Val::I(dt.wrap(x))
            };
            Node::Const(v, dt)
        }
        2 => {
            let dt = k.dt(a);
            if dt.is_float() {
                Node::Unary(FLOAT_UN[op as usize % FLOAT_UN.len()], a)
            } else {
                Node::Unary(INT_UN[op as usize % INT_UN.len()], a)
            }
        }
        3 => Node::Select(PREDS[op as usize % PREDS.len()], a, b, c, d),
        4 => {
            let from = k.dt(a);
            let others: Vec<Dt> = Dt::ALL.iter().copied().filter(|&t| t != from).collect();
            Node::Cast(a, others[extra as usize % others.len()])
        }
        5 => Node::Loop(binop(k.dt(a)), a, b, extra as u32 % 4),
        6 => {
            let op = [ReduceOp::Sum, ReduceOp::Max, ReduceOp::Min][op as usize % 3];
            Node::ReduceBroadcast(op, extra as u32 % 2, a)
        }
        _ => Node::Binary(binop(k.dt(a)), a, b),
    }
}

/// Random kernels: block shapes up to 8 × 32, problems up to 20 × 40, 1–3 inputs, up to 10
/// ops after the inputs, num_warps 1, 2 or 4, and sometimes a reduction.
pub fn kernel() -> impl Strategy<Value = Kernel> {
    let shape = (0u32..4, 0u32..6, 1u32..20, 1u32..40, 0u32..3);
    let inputs = prop::collection::vec((dt(), layout()), 1..4);
    let raw = prop::collection::vec(any::<RawNode>(), 0..10);
    (shape, inputs, raw, reduction()).prop_flat_map(|((rl, cl, nr, nc, wl), ins, raw, red)| {
        let data: Vec<BoxedStrategy<Input>> = ins
            .iter()
            .map(|&(dt, layout)| {
                // Scalar arguments are i32 or f32, as Triton passes them.
                let layout = match (layout, dt) {
                    (Layout::Scalar, Dt::I32 | Dt::F32) => Layout::Scalar,
                    (Layout::Scalar, _) => Layout::Full,
                    (l, _) => l,
                };
                let n = match layout {
                    Layout::Full => (nr * nc) as usize,
                    Layout::Row => nc as usize,
                    Layout::Col => nr as usize,
                    Layout::Scalar => 1,
                };
                prop::collection::vec(value(dt), n)
                    .prop_map(move |data| Input { dt, layout, data })
                    .boxed()
            })
            .collect();
        (data, Just(raw)).prop_map(move |(inputs, raw)| {
            let mut k = Kernel {
                rows: 1 << rl,
                cols: 1 << cl,
                n_rows: nr,
                n_cols: nc,
                num_warps: 1 << wl,
                nodes: (0..inputs.len()).map(Node::Input).collect(),
                inputs,
                reduce: red,
            };
            for r in &raw {
                let node = resolve(&k, *r);
                k.nodes.push(node);
            }
            k.prune();
            k
        })
    })
}
