//! Small SIMT kernels built by hand, the way lowering builds them.

use tm_core::{Arena, KernelAbi, ScalarType, SCALAR_HEADER_BYTES};
use tm_simt::ir::Literal;
use tm_simt::{
    BufferParam, Builtin, Expr, Kernel, Local, LocalId, Operand, SType, ScalarParam, SharedArray,
    SimdOp, Space, Stmt,
};
use tm_tile::{AtomicOp, BinaryOp, CmpPred, UnaryOp};

use ScalarType::*;

pub struct B {
    pub k: Kernel,
    next_offset: u32,
    /// Statement lists being built: the innermost is last.
    stack: Vec<Vec<Stmt>>,
}

pub fn l(id: LocalId) -> Operand {
    Operand::Local(id)
}

pub fn ci(v: i64, t: ScalarType) -> Operand {
    Operand::Const(Literal::Int(v), t)
}

pub fn cf(v: f64, t: ScalarType) -> Operand {
    Operand::Const(Literal::Float(v), t)
}

pub fn s(t: ScalarType) -> SType {
    SType::scalar(t)
}

impl B {
    pub fn new(name: &str, threads: u32) -> B {
        B {
            k: Kernel {
                name: name.into(),
                threads_per_group: threads,
                simd_width: 32,
                locals: Arena::default(),
                buffers: Vec::new(),
                scalars: Vec::new(),
                shared: Vec::new(),
                matrices: Vec::new(),
                matrix_size: 0,
                body: Vec::new(),
                abi: KernelAbi {
                    entry: name.into(),
                    threads_per_group: threads,
                    buffers: Vec::new(),
                    scratch: Vec::new(),
                    scalars: Vec::new(),
                    scalar_bytes: SCALAR_HEADER_BYTES,
                    shared_bytes: 0,
                    debug: None,
                },
            },
            next_offset: SCALAR_HEADER_BYTES,
            stack: vec![Vec::new()],
        }
    }

    pub fn local(&mut self, ty: SType, name: &str) -> LocalId {
        self.k.locals.append(Local {
            ty,
            name: if name.is_empty() {
                None
            } else {
                Some(name.into())
            },
        })
    }

    pub fn buffer(&mut self, name: &str, elem: ScalarType, writes: bool, atomic: bool) -> u32 {
        self.k.buffers.push(BufferParam {
            name: name.into(),
            elem,
            writes,
            atomic,
        });
        (self.k.buffers.len() - 1) as u32
    }

    pub fn scalar(&mut self, name: &str, ty: ScalarType) -> u32 {
        let size = ty.size_bytes();
        let offset = self.next_offset.div_ceil(size) * size;
        self.next_offset = offset + size;
        self.k.scalars.push(ScalarParam {
            name: name.into(),
            ty,
            offset,
        });
        self.k.abi.scalar_bytes = self.next_offset.div_ceil(16) * 16;
        (self.k.scalars.len() - 1) as u32
    }

    pub fn shared(&mut self, name: &str, elem: ScalarType, len: u32, atomic: bool) -> u32 {
        self.k.shared.push(SharedArray {
            name: name.into(),
            elem,
            len,
            atomic,
        });
        (self.k.shared.len() - 1) as u32
    }

    pub fn push(&mut self, st: Stmt) {
        if let Some(top) = self.stack.last_mut() {
            top.push(st);
        }
    }

    pub fn set(&mut self, dst: LocalId, expr: Expr) {
        self.push(Stmt::Assign { dst, expr });
    }

    /// A new local assigned `expr`.
    pub fn let_(&mut self, ty: SType, name: &str, expr: Expr) -> LocalId {
        let id = self.local(ty, name);
        self.set(id, expr);
        id
    }

    pub fn bin(&mut self, ty: SType, op: BinaryOp, a: Operand, b: Operand) -> LocalId {
        self.let_(ty, "", Expr::Binary(op, a, b))
    }

    pub fn open(&mut self) {
        self.stack.push(Vec::new());
    }

    pub fn close(&mut self) -> Vec<Stmt> {
        self.stack.pop().unwrap_or_default()
    }

    pub fn finish(mut self) -> Kernel {
        self.k.body = self.stack.pop().unwrap_or_default();
        self.k
    }

    /// The prologue of docs/CONVENTIONS.md: linear program id, early return, program_id(0).
    pub fn prologue(&mut self) -> LocalId {
        let u = s(U32);
        let gx = self.let_(u, "gx", Expr::GridHeader(0));
        let gy = self.let_(u, "gy", Expr::GridHeader(1));
        let gz = self.let_(u, "gz", Expr::GridHeader(2));
        let dx = self.let_(u, "dispatch_x", Expr::GridHeader(3));
        let x = self.let_(u, "", Expr::Builtin(Builtin::GroupId(0)));
        let y = self.let_(u, "", Expr::Builtin(Builtin::GroupId(1)));
        let z = self.let_(u, "", Expr::Builtin(Builtin::GroupId(2)));
        let t = self.bin(u, BinaryOp::Mul, ci(65535, U32), l(z));
        let t = self.bin(u, BinaryOp::Add, l(y), l(t));
        let t = self.bin(u, BinaryOp::Mul, l(dx), l(t));
        let linear = self.bin(u, BinaryOp::Add, l(x), l(t));
        let total = self.bin(u, BinaryOp::Mul, l(gx), l(gy));
        let total = self.bin(u, BinaryOp::Mul, l(total), l(gz));
        let past = self.let_(s(I1), "past", Expr::Cmp(CmpPred::Ge, l(linear), l(total)));
        self.push(Stmt::If {
            cond: l(past),
            then_body: vec![Stmt::Return],
            else_body: vec![],
        });
        let pid = self.bin(u, BinaryOp::Rem, l(linear), l(gx));
        self.let_(s(I32), "pid0", Expr::Cast(l(pid), s(I32)))
    }
}

/// `out[i] = x[i] + y[i]` for i < n: four elements a thread, one vector access when all
/// four are in bounds, masked scalar accesses otherwise.
pub fn add_kernel() -> Kernel {
    let mut b = B::new("add_kernel", 128);
    let x = b.buffer("x_ptr", F32, false, false);
    let y = b.buffer("y_ptr", F32, false, false);
    let out = b.buffer("output_ptr", F32, true, false);
    let n = b.scalar("n_elements", I32);
    let pid = b.prologue();
    let n = b.let_(s(I32), "n", Expr::ScalarArg(n));
    let tid = b.let_(s(U32), "tid", Expr::Builtin(Builtin::ThreadIndex));
    let tid = b.let_(s(I32), "", Expr::Cast(l(tid), s(I32)));
    let start = b.bin(s(I32), BinaryOp::Mul, l(pid), ci(512, I32));
    let lane4 = b.bin(s(I32), BinaryOp::Mul, l(tid), ci(4, I32));
    let base = b.bin(s(I32), BinaryOp::Add, l(start), l(lane4));
    let end = b.bin(s(I32), BinaryOp::Add, l(base), ci(4, I32));
    let full = b.let_(s(I1), "full", Expr::Cmp(CmpPred::Le, l(end), l(n)));
    let v4 = SType::vector(F32, 4);
    b.open();
    let xv = b.let_(
        v4,
        "xv",
        Expr::Load {
            buf: x,
            index: l(base),
            lanes: 4,
        },
    );
    let yv = b.let_(
        v4,
        "yv",
        Expr::Load {
            buf: y,
            index: l(base),
            lanes: 4,
        },
    );
    let zv = b.bin(v4, BinaryOp::Add, l(xv), l(yv));
    b.push(Stmt::Store {
        buf: out,
        index: l(base),
        value: l(zv),
    });
    let then_body = b.close();
    b.open();
    for j in 0..4 {
        let idx = b.bin(s(I32), BinaryOp::Add, l(base), ci(j, I32));
        let m = b.let_(s(I1), "mask", Expr::Cmp(CmpPred::Lt, l(idx), l(n)));
        b.open();
        let xs = b.let_(
            s(F32),
            "x",
            Expr::Load {
                buf: x,
                index: l(idx),
                lanes: 1,
            },
        );
        let ys = b.let_(
            s(F32),
            "y",
            Expr::Load {
                buf: y,
                index: l(idx),
                lanes: 1,
            },
        );
        let zs = b.bin(s(F32), BinaryOp::Add, l(xs), l(ys));
        b.push(Stmt::Store {
            buf: out,
            index: l(idx),
            value: l(zs),
        });
        let body = b.close();
        b.push(Stmt::If {
            cond: l(m),
            then_body: body,
            else_body: vec![],
        });
    }
    let else_body = b.close();
    b.push(Stmt::If {
        cond: l(full),
        then_body,
        else_body,
    });
    b.finish()
}

/// Reverses a block through threadgroup memory; counts threads with a threadgroup atomic
/// and records a maximum and a compare-and-swap in device atomics.
pub fn threadgroup_kernel() -> Kernel {
    let mut b = B::new("reverse_block", 128);
    let x = b.buffer("x_ptr", F32, false, false);
    let out = b.buffer("out_ptr", F32, true, false);
    let flags = b.buffer("flags_ptr", I32, true, true);
    let sum = b.buffer("sum_ptr", F32, true, true);
    let tile = b.shared("tile", F32, 128, false);
    let count = b.shared("count", U32, 1, true);
    let pid = b.prologue();
    let tid = b.let_(s(U32), "tid", Expr::Builtin(Builtin::ThreadIndex));
    let tidi = b.let_(s(I32), "", Expr::Cast(l(tid), s(I32)));
    let base = b.bin(s(I32), BinaryOp::Mul, l(pid), ci(128, I32));
    let idx = b.bin(s(I32), BinaryOp::Add, l(base), l(tidi));
    let v = b.let_(
        s(F32),
        "v",
        Expr::Load {
            buf: x,
            index: l(idx),
            lanes: 1,
        },
    );
    b.push(Stmt::SharedStore {
        arr: tile,
        index: l(tid),
        value: l(v),
    });
    b.push(Stmt::AtomicRmw {
        dst: None,
        op: AtomicOp::Add,
        space: Space::Threadgroup,
        array: count,
        index: ci(0, U32),
        value: ci(1, U32),
    });
    b.push(Stmt::Barrier);
    let rev = b.bin(s(U32), BinaryOp::Sub, ci(127, U32), l(tid));
    let w = b.let_(
        s(F32),
        "w",
        Expr::SharedLoad {
            arr: tile,
            index: l(rev),
            lanes: 1,
        },
    );
    b.push(Stmt::Store {
        buf: out,
        index: l(idx),
        value: l(w),
    });
    let two = b.let_(
        SType::vector(F32, 2),
        "pair",
        Expr::SharedLoad {
            arr: tile,
            index: ci(2, U32),
            lanes: 2,
        },
    );
    let first = b.let_(s(F32), "", Expr::Extract(l(two), 0));
    let old = b.local(s(I32), "old");
    b.push(Stmt::AtomicRmw {
        dst: Some(old),
        op: AtomicOp::Max,
        space: Space::Device,
        array: flags,
        index: l(pid),
        value: l(tidi),
    });
    let seen = b.local(s(I32), "seen");
    b.push(Stmt::AtomicCas {
        dst: seen,
        space: Space::Device,
        array: flags,
        index: ci(0, I32),
        cmp: ci(0, I32),
        value: l(old),
    });
    b.push(Stmt::AtomicRmw {
        dst: None,
        op: AtomicOp::Add,
        space: Space::Device,
        array: sum,
        index: ci(0, I32),
        value: l(first),
    });
    b.finish()
}

/// A butterfly reduction with shuffles, then the simd library reductions and scans.
pub fn simd_kernel() -> Kernel {
    let mut b = B::new("simd_reduce", 64);
    let x = b.buffer("x_ptr", F32, false, false);
    let out = b.buffer("out_ptr", F32, true, false);
    let ints = b.buffer("int_ptr", I64, true, false);
    let tid = b.let_(s(U32), "tid", Expr::Builtin(Builtin::ThreadIndex));
    let acc = b.let_(
        s(F32),
        "acc",
        Expr::Load {
            buf: x,
            index: l(tid),
            lanes: 1,
        },
    );
    for mask in [16, 8, 4, 2, 1] {
        let t = b.let_(
            s(F32),
            "",
            Expr::Simd(SimdOp::ShuffleXor, l(acc), Some(ci(mask, U32))),
        );
        b.set(acc, Expr::Binary(BinaryOp::Add, l(acc), l(t)));
    }
    let total = b.let_(s(F32), "total", Expr::Simd(SimdOp::Sum, l(acc), None));
    let mx = b.let_(s(F32), "mx", Expr::Simd(SimdOp::Max, l(total), None));
    let up = b.let_(
        s(F32),
        "up",
        Expr::Simd(SimdOp::ShuffleUp, l(mx), Some(ci(1, U32))),
    );
    let down = b.let_(
        s(F32),
        "down",
        Expr::Simd(SimdOp::ShuffleDown, l(up), Some(ci(2, U32))),
    );
    let scan = b.let_(
        s(F32),
        "scan",
        Expr::Simd(SimdOp::PrefixInclusiveSum, l(down), None),
    );
    b.push(Stmt::Store {
        buf: out,
        index: l(tid),
        value: l(scan),
    });
    let pos = b.let_(s(I1), "pos", Expr::Cmp(CmpPred::Gt, l(scan), cf(0.0, F32)));
    let all = b.let_(s(I1), "all", Expr::Simd(SimdOp::All, l(pos), None));
    let moved = b.let_(
        s(I1),
        "",
        Expr::Simd(SimdOp::Shuffle, l(all), Some(ci(0, U32))),
    );
    let anyv = b.let_(s(I1), "any", Expr::Simd(SimdOp::Any, l(moved), None));
    let bits = b.let_(s(U32), "", Expr::Cast(l(anyv), s(U32)));
    let orv = b.let_(s(U32), "", Expr::Simd(SimdOp::Or, l(bits), None));
    let wide = b.let_(s(I64), "wide", Expr::Cast(l(orv), s(I64)));
    let wide2 = b.let_(
        s(I64),
        "",
        Expr::Simd(SimdOp::ShuffleXor, l(wide), Some(ci(1, U32))),
    );
    b.push(Stmt::Store {
        buf: ints,
        index: l(tid),
        value: l(wide2),
    });
    b.finish()
}

/// `acc = sum_k fma(x[k], 2, acc)` over a runtime trip count, then a `while` loop with a
/// break that halves a counter.
pub fn loop_kernel() -> Kernel {
    let mut b = B::new("loop_kernel", 32);
    let x = b.buffer("x_ptr", F32, false, false);
    let out = b.buffer("out_ptr", F32, true, false);
    let kk = b.scalar("K", I32);
    let kk = b.let_(s(I32), "K", Expr::ScalarArg(kk));
    let acc = b.let_(s(F32), "acc", Expr::Operand(cf(0.0, F32)));
    let k = b.local(s(I32), "k");
    b.open();
    let v = b.let_(
        s(F32),
        "",
        Expr::Load {
            buf: x,
            index: l(k),
            lanes: 1,
        },
    );
    b.set(acc, Expr::Fma(l(v), cf(2.0, F32), l(acc)));
    let body = b.close();
    b.push(Stmt::For {
        var: k,
        start: ci(0, I32),
        end: l(kk),
        step: ci(1, I32),
        body,
    });
    let c = b.let_(s(U32), "c", Expr::Operand(ci(1000, U32)));
    b.open();
    let done = b.let_(s(I1), "", Expr::Cmp(CmpPred::Eq, l(c), ci(0, U32)));
    b.push(Stmt::If {
        cond: l(done),
        then_body: vec![Stmt::Break],
        else_body: vec![],
    });
    b.set(c, Expr::Binary(BinaryOp::Shr, l(c), ci(1, U32)));
    b.set(acc, Expr::Binary(BinaryOp::Mul, l(acc), cf(0.5, F32)));
    let body = b.close();
    b.push(Stmt::Loop { body });
    b.push(Stmt::Store {
        buf: out,
        index: ci(0, I32),
        value: l(acc),
    });
    b.finish()
}

/// How lowering stores an i8 on a target that is not byte addressable: clear the byte in
/// its u32 word, then or the new byte in, both atomically.
pub fn i8_word_store_kernel() -> Kernel {
    let mut b = B::new("store_i8_words", 64);
    let out = b.buffer("out_ptr", U32, true, true);
    let tid = b.let_(s(U32), "tid", Expr::Builtin(Builtin::ThreadIndex));
    let val = b.let_(s(I32), "val", Expr::Cast(l(tid), s(I32)));
    let val = b.bin(s(I32), BinaryOp::Sub, l(val), ci(100, I32));
    let byte = b.let_(s(U32), "", Expr::Bitcast(l(val), s(U32)));
    let byte = b.bin(s(U32), BinaryOp::And, l(byte), ci(0xff, U32));
    let sub = b.bin(s(U32), BinaryOp::And, l(tid), ci(3, U32));
    let shift = b.bin(s(U32), BinaryOp::Mul, l(sub), ci(8, U32));
    let word = b.bin(s(U32), BinaryOp::Shr, l(tid), ci(2, U32));
    let mask = b.bin(s(U32), BinaryOp::Shl, ci(0xff, U32), l(shift));
    let keep = b.let_(s(U32), "", Expr::Unary(UnaryOp::Not, l(mask)));
    let placed = b.bin(s(U32), BinaryOp::Shl, l(byte), l(shift));
    b.push(Stmt::AtomicRmw {
        dst: None,
        op: AtomicOp::And,
        space: Space::Device,
        array: out,
        index: l(word),
        value: l(keep),
    });
    b.push(Stmt::AtomicRmw {
        dst: None,
        op: AtomicOp::Or,
        space: Space::Device,
        array: out,
        index: l(word),
        value: l(placed),
    });
    b.finish()
}

/// f16 loads, math and stores with an f16 scalar argument and conversions.
pub fn f16_kernel() -> Kernel {
    let mut b = B::new("scale_half", 64);
    let x = b.buffer("x_ptr", F16, false, false);
    let out = b.buffer("out_ptr", F16, true, false);
    let ints = b.buffer("i_ptr", I32, true, false);
    let alpha = b.scalar("alpha", F16);
    let beta = b.scalar("beta", F16);
    let alpha = b.let_(s(F16), "alpha", Expr::ScalarArg(alpha));
    let beta = b.let_(s(F16), "beta", Expr::ScalarArg(beta));
    let tid = b.let_(s(U32), "tid", Expr::Builtin(Builtin::ThreadIndex));
    let h2 = SType::vector(F16, 2);
    let base = b.bin(s(U32), BinaryOp::Mul, l(tid), ci(2, U32));
    let v = b.let_(
        h2,
        "v",
        Expr::Load {
            buf: x,
            index: l(base),
            lanes: 2,
        },
    );
    let scaled = b.let_(h2, "", Expr::Fma(l(v), l(alpha), l(beta)));
    let e = b.let_(h2, "", Expr::Unary(UnaryOp::Exp, l(scaled)));
    let m = b.let_(h2, "", Expr::Binary(BinaryOp::Max, l(e), cf(0.1, F16)));
    b.push(Stmt::Store {
        buf: out,
        index: l(base),
        value: l(m),
    });
    let first = b.let_(s(F16), "", Expr::Extract(l(m), 0));
    let wide = b.let_(s(F32), "", Expr::Cast(l(first), s(F32)));
    let back = b.let_(s(F16), "", Expr::Cast(l(wide), s(F16)));
    let i = b.let_(s(I32), "", Expr::Cast(l(back), s(I32)));
    b.push(Stmt::Store {
        buf: ints,
        index: l(tid),
        value: l(i),
    });
    b.finish()
}

/// 64-bit scalar arguments and 64-bit integer arithmetic.
pub fn i64_kernel() -> Kernel {
    let mut b = B::new("wide_ints", 32);
    let out = b.buffer("out_ptr", I64, true, false);
    let uout = b.buffer("uout_ptr", U64, true, false);
    let n = b.scalar("n", I32);
    let big = b.scalar("big", I64);
    let ubig = b.scalar("ubig", U64);
    let _n = b.let_(s(I32), "n", Expr::ScalarArg(n));
    let big = b.let_(s(I64), "big", Expr::ScalarArg(big));
    let ubig = b.let_(s(U64), "ubig", Expr::ScalarArg(ubig));
    let tid = b.let_(s(U32), "tid", Expr::Builtin(Builtin::ThreadIndex));
    let t = b.let_(s(I64), "", Expr::Cast(l(tid), s(I64)));
    let p = b.bin(s(I64), BinaryOp::Mul, l(big), l(t));
    let q = b.bin(s(I64), BinaryOp::Div, l(p), l(t));
    let r = b.bin(s(I64), BinaryOp::Shr, l(q), l(t));
    let h = b.bin(s(I64), BinaryOp::MulHi, l(r), ci(i64::MIN, I64));
    b.push(Stmt::Store {
        buf: out,
        index: l(tid),
        value: l(h),
    });
    let u = b.bin(s(U64), BinaryOp::Shl, l(ubig), ci(70, U64));
    let u = b.bin(s(U64), BinaryOp::Add, l(u), ci(-1, U64));
    b.push(Stmt::Store {
        buf: uout,
        index: l(tid),
        value: l(u),
    });
    b.finish()
}

/// Every unary and binary op on the types both printers share, casts between them and
/// edge-case constants: printed only to be validated and compiled.
pub fn ops_kernel() -> Kernel {
    let mut b = B::new("all_ops", 32);
    let out = b.buffer("out_ptr", U32, true, false);
    let tid = b.let_(s(U32), "tid", Expr::Builtin(Builtin::ThreadIndex));
    let ti = b.let_(s(I32), "ti", Expr::Cast(l(tid), s(I32)));
    let tf = b.let_(s(F32), "tf", Expr::Cast(l(ti), s(F32)));
    let th = b.let_(s(F16), "th", Expr::Cast(l(tf), s(F16)));
    let tb = b.let_(s(BF16), "tb", Expr::Cast(l(tf), s(BF16)));
    let tl = b.let_(s(I64), "tl", Expr::Cast(l(ti), s(I64)));
    let tu = b.let_(s(U64), "tu", Expr::Cast(l(ti), s(U64)));
    let t1 = b.let_(s(I1), "t1", Expr::Cast(l(ti), s(I1)));
    let vals = [
        (U32, tid),
        (I32, ti),
        (F32, tf),
        (F16, th),
        (BF16, tb),
        (I64, tl),
        (U64, tu),
        (I1, t1),
    ];
    for &(t, v) in &vals {
        for &op in UnaryOp::ALL {
            let ok = match t {
                I1 => matches!(op, UnaryOp::Not | UnaryOp::Neg | UnaryOp::Abs),
                F32 | F16 | BF16 => op != UnaryOp::Not,
                _ => matches!(op, UnaryOp::Neg | UnaryOp::Not | UnaryOp::Abs),
            };
            if ok {
                let rt = if op.is_predicate() { I1 } else { t };
                b.let_(s(rt), "", Expr::Unary(op, l(v)));
            }
        }
        for &op in BinaryOp::ALL {
            let float_only = matches!(op, BinaryOp::DivRn | BinaryOp::Pow | BinaryOp::Atan2);
            let int_only = matches!(
                op,
                BinaryOp::And
                    | BinaryOp::Or
                    | BinaryOp::Xor
                    | BinaryOp::Shl
                    | BinaryOp::Shr
                    | BinaryOp::MulHi
            );
            let ok = match t {
                I1 => matches!(op, BinaryOp::And | BinaryOp::Or | BinaryOp::Xor),
                F32 | F16 | BF16 => !int_only,
                _ => !float_only,
            };
            if ok {
                b.let_(s(t), "", Expr::Binary(op, l(v), l(v)));
                if t.is_int() && t != I1 {
                    // Constant divisors and shift amounts take the static branch.
                    for c in [0, -1, 3, 200] {
                        b.let_(s(t), "", Expr::Binary(op, l(v), ci(c, t)));
                    }
                }
            }
        }
        for &p in CmpPred::ALL {
            b.let_(s(I1), "", Expr::Cmp(p, l(v), l(v)));
        }
        for &(to, _) in &vals {
            b.let_(s(to), "", Expr::Cast(l(v), s(to)));
        }
        b.let_(s(t), "", Expr::Select(l(t1), l(v), l(v)));
    }
    b.let_(s(F32), "", Expr::Fma(l(tf), l(tf), l(tf)));
    b.let_(s(BF16), "", Expr::Fma(l(tb), l(tb), l(tb)));
    let consts = [
        ci(i32::MIN as i64, I32),
        ci(-7, I32),
        ci(u32::MAX as i64, U32),
        ci(i64::MIN, I64),
        ci(-1, U64),
        cf(f64::INFINITY, F32),
        cf(f64::NAN, F32),
        cf(-0.0, F32),
        cf(1e-45, F32),
        cf(65519.0, F16),
        cf(-f64::INFINITY, F16),
        cf(0.1, F16),
        cf(3.25, BF16),
        ci(1, I1),
    ];
    for c in consts {
        let t = match c {
            Operand::Const(_, t) => t,
            Operand::Local(_) => I32,
        };
        b.let_(s(t), "", Expr::Operand(c));
    }
    let iv = b.let_(
        SType::vector(I32, 4),
        "iv",
        Expr::Vector(vec![l(ti), l(ti), ci(3, I32), ci(-4, I32)]),
    );
    let shifted = b.let_(
        SType::vector(I32, 4),
        "",
        Expr::Binary(BinaryOp::Shr, l(iv), l(ti)),
    );
    let fv = b.let_(
        SType::vector(F32, 4),
        "",
        Expr::Cast(l(shifted), SType::vector(F32, 4)),
    );
    let uv = b.let_(
        SType::vector(U32, 4),
        "",
        Expr::Bitcast(l(fv), SType::vector(U32, 4)),
    );
    b.push(Stmt::Store {
        buf: out,
        index: l(tid),
        value: l(uv),
    });
    b.finish()
}

pub fn all() -> Vec<(&'static str, Kernel)> {
    vec![
        ("add", add_kernel()),
        ("threadgroup", threadgroup_kernel()),
        ("simd", simd_kernel()),
        ("loop", loop_kernel()),
        ("i8_word_store", i8_word_store_kernel()),
        ("f16", f16_kernel()),
        ("i64", i64_kernel()),
        ("ops", ops_kernel()),
    ]
}
