//! Random well-typed elementwise kernels for differential testing (feature `gen`).
//!
//! A [`Kernel`] is a plain description: a 2-D block of `rows × cols` lanes over an
//! `n_rows × n_cols` problem, inputs loaded with masks (full 2-D tiles, row or column vectors
//! broadcast with expand_dims, or scalar arguments splatted), a chain of i32/f32 ops, and a
//! masked store. [`Kernel::build`] lowers it to Tile IR, [`Kernel::args`] gives the
//! argument list every engine gets, and [`Kernel::reference`] evaluates it directly in Rust
//! (written independently of the interpreter), so any engine can be checked against it or
//! against another engine. [`kernel`] is the proptest strategy; shrinking removes ops and
//! inputs and shrinks shapes and values.

use proptest::prelude::*;
use tm_core::{Loc, ScalarType};
use tm_tile::{BinaryOp, Builder, CmpPred, Function, Literal, Type, UnaryOp, ValueId};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dt {
    I32,
    F32,
}

impl Dt {
    pub fn scalar(self) -> ScalarType {
        match self {
            Dt::I32 => ScalarType::I32,
            Dt::F32 => ScalarType::F32,
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
    /// A scalar argument, splatted.
    Scalar,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Input {
    pub dt: Dt,
    pub layout: Layout,
    /// The elements (exact for both i32 and f32).
    pub data: Vec<f64>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Node {
    Input(usize),
    Const(f64, Dt),
    Unary(UnaryOp, usize),
    /// The right operand is cast to the left one's type first.
    Binary(BinaryOp, usize, usize),
    /// `select(a PRED b, c, d)`, with b cast to a's type and d to c's.
    Select(CmpPred, usize, usize, usize, usize),
    Cast(usize, Dt),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Kernel {
    pub rows: u32,
    pub cols: u32,
    pub n_rows: u32,
    pub n_cols: u32,
    pub inputs: Vec<Input>,
    /// Nodes in evaluation order; the last one is stored.
    pub nodes: Vec<Node>,
}

/// A value of the reference evaluation.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Val {
    I(i32),
    F(f32),
}

/// One argument as every engine takes it.
#[derive(Clone, Debug, PartialEq)]
pub enum Arg {
    Buffer(ScalarType, Vec<u8>),
    I32(i32),
    F32(f32),
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
            Node::Unary(_, a) | Node::Binary(_, a, _) => self.dt(*a),
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

    /// Arguments in parameter order: the inputs, the output buffer, n_rows, n_cols.
    pub fn args(&self) -> Vec<Arg> {
        let mut out: Vec<Arg> = self
            .inputs
            .iter()
            .map(|inp| match (inp.layout, inp.dt) {
                (Layout::Scalar, Dt::I32) => Arg::I32(inp.data[0] as i32),
                (Layout::Scalar, Dt::F32) => Arg::F32(inp.data[0] as f32),
                (_, Dt::I32) => Arg::Buffer(
                    ScalarType::I32,
                    inp.data
                        .iter()
                        .flat_map(|&x| (x as i32).to_le_bytes())
                        .collect(),
                ),
                (_, Dt::F32) => Arg::Buffer(
                    ScalarType::F32,
                    inp.data
                        .iter()
                        .flat_map(|&x| (x as f32).to_le_bytes())
                        .collect(),
                ),
            })
            .collect();
        let n = (self.n_rows * self.n_cols) as usize;
        out.push(Arg::Buffer(self.out_dt().scalar(), vec![0u8; n * 4]));
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
            b.binary(BinaryOp::Add, base, r)
        };
        let om = offs(&mut b, 0, rows);
        let on = offs(&mut b, 1, cols);
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

        let mut vals: Vec<ValueId> = Vec::new();
        let mut loaded: Vec<Option<ValueId>> = vec![None; self.inputs.len()];
        for node in &self.nodes {
            let v = match node {
                Node::Input(i) => match loaded[*i] {
                    Some(v) => v,
                    None => {
                        let p = params[*i];
                        let v = match self.inputs[*i].layout {
                            Layout::Scalar => b.splat(p, sh.clone()),
                            Layout::Full => {
                                let ps = b.splat(p, sh.clone());
                                let ps = b.addptr(ps, idx);
                                b.load(ps, Some(mask), None)
                            }
                            Layout::Row => {
                                let ps = b.splat(p, vec![cols]);
                                let ps = b.addptr(ps, on);
                                let v = b.load(ps, Some(mcol1), None);
                                let v = b.expand_dims(v, 0);
                                b.broadcast(v, sh.clone())
                            }
                            Layout::Col => {
                                let ps = b.splat(p, vec![rows]);
                                let ps = b.addptr(ps, om);
                                let v = b.load(ps, Some(mrow1), None);
                                let v = b.expand_dims(v, 1);
                                b.broadcast(v, sh.clone())
                            }
                        };
                        loaded[*i] = Some(v);
                        v
                    }
                },
                Node::Const(x, dt) => {
                    let lit = match dt {
                        Dt::I32 => Literal::Int(*x as i64),
                        Dt::F32 => Literal::Float(*x),
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
            };
            vals.push(v);
        }
        let po = b.splat(out, sh);
        let po = b.addptr(po, idx);
        if let Some(&last) = vals.last() {
            b.store(po, last, Some(mask));
        }
        b.ret();
        f
    }

    fn input_at(&self, i: usize, r: usize, c: usize) -> Val {
        let inp = &self.inputs[i];
        let x = match inp.layout {
            Layout::Full => inp.data[r * self.n_cols as usize + c],
            Layout::Row => inp.data[c],
            Layout::Col => inp.data[r],
            Layout::Scalar => inp.data[0],
        };
        match inp.dt {
            Dt::I32 => Val::I(x as i32),
            Dt::F32 => Val::F(x as f32),
        }
    }

    /// The expected output, row-major over `n_rows × n_cols`.
    pub fn reference(&self) -> Vec<Val> {
        let mut out = Vec::new();
        for r in 0..self.n_rows as usize {
            for c in 0..self.n_cols as usize {
                let mut vals: Vec<Val> = Vec::with_capacity(self.nodes.len());
                for node in &self.nodes {
                    let v = match node {
                        Node::Input(i) => self.input_at(*i, r, c),
                        Node::Const(x, Dt::I32) => Val::I(*x as i32),
                        Node::Const(x, Dt::F32) => Val::F(*x as f32),
                        Node::Unary(op, a) => ref_unary(*op, vals[*a]),
                        Node::Binary(op, l, rr) => {
                            let rv = ref_cast(vals[*rr], self.dt(*l));
                            ref_binary(*op, vals[*l], rv)
                        }
                        Node::Select(p, x, y, cc, d) => {
                            let yv = ref_cast(vals[*y], self.dt(*x));
                            let dv = ref_cast(vals[*d], self.dt(*cc));
                            if ref_cmp(*p, vals[*x], yv) {
                                vals[*cc]
                            } else {
                                dv
                            }
                        }
                        Node::Cast(a, dt) => ref_cast(vals[*a], *dt),
                    };
                    vals.push(v);
                }
                out.push(vals.last().copied().unwrap_or(Val::I(0)));
            }
        }
        out
    }

    /// Compares an engine's output buffer with the reference: ints exactly, floats within
    /// `ulps` units in the last place (NaN matches NaN). Returns the first mismatch.
    pub fn check(&self, out: &[u8], ulps: u32) -> Result<(), String> {
        let want = self.reference();
        for (i, w) in want.iter().enumerate() {
            let b: [u8; 4] = out
                .get(i * 4..i * 4 + 4)
                .and_then(|s| s.try_into().ok())
                .ok_or("output buffer too short")?;
            let ok = match *w {
                Val::I(x) => i32::from_le_bytes(b) == x,
                Val::F(x) => {
                    let g = f32::from_le_bytes(b);
                    (g.is_nan() && x.is_nan()) || g == x || ulp_distance(g, x) <= ulps
                }
            };
            if !ok {
                let got = match w {
                    Val::I(_) => format!("{}", i32::from_le_bytes(b)),
                    Val::F(_) => format!("{}", f32::from_le_bytes(b)),
                };
                let (r, c) = (i / self.n_cols as usize, i % self.n_cols as usize);
                return Err(format!("at ({r}, {c}): got {got}, want {w:?}"));
            }
        }
        Ok(())
    }
}

fn ulp_distance(a: f32, b: f32) -> u32 {
    if a.is_nan() || b.is_nan() || a.signum() != b.signum() {
        return u32::MAX;
    }
    a.to_bits().abs_diff(b.to_bits())
}

fn conv(b: &mut Builder, k: &Kernel, v: ValueId, node: usize, to: Dt) -> ValueId {
    if k.dt(node) == to {
        v
    } else {
        b.cast(v, to.scalar())
    }
}

// ---- the reference semantics, written out per scalar -----------------------------------------

pub fn ref_cast(v: Val, to: Dt) -> Val {
    match (v, to) {
        (Val::I(x), Dt::F32) => Val::F(x as f32),
        // Truncation toward zero, saturating, NaN to 0.
        (Val::F(x), Dt::I32) => Val::I(x as i32),
        (v, _) => v,
    }
}

pub fn ref_unary(op: UnaryOp, v: Val) -> Val {
    match v {
        Val::I(x) => Val::I(match op {
            UnaryOp::Neg => x.wrapping_neg(),
            UnaryOp::Not => !x,
            UnaryOp::Abs => x.wrapping_abs(),
            _ => x,
        }),
        Val::F(x) => Val::F(match op {
            UnaryOp::Neg => -x,
            UnaryOp::Abs => x.abs(),
            UnaryOp::Sqrt => x.sqrt(),
            UnaryOp::Floor => x.floor(),
            UnaryOp::Exp => x.exp(),
            _ => x,
        }),
    }
}

pub fn ref_binary(op: BinaryOp, a: Val, b: Val) -> Val {
    match (a, b) {
        (Val::I(x), Val::I(y)) => Val::I(match op {
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
            BinaryOp::Shl => {
                if (y as u32) >= 32 {
                    0
                } else {
                    x << y
                }
            }
            BinaryOp::Shr => {
                if (y as u32) >= 32 {
                    if x < 0 {
                        -1
                    } else {
                        0
                    }
                } else {
                    x >> y
                }
            }
            BinaryOp::Min => x.min(y),
            BinaryOp::Max => x.max(y),
            _ => x,
        }),
        (Val::F(x), Val::F(y)) => Val::F(match op {
            BinaryOp::Add => x + y,
            BinaryOp::Sub => x - y,
            BinaryOp::Mul => x * y,
            BinaryOp::Div => x / y,
            BinaryOp::Min => x.min(y),
            BinaryOp::Max => x.max(y),
            _ => x,
        }),
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

// ---- strategies -----------------------------------------------------------------------------

fn value(dt: Dt) -> BoxedStrategy<f64> {
    match dt {
        Dt::I32 => prop_oneof![
            6 => -100i32..100,
            1 => Just(i32::MIN),
            1 => Just(i32::MAX),
            1 => Just(0),
            1 => any::<i32>(),
        ]
        .prop_map(|x| x as f64)
        .boxed(),
        Dt::F32 => prop_oneof![
            6 => (-64i32..64).prop_map(|x| x as f32 * 0.25),
            1 => Just(0.0f32),
            1 => Just(-0.0f32),
            1 => -1e6f32..1e6f32,
        ]
        .prop_map(|x| x as f64)
        .boxed(),
    }
}

fn dt() -> impl Strategy<Value = Dt> {
    prop_oneof![Just(Dt::I32), Just(Dt::F32)]
}

fn layout() -> impl Strategy<Value = Layout> {
    prop_oneof![
        3 => Just(Layout::Full),
        1 => Just(Layout::Row),
        1 => Just(Layout::Col),
        1 => Just(Layout::Scalar),
    ]
}

/// Raw choices for one node, resolved against the nodes before it by [`resolve`]; kept raw
/// so that proptest shrinks them as numbers.
type RawNode = (u8, u16, u16, u16, u16, u8, u8);

fn resolve(k: &Kernel, raw: RawNode) -> Node {
    let (kind, a, b, c, d, op, extra) = raw;
    let n = k.nodes.len();
    let pick = |x: u16| x as usize % n;
    let (a, b, c, d) = (pick(a), pick(b), pick(c), pick(d));
    match kind % 8 {
        0 => Node::Input(extra as usize % k.inputs.len()),
        1 => {
            let dt = if extra % 2 == 0 { Dt::I32 } else { Dt::F32 };
            Node::Const(
                (extra as i32 - 128) as f64 * if dt == Dt::F32 { 0.5 } else { 1.0 },
                dt,
            )
        }
        2 => match k.dt(a) {
            Dt::I32 => Node::Unary(INT_UN[op as usize % INT_UN.len()], a),
            Dt::F32 => Node::Unary(FLOAT_UN[op as usize % FLOAT_UN.len()], a),
        },
        3 => Node::Select(PREDS[op as usize % PREDS.len()], a, b, c, d),
        4 => Node::Cast(a, if k.dt(a) == Dt::I32 { Dt::F32 } else { Dt::I32 }),
        _ => match k.dt(a) {
            Dt::I32 => Node::Binary(INT_BIN[op as usize % INT_BIN.len()], a, b),
            Dt::F32 => Node::Binary(FLOAT_BIN[op as usize % FLOAT_BIN.len()], a, b),
        },
    }
}

/// Random kernels: block shapes up to 8 × 32, problems up to 20 × 40, 1–3 inputs, up to 10
/// ops after the inputs.
pub fn kernel() -> impl Strategy<Value = Kernel> {
    let shape = (0u32..4, 0u32..6, 1u32..20, 1u32..40);
    let inputs = prop::collection::vec((dt(), layout()), 1..4);
    let raw = prop::collection::vec(any::<RawNode>(), 0..10);
    (shape, inputs, raw).prop_flat_map(|((rl, cl, nr, nc), ins, raw)| {
        let data: Vec<BoxedStrategy<Input>> = ins
            .iter()
            .map(|&(dt, layout)| {
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
                nodes: (0..inputs.len()).map(Node::Input).collect(),
                inputs,
            };
            for r in &raw {
                let node = resolve(&k, *r);
                k.nodes.push(node);
            }
            k
        })
    })
}
