//! Times vector add, row softmax and a small matmul on the interpreter, the same kernels and
//! sizes as benchmarks/interp/triton_interpreter.py runs under Triton's TRITON_INTERPRET=1:
//! `cargo bench -p tm-interp --bench kernels`. Prints one line per kernel (median of runs).

use std::time::Instant;

use tm_core::ScalarType::{self, F32, I32};
use tm_interp::{ArgValue, RunOptions, ScalarValue};
use tm_tile::{
    BinaryOp, Builder, CmpPred, Elem, Function, InputPrecision, Literal, OpKind, Type, UnaryOp,
    ValueId,
};

fn range_off(b: &mut Builder, axis: u8, size: u32) -> ValueId {
    let pid = b.program_id(axis);
    let c = b.int(I32, size as i64);
    let base = b.binary(BinaryOp::Mul, pid, c);
    let base = b.splat(base, vec![size]);
    let r = b.make_range(0, size as i32);
    b.binary(BinaryOp::Add, base, r)
}

fn vector_add(block: u32) -> Function {
    let mut f = Function::new("add_kernel");
    let x = f.add_param("x_ptr", Type::ptr(F32), 0, true);
    let y = f.add_param("y_ptr", Type::ptr(F32), 1, true);
    let o = f.add_param("out_ptr", Type::ptr(F32), 2, true);
    let n = f.add_param("n", Type::scalar(I32), 3, false);
    let mut b = Builder::new(&mut f);
    let sh = vec![block];
    let offs = range_off(&mut b, 0, block);
    let nn = b.splat(n, sh.clone());
    let mask = b.cmp(CmpPred::Lt, offs, nn);
    let at = |b: &mut Builder, p| {
        let s = b.splat(p, sh.clone());
        b.addptr(s, offs)
    };
    let (xp, yp, op) = (at(&mut b, x), at(&mut b, y), at(&mut b, o));
    let xv = b.load(xp, Some(mask), None);
    let yv = b.load(yp, Some(mask), None);
    let s = b.binary(BinaryOp::Add, xv, yv);
    b.store(op, s, Some(mask));
    b.ret();
    f
}

fn reduce(b: &mut Builder, v: ValueId, op: BinaryOp) -> ValueId {
    b.reduce(vec![v], 0, |b, a| vec![b.binary(op, a[0], a[1])])[0]
}

/// One program per row: `y = exp(x - max(x)) / sum(exp(x - max(x)))`.
fn softmax(block: u32) -> Function {
    let mut f = Function::new("softmax_kernel");
    let out = f.add_param("out_ptr", Type::ptr(F32), 0, true);
    let inp = f.add_param("in_ptr", Type::ptr(F32), 1, true);
    let stride = f.add_param("stride", Type::scalar(I32), 2, false);
    let ncols = f.add_param("n_cols", Type::scalar(I32), 3, false);
    let mut b = Builder::new(&mut f);
    let sh = vec![block];
    let row = b.program_id(0);
    let start = b.binary(BinaryOp::Mul, row, stride);
    let start = b.splat(start, sh.clone());
    let cols = b.make_range(0, block as i32);
    let offs = b.binary(BinaryOp::Add, start, cols);
    let nc = b.splat(ncols, sh.clone());
    let mask = b.cmp(CmpPred::Lt, cols, nc);
    let ip = b.splat(inp, sh.clone());
    let ip = b.addptr(ip, offs);
    let ninf = b.constant(
        Literal::Float(f64::NEG_INFINITY),
        Type::tensor(Elem::Scalar(F32), sh.clone()),
    );
    let x = b.load(ip, Some(mask), Some(ninf));
    let m = reduce(&mut b, x, BinaryOp::Max);
    let m = b.splat(m, sh.clone());
    let z = b.binary(BinaryOp::Sub, x, m);
    let num = b.unary(UnaryOp::Exp, z);
    let den = reduce(&mut b, num, BinaryOp::Add);
    let den = b.splat(den, sh.clone());
    let y = b.binary(BinaryOp::Div, num, den);
    let op = b.splat(out, sh);
    let op = b.addptr(op, offs);
    b.store(op, y, Some(mask));
    b.ret();
    f
}

/// C[M, N] = A[M, K] @ B[K, N], row-major, sizes multiples of the blocks.
fn matmul(bm: u32, bn: u32, bk: u32) -> Function {
    let mut f = Function::new("matmul_kernel");
    let a = f.add_param("a_ptr", Type::ptr(F32), 0, true);
    let bp = f.add_param("b_ptr", Type::ptr(F32), 1, true);
    let c = f.add_param("c_ptr", Type::ptr(F32), 2, true);
    let kk = f.add_param("K", Type::scalar(I32), 3, false);
    let nn = f.add_param("N", Type::scalar(I32), 4, false);
    let mut b = Builder::new(&mut f);
    let rm = range_off(&mut b, 0, bm);
    let rn = range_off(&mut b, 1, bn);
    let rk = b.make_range(0, bk as i32);
    let grid2 =
        |b: &mut Builder, rows: ValueId, nr: u32, stride: ValueId, cols: ValueId, nc: u32| {
            let r2 = b.expand_dims(rows, 1);
            let s = b.splat(stride, vec![nr, 1]);
            let r2 = b.binary(BinaryOp::Mul, r2, s);
            let r2 = b.broadcast(r2, vec![nr, nc]);
            let c2 = b.expand_dims(cols, 0);
            let c2 = b.broadcast(c2, vec![nr, nc]);
            b.binary(BinaryOp::Add, r2, c2)
        };
    let ia = grid2(&mut b, rm, bm, kk, rk, bk);
    let ib = grid2(&mut b, rk, bk, nn, rn, bn);
    let ic = grid2(&mut b, rm, bm, nn, rn, bn);
    let pa = b.splat(a, vec![bm, bk]);
    let pa = b.addptr(pa, ia);
    let pb = b.splat(bp, vec![bk, bn]);
    let pb = b.addptr(pb, ib);
    let acc = b.constant(
        Literal::Float(0.0),
        Type::tensor(Elem::Scalar(F32), vec![bm, bn]),
    );
    let lo = b.int(I32, 0);
    let step = b.int(I32, bk as i64);
    let res = b.for_(lo, kk, step, vec![acc, pa, pb], |b, _k, v| {
        let x = b.load(v[1], None, None);
        let y = b.load(v[2], None, None);
        let ty = b.ty(v[0]).clone();
        let d = b.f.push(
            b.block,
            OpKind::Dot {
                precision: InputPrecision::Ieee,
                max_num_imprecise_acc: 0,
            },
            vec![x, y, v[0]],
            ty,
            b.loc,
        );
        let sa = b.int(I32, bk as i64);
        let sa = b.splat(sa, vec![bm, bk]);
        let na = b.addptr(v[1], sa);
        let sb = b.int(I32, bk as i64);
        let sb = b.binary(BinaryOp::Mul, sb, nn);
        let sb = b.splat(sb, vec![bk, bn]);
        let nb = b.addptr(v[2], sb);
        vec![d, na, nb]
    });
    let pc = b.splat(c, vec![bm, bn]);
    let pc = b.addptr(pc, ic);
    b.store(pc, res[0], None);
    b.ret();
    f
}

fn fbuf(n: usize, f: impl Fn(usize) -> f32) -> Vec<u8> {
    (0..n).flat_map(|i| f(i).to_le_bytes()).collect()
}

fn time(name: &str, runs: usize, mut once: impl FnMut()) -> f64 {
    once();
    let mut t: Vec<f64> = (0..runs)
        .map(|_| {
            let s = Instant::now();
            once();
            s.elapsed().as_secs_f64()
        })
        .collect();
    t.sort_by(|a, b| a.total_cmp(b));
    let med = t[t.len() / 2];
    println!("ours {name}: median {:.3} ms over {runs} runs", med * 1e3);
    med
}

fn buf(d: &mut [u8]) -> ArgValue<'_> {
    ArgValue::Buffer {
        data: d,
        elem: ScalarType::F32,
    }
}

fn main() {
    let opts = RunOptions { echo_prints: false };

    let n = 1usize << 20;
    let f = vector_add(1024);
    let (mut x, mut y, mut o) = (
        fbuf(n, |i| i as f32),
        fbuf(n, |i| 0.5 * i as f32),
        vec![0u8; n * 4],
    );
    time("vector_add n=2^20 BLOCK=1024", 10, || {
        let mut args = [
            buf(&mut x),
            buf(&mut y),
            buf(&mut o),
            ArgValue::Scalar(ScalarValue::I32(n as i32)),
            ArgValue::Absent,
        ];
        tm_interp::run(&f, [(n / 1024) as u32, 1, 1], &mut args, &opts).expect("runs");
    });

    let (rows, cols) = (1024usize, 1024usize);
    let f = softmax(1024);
    let (mut i, mut o) = (
        fbuf(rows * cols, |k| ((k * 7919) % 1000) as f32 * 0.01),
        vec![0u8; rows * cols * 4],
    );
    time("softmax 1024x1024 BLOCK=1024", 10, || {
        let mut args = [
            buf(&mut o),
            buf(&mut i),
            ArgValue::Scalar(ScalarValue::I32(cols as i32)),
            ArgValue::Scalar(ScalarValue::I32(cols as i32)),
            ArgValue::Absent,
        ];
        tm_interp::run(&f, [rows as u32, 1, 1], &mut args, &opts).expect("runs");
    });

    let (m, nn, k) = (256usize, 256usize, 256usize);
    let f = matmul(64, 64, 32);
    let (mut a, mut bb, mut c) = (
        fbuf(m * k, |t| (t % 13) as f32 * 0.1),
        fbuf(k * nn, |t| (t % 7) as f32 * 0.2),
        vec![0u8; m * nn * 4],
    );
    time("matmul 256x256x256 BLOCK=64x64x32", 10, || {
        let mut args = [
            buf(&mut a),
            buf(&mut bb),
            buf(&mut c),
            ArgValue::Scalar(ScalarValue::I32(k as i32)),
            ArgValue::Scalar(ScalarValue::I32(nn as i32)),
            ArgValue::Absent,
            ArgValue::Absent,
            ArgValue::Absent,
        ];
        tm_interp::run(&f, [(m / 64) as u32, (nn / 64) as u32, 1], &mut args, &opts).expect("runs");
    });
    // Spot check against a direct product, so a broken kernel cannot post a fast time.
    let get = |v: &[u8], i: usize| {
        f32::from_le_bytes([v[4 * i], v[4 * i + 1], v[4 * i + 2], v[4 * i + 3]])
    };
    let (r, q) = (37usize, 201usize);
    let want: f32 = (0..k)
        .map(|t| get(&a, r * k + t) * get(&bb, t * nn + q))
        .sum();
    assert!((get(&c, r * nn + q) - want).abs() <= 1e-3 * want.abs().max(1.0));
}
