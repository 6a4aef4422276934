//! Kernels run end to end on the interpreter and checked against plain Rust.

mod common;

use common::*;
use half::f16;
use tm_core::ScalarType;
use tm_interp::{ArgValue, InterpError, ScalarValue};
use tm_tile::{BinaryOp, Builder, CmpPred, Elem, Type, UnaryOp};

fn run_vector_add(n: usize, block: u32) {
    let f = vector_add(block, true);
    let x: Vec<f32> = (0..n).map(|i| i as f32 * 0.5 - 3.0).collect();
    let y: Vec<f32> = (0..n).map(|i| (i % 97) as f32 * 1.25).collect();
    let (mut xb, mut yb, mut ob) = (bytes(&x), bytes(&y), vec![0u8; n * 4]);
    let grid = (n as u32).div_ceil(block);
    let rep = run(
        &f,
        [grid, 1, 1],
        &mut [
            buf::<f32>(&mut xb),
            buf::<f32>(&mut yb),
            buf::<f32>(&mut ob),
            ArgValue::Scalar(ScalarValue::I64(n as i64)),
            ArgValue::Absent,
        ],
    )
    .unwrap();
    assert_eq!(rep.programs, grid as u64);
    let out: Vec<f32> = from_bytes(&ob);
    let want: Vec<f32> = x.iter().zip(&y).map(|(a, b)| a + b).collect();
    assert_eq!(out, want, "n = {n}");
}

#[test]
fn vector_add_matches_rust_at_every_size() {
    for n in [1, 1000, 98432, (1 << 20) + 3] {
        run_vector_add(n, 1024);
    }
}

#[test]
fn vector_add_small_blocks() {
    run_vector_add(1000, 64);
}

#[test]
fn unmasked_out_of_bounds_load_names_line_program_and_index() {
    let f = vector_add(128, false);
    let n = 1000usize;
    let mut xb = vec![0u8; n * 4];
    let mut yb = bytes(&vec![1.0f32; n]);
    let mut ob = vec![0u8; n * 4];
    let err = run(
        &f,
        [8, 1, 1],
        &mut [
            buf::<f32>(&mut xb),
            buf::<f32>(&mut yb),
            buf::<f32>(&mut ob),
            ArgValue::Scalar(ScalarValue::I32(n as i32)),
            ArgValue::Absent,
        ],
    )
    .unwrap_err();
    // Program 7 covers 896..1024: lane 104 is the first past the end.
    match &err {
        InterpError::OutOfBounds {
            kernel,
            file,
            line,
            program_id,
            index,
            buffer_len,
            access,
            buffer,
            ..
        } => {
            assert_eq!(kernel, "add_kernel");
            assert_eq!(file, "kernels/add.py");
            assert_eq!(*line, 6);
            assert_eq!(*program_id, [7, 0, 0]);
            assert_eq!(*index, 1000);
            assert_eq!(*buffer_len, 1000);
            assert_eq!(*access, "load");
            assert_eq!(buffer, "x_ptr");
        }
        other => panic!("expected an out-of-bounds error, got {other:?}"),
    }
    let msg = err.to_string();
    assert_eq!(
        msg,
        "out-of-bounds load in kernel `add_kernel` at kernels/add.py:6:9, program_id (7, 0, 0): \
         index 1000 into `x_ptr`, a buffer of 1000 elements\n    x = tl.load(x_ptr + offs, mask=mask)"
    );
    // Programs 0..7 ran to completion; the faulting one stopped before its store.
    let out: Vec<f32> = from_bytes(&ob);
    assert!(out[..896].iter().all(|&v| v == 1.0));
    assert!(out[896..].iter().all(|&v| v == 0.0));
}

#[test]
fn negative_index_is_out_of_bounds() {
    let mut f = function("neg", "neg.py", "");
    let p = f.add_param("p", ptr(ScalarType::I32), 0, false);
    let mut b = Builder::new(&mut f);
    let m1 = b.int(ScalarType::I32, -1);
    let q = b.addptr(p, m1);
    let v = b.int(ScalarType::I32, 5);
    b.store(q, v, None);
    b.ret();
    let mut data = vec![0u8; 16];
    let err = run(&f, [1, 1, 1], &mut [buf::<i32>(&mut data)]).unwrap_err();
    assert!(matches!(
        err,
        InterpError::OutOfBounds {
            index: -1,
            buffer_len: 4,
            access: "store",
            ..
        }
    ));
}

/// `out[m, n] = in[m, n]` for m < M, n < N, with 2-D blocks built from expand_dims and
/// broadcast; the buffers have row stride `stride`.
fn masked_copy_2d<T: Le + PartialEq + std::fmt::Debug>(vals: impl Fn(usize) -> T, zero: T) {
    let (bm, bn) = (8u32, 16u32);
    let (m, n, stride) = (13usize, 37usize, 40usize);
    let st = T::ST;
    let mut f = function("copy2d", "copy2d.py", "");
    let inp = f.add_param("in_ptr", ptr(st), 0, true);
    let out = f.add_param("out_ptr", ptr(st), 1, true);
    let mm = f.add_param("M", Type::scalar(ScalarType::I32), 2, false);
    let nn = f.add_param("N", Type::scalar(ScalarType::I32), 3, false);
    let sd = f.add_param("stride", Type::scalar(ScalarType::I32), 4, false);
    let mut b = Builder::new(&mut f);
    let sh = vec![bm, bn];
    let offs = |b: &mut Builder, axis: u8, size: u32| {
        let pid = b.program_id(axis);
        let c = b.int(ScalarType::I32, size as i64);
        let base = b.binary(BinaryOp::Mul, pid, c);
        let base = b.splat(base, vec![size]);
        let r = b.make_range(0, size as i32);
        b.binary(BinaryOp::Add, base, r)
    };
    let om = offs(&mut b, 0, bm);
    let on = offs(&mut b, 1, bn);
    let om2 = b.expand_dims(om, 1); // [bm, 1]
    let on2 = b.expand_dims(on, 0); // [1, bn]
    let sds = b.splat(sd, vec![bm, 1]);
    let row = b.binary(BinaryOp::Mul, om2, sds);
    let row = b.broadcast(row, sh.clone());
    let col = b.broadcast(on2, sh.clone());
    let idx = b.binary(BinaryOp::Add, row, col);
    let ms = b.splat(mm, vec![bm, 1]);
    let mrow = b.cmp(CmpPred::Lt, om2, ms);
    let ns = b.splat(nn, vec![1, bn]);
    let mcol = b.cmp(CmpPred::Lt, on2, ns);
    let mrow = b.broadcast(mrow, sh.clone());
    let mcol = b.broadcast(mcol, sh.clone());
    let mask = b.binary(BinaryOp::And, mrow, mcol);
    let ip = b.splat(inp, sh.clone());
    let ip = b.addptr(ip, idx);
    let v = b.load(ip, Some(mask), None);
    let op = b.splat(out, sh);
    let op = b.addptr(op, idx);
    b.store(op, v, Some(mask));
    b.ret();

    let src: Vec<T> = (0..m * stride).map(&vals).collect();
    let mut ib = bytes(&src);
    let mut ob = bytes(&vec![zero; m * stride]);
    run(
        &f,
        [(m as u32).div_ceil(bm), (n as u32).div_ceil(bn), 1],
        &mut [
            buf::<T>(&mut ib),
            buf::<T>(&mut ob),
            ArgValue::Scalar(ScalarValue::I32(m as i32)),
            ArgValue::Scalar(ScalarValue::I32(n as i32)),
            ArgValue::Scalar(ScalarValue::I32(stride as i32)),
        ],
    )
    .unwrap();
    let got: Vec<T> = from_bytes(&ob);
    for r in 0..m {
        for c in 0..stride {
            let want = if c < n { src[r * stride + c] } else { zero };
            assert_eq!(got[r * stride + c], want, "{st} at ({r}, {c})");
        }
    }
}

#[test]
fn masked_copy_2d_f32_f16_i32() {
    masked_copy_2d(|i| i as f32 * 0.25 + 1.0, 0.0f32);
    masked_copy_2d(|i| f16::from_f32(i as f32 * 0.5 - 7.0), f16::ZERO);
    masked_copy_2d(|i| i as i32 * 7 - 100, 0i32);
}

/// out[j] = sum over i < k of x[i * 32 + j], with the accumulator carried by a for loop.
#[test]
fn for_loop_carries_a_tensor() {
    let k = 5i32;
    let mut f = function("acc", "acc.py", "");
    let x = f.add_param("x", ptr(ScalarType::F32), 0, false);
    let o = f.add_param("o", ptr(ScalarType::F32), 1, false);
    let kk = f.add_param("k", Type::scalar(ScalarType::I32), 2, false);
    let mut b = Builder::new(&mut f);
    let zero = b.constant(
        tm_tile::Literal::Float(0.0),
        Type::tensor(Elem::Scalar(ScalarType::F32), vec![32]),
    );
    let lo = b.int(ScalarType::I32, 0);
    let step = b.int(ScalarType::I32, 1);
    let r = b.make_range(0, 32);
    let res = b.for_(lo, kk, step, vec![zero], |b, iv, carried| {
        let c32 = b.int(ScalarType::I32, 32);
        let base = b.binary(BinaryOp::Mul, iv, c32);
        let base = b.splat(base, vec![32]);
        let offs = b.binary(BinaryOp::Add, base, r);
        let p = b.splat(x, vec![32]);
        let p = b.addptr(p, offs);
        let v = b.load(p, None, None);
        vec![b.binary(BinaryOp::Add, carried[0], v)]
    });
    let op = b.splat(o, vec![32]);
    let op = b.addptr(op, r);
    b.store(op, res[0], None);
    b.ret();

    let xs: Vec<f32> = (0..k * 32).map(|i| (i * 3 % 17) as f32).collect();
    let (mut xb, mut ob) = (bytes(&xs), vec![0u8; 32 * 4]);
    run(
        &f,
        [1, 1, 1],
        &mut [
            buf::<f32>(&mut xb),
            buf::<f32>(&mut ob),
            ArgValue::Scalar(ScalarValue::I32(k)),
        ],
    )
    .unwrap();
    let got: Vec<f32> = from_bytes(&ob);
    for j in 0..32 {
        let want: f32 = (0..k as usize).map(|i| xs[i * 32 + j]).sum();
        assert_eq!(got[j], want);
    }
}

/// Even programs write x * 2, odd ones x + 100, chosen by a scalar if/else with a tensor
/// result.
#[test]
fn if_else_on_program_id() {
    let mut f = function("branch", "branch.py", "");
    let x = f.add_param("x", ptr(ScalarType::I32), 0, false);
    let o = f.add_param("o", ptr(ScalarType::I32), 1, false);
    let mut b = Builder::new(&mut f);
    let pid = b.program_id(0);
    let c16 = b.int(ScalarType::I32, 16);
    let base = b.binary(BinaryOp::Mul, pid, c16);
    let base = b.splat(base, vec![16]);
    let r = b.make_range(0, 16);
    let offs = b.binary(BinaryOp::Add, base, r);
    let xp = b.splat(x, vec![16]);
    let xp = b.addptr(xp, offs);
    let v = b.load(xp, None, None);
    let two = b.int(ScalarType::I32, 2);
    let odd = b.binary(BinaryOp::Rem, pid, two);
    let zero = b.int(ScalarType::I32, 0);
    let even = b.cmp(CmpPred::Eq, odd, zero);
    let ty = b.ty(v).clone();
    let res = b.if_(
        even,
        vec![ty],
        |b| {
            let t = splat_i32(b, 2, vec![16]);
            vec![b.binary(BinaryOp::Mul, v, t)]
        },
        |b| {
            let t = splat_i32(b, 100, vec![16]);
            vec![b.binary(BinaryOp::Add, v, t)]
        },
    );
    let op = b.splat(o, vec![16]);
    let op = b.addptr(op, offs);
    b.store(op, res[0], None);
    b.ret();
    let xs: Vec<i32> = (0..64).collect();
    let (mut xb, mut ob) = (bytes(&xs), vec![0u8; 64 * 4]);
    run(
        &f,
        [4, 1, 1],
        &mut [buf::<i32>(&mut xb), buf::<i32>(&mut ob)],
    )
    .unwrap();
    let got: Vec<i32> = from_bytes(&ob);
    let want: Vec<i32> = xs
        .iter()
        .map(|&v| if (v / 16) % 2 == 0 { v * 2 } else { v + 100 })
        .collect();
    assert_eq!(got, want);
}

/// One 1-D elementwise kernel: out = op(a, b) over i32 lanes.
fn int_binary_kernel(op: BinaryOp, st: ScalarType, n: u32) -> tm_tile::Function {
    let mut f = function("ibin", "ibin.py", "");
    let a = f.add_param("a", ptr(st), 0, false);
    let bb = f.add_param("b", ptr(st), 1, false);
    let o = f.add_param("o", ptr(st), 2, false);
    let mut b = Builder::new(&mut f);
    let r = b.make_range(0, n as i32);
    let ld = |b: &mut Builder, p| {
        let p = b.splat(p, vec![n]);
        b.addptr(p, r)
    };
    let (pa, pb, po) = (ld(&mut b, a), ld(&mut b, bb), ld(&mut b, o));
    let va = b.load(pa, None, None);
    let vb = b.load(pb, None, None);
    let v = b.binary(op, va, vb);
    b.store(po, v, None);
    b.ret();
    f
}

fn run_i32(op: BinaryOp, a: &[i32], b: &[i32]) -> Vec<i32> {
    let f = int_binary_kernel(op, ScalarType::I32, a.len() as u32);
    let (mut ab, mut bb, mut ob) = (bytes(a), bytes(b), vec![0u8; a.len() * 4]);
    run(
        &f,
        [1, 1, 1],
        &mut [
            buf::<i32>(&mut ab),
            buf::<i32>(&mut bb),
            buf::<i32>(&mut ob),
        ],
    )
    .unwrap();
    from_bytes(&ob)
}

#[test]
fn integer_ops_wrap_and_divide_like_c() {
    let a = [
        i32::MAX,
        i32::MIN,
        -7,
        7,
        -7,
        7,
        i32::MIN,
        5,
        -5,
        0,
        123,
        -9,
    ];
    let b = [1, -1, 2, -2, -2, 2, -1, 0, 0, 0, 1 << 20, 4];
    assert_eq!(
        run_i32(BinaryOp::Add, &a, &b),
        a.iter()
            .zip(&b)
            .map(|(x, y)| x.wrapping_add(*y))
            .collect::<Vec<_>>()
    );
    assert_eq!(
        run_i32(BinaryOp::Mul, &a, &b),
        a.iter()
            .zip(&b)
            .map(|(x, y)| x.wrapping_mul(*y))
            .collect::<Vec<_>>()
    );
    // C truncation (-7 / 2 == -3, -7 % 2 == -1), MIN / -1 wraps, x / 0 == -1, x % 0 == x.
    assert_eq!(
        run_i32(BinaryOp::Div, &a, &b),
        vec![
            i32::MAX,
            i32::MIN,
            -3,
            -3,
            3,
            3,
            i32::MIN,
            -1,
            -1,
            -1,
            0,
            -2
        ]
    );
    assert_eq!(
        run_i32(BinaryOp::Rem, &a, &b),
        vec![0, 0, -1, 1, -1, 1, 0, 5, -5, 0, 123, -1]
    );
    // Arithmetic shift right on signed ints; shifts of 32 or more saturate.
    let sa = [-16, 16, -1, 1, 1];
    let sb = [2, 2, 40, 31, 32];
    assert_eq!(run_i32(BinaryOp::Shr, &sa, &sb), vec![-4, 4, -1, 0, 0]);
    assert_eq!(
        run_i32(BinaryOp::Shl, &sa, &sb),
        vec![-64, 64, 0, i32::MIN, 0]
    );
}

#[test]
fn unsigned_division_and_i8_wrapping() {
    // u32: logical order and division (0xFFFF_FFFF / 2 is not -1 / 2).
    let f = int_binary_kernel(BinaryOp::Div, ScalarType::U32, 4);
    let a = [u32::MAX, 10, 7, 1];
    let b = [2u32, 3, 0, 1];
    let (mut ab, mut bb, mut ob) = (bytes(&a), bytes(&b), vec![0u8; 16]);
    run(
        &f,
        [1, 1, 1],
        &mut [
            buf::<u32>(&mut ab),
            buf::<u32>(&mut bb),
            buf::<u32>(&mut ob),
        ],
    )
    .unwrap();
    assert_eq!(from_bytes::<u32>(&ob), vec![u32::MAX / 2, 3, u32::MAX, 1]);

    let f = int_binary_kernel(BinaryOp::Add, ScalarType::I8, 4);
    let a = [127i8, -128, 100, -1];
    let b = [1i8, -1, 100, 1];
    let (mut ab, mut bb, mut ob) = (bytes(&a), bytes(&b), vec![0u8; 4]);
    run(
        &f,
        [1, 1, 1],
        &mut [buf::<i8>(&mut ab), buf::<i8>(&mut bb), buf::<i8>(&mut ob)],
    )
    .unwrap();
    assert_eq!(from_bytes::<i8>(&ob), vec![-128, 127, -56, 0]);
}

/// Row sums of a [rows, 64] block: with the plain `add` region (fast path) and with a
/// region the fast path does not recognise (the general path), which must agree exactly.
#[test]
fn sum_reduction_fast_and_general_paths_agree() {
    let (rows, cols) = (4u32, 64u32);
    let build = |general: bool| {
        let mut f = function("rowsum", "rowsum.py", "");
        let x = f.add_param("x", ptr(ScalarType::F32), 0, false);
        let o = f.add_param("o", ptr(ScalarType::F32), 1, false);
        let mut b = Builder::new(&mut f);
        let rr = b.make_range(0, rows as i32);
        let cr = b.make_range(0, cols as i32);
        let r2 = b.expand_dims(rr, 1);
        let c = splat_i32(&mut b, cols as i64, vec![rows, 1]);
        let r2 = b.binary(BinaryOp::Mul, r2, c);
        let r2 = b.broadcast(r2, vec![rows, cols]);
        let c2 = b.expand_dims(cr, 0);
        let c2 = b.broadcast(c2, vec![rows, cols]);
        let idx = b.binary(BinaryOp::Add, r2, c2);
        let p = b.splat(x, vec![rows, cols]);
        let p = b.addptr(p, idx);
        let v = b.load(p, None, None);
        let s = b.reduce(vec![v], 1, |b, a| {
            if general {
                // (acc + x) * 1.0: the same sum through a two-op region.
                let s = b.binary(BinaryOp::Add, a[0], a[1]);
                let one = b.float(ScalarType::F32, 1.0);
                vec![b.binary(BinaryOp::Mul, s, one)]
            } else {
                vec![b.binary(BinaryOp::Add, a[0], a[1])]
            }
        });
        let op = b.splat(o, vec![rows]);
        let op = b.addptr(op, rr);
        b.store(op, s[0], None);
        b.ret();
        f
    };
    let xs: Vec<f32> = (0..rows * cols)
        .map(|i| ((i * 37) % 101) as f32 * 0.5)
        .collect();
    let mut results = Vec::new();
    for general in [false, true] {
        let f = build(general);
        let (mut xb, mut ob) = (bytes(&xs), vec![0u8; rows as usize * 4]);
        run(
            &f,
            [1, 1, 1],
            &mut [buf::<f32>(&mut xb), buf::<f32>(&mut ob)],
        )
        .unwrap();
        results.push(from_bytes::<f32>(&ob));
    }
    for r in 0..rows as usize {
        let want: f32 = xs[r * cols as usize..(r + 1) * cols as usize].iter().sum();
        assert_eq!(results[0][r], want, "row {r}");
    }
    assert_eq!(results[0], results[1]);
}

/// argmax over 16 values through a two-operand reduce (value, index) whose region picks the
/// larger value and, on ties, the smaller index: only the general path can run it.
#[test]
fn argmax_with_two_operand_reduce() {
    let n = 16u32;
    let mut f = function("argmax", "argmax.py", "");
    let x = f.add_param("x", ptr(ScalarType::F32), 0, false);
    let o = f.add_param("o", ptr(ScalarType::I32), 1, false);
    let mut b = Builder::new(&mut f);
    let r = b.make_range(0, n as i32);
    let p = b.splat(x, vec![n]);
    let p = b.addptr(p, r);
    let v = b.load(p, None, None);
    let res = b.reduce(vec![v, r], 0, |b, a| {
        let (va, ia, vb, ib) = (a[0], a[1], a[2], a[3]);
        let gt = b.cmp(CmpPred::Gt, va, vb);
        let eq = b.cmp(CmpPred::Eq, va, vb);
        let lt_i = b.cmp(CmpPred::Lt, ia, ib);
        let tie = b.binary(BinaryOp::And, eq, lt_i);
        let keep = b.binary(BinaryOp::Or, gt, tie);
        let vr = b.select(keep, va, vb);
        let ir = b.select(keep, ia, ib);
        vec![vr, ir]
    });
    b.store(o, res[1], None);
    b.ret();
    let xs: Vec<f32> = vec![
        1.0, 5.0, 3.0, 9.0, 2.0, 9.0, 0.0, -1.0, 4.0, 8.0, 9.0, 1.0, 0.5, 7.0, 6.0, 2.0,
    ];
    let (mut xb, mut ob) = (bytes(&xs), vec![0u8; 4]);
    run(
        &f,
        [1, 1, 1],
        &mut [buf::<f32>(&mut xb), buf::<i32>(&mut ob)],
    )
    .unwrap();
    assert_eq!(from_bytes::<i32>(&ob), vec![3]);
}

#[test]
fn cumulative_sum_scan_forward_and_reverse() {
    for reverse in [false, true] {
        let n = 32u32;
        let mut f = function("cumsum", "cumsum.py", "");
        let x = f.add_param("x", ptr(ScalarType::I32), 0, false);
        let o = f.add_param("o", ptr(ScalarType::I32), 1, false);
        let mut b = Builder::new(&mut f);
        let r = b.make_range(0, n as i32);
        let p = b.splat(x, vec![n]);
        let p = b.addptr(p, r);
        let v = b.load(p, None, None);
        let ty = b.ty(v).clone();
        let sty = ty.with_shape(vec![]);
        let region = b.f.new_block(&[sty.clone(), sty]);
        let args = b.f.blocks[region].args.clone();
        {
            let mut rb = Builder::at_block(b.f, region);
            let s = rb.binary(BinaryOp::Add, args[0], args[1]);
            rb.yield_(vec![s]);
        }
        let op = b.f.push_op(
            b.block,
            tm_tile::OpKind::Scan { axis: 0, reverse },
            vec![v],
            vec![ty],
            vec![region],
            b.loc,
        );
        let s = b.f.ops[op].results[0];
        let q = b.splat(o, vec![n]);
        let q = b.addptr(q, r);
        b.store(q, s, None);
        b.ret();
        let xs: Vec<i32> = (0..n as i32).map(|i| i * i - 10).collect();
        let (mut xb, mut ob) = (bytes(&xs), vec![0u8; n as usize * 4]);
        run(
            &f,
            [1, 1, 1],
            &mut [buf::<i32>(&mut xb), buf::<i32>(&mut ob)],
        )
        .unwrap();
        let got: Vec<i32> = from_bytes(&ob);
        let mut want = vec![0; n as usize];
        let mut acc = 0;
        let order: Vec<usize> = if reverse {
            (0..n as usize).rev().collect()
        } else {
            (0..n as usize).collect()
        };
        for i in order {
            acc += xs[i];
            want[i] = acc;
        }
        assert_eq!(got, want, "reverse = {reverse}");
    }
}

#[test]
fn dot_of_f16_inputs_accumulates_in_f32() {
    let (m, k, n) = (16u32, 32u32, 8u32);
    let mut f = function("mm", "mm.py", "");
    let a = f.add_param("a", ptr(ScalarType::F16), 0, false);
    let bp = f.add_param("b", ptr(ScalarType::F16), 1, false);
    let c = f.add_param("c", ptr(ScalarType::F32), 2, false);
    let mut b = Builder::new(&mut f);
    let idx2 = |b: &mut Builder, rows: u32, cols: u32| {
        let rr = b.make_range(0, rows as i32);
        let cr = b.make_range(0, cols as i32);
        let r2 = b.expand_dims(rr, 1);
        let s = splat_i32(b, cols as i64, vec![rows, 1]);
        let r2 = b.binary(BinaryOp::Mul, r2, s);
        let r2 = b.broadcast(r2, vec![rows, cols]);
        let c2 = b.expand_dims(cr, 0);
        let c2 = b.broadcast(c2, vec![rows, cols]);
        b.binary(BinaryOp::Add, r2, c2)
    };
    let ia = idx2(&mut b, m, k);
    let ib = idx2(&mut b, k, n);
    let ic = idx2(&mut b, m, n);
    let pa = b.splat(a, vec![m, k]);
    let pa = b.addptr(pa, ia);
    let pb = b.splat(bp, vec![k, n]);
    let pb = b.addptr(pb, ib);
    let va = b.load(pa, None, None);
    let vb = b.load(pb, None, None);
    let acc = b.constant(
        tm_tile::Literal::Float(0.0),
        Type::tensor(Elem::Scalar(ScalarType::F32), vec![m, n]),
    );
    let ty = b.ty(acc).clone();
    let d = b.f.push(
        b.block,
        tm_tile::OpKind::Dot {
            precision: tm_tile::InputPrecision::Ieee,
            max_num_imprecise_acc: 0,
        },
        vec![va, vb, acc],
        ty,
        b.loc,
    );
    let pc = b.splat(c, vec![m, n]);
    let pc = b.addptr(pc, ic);
    b.store(pc, d, None);
    b.ret();
    let av: Vec<f16> = (0..m * k)
        .map(|i| f16::from_f32(((i % 7) as f32 - 3.0) * 0.5))
        .collect();
    let bv: Vec<f16> = (0..k * n)
        .map(|i| f16::from_f32(((i % 5) as f32 - 2.0) * 0.25))
        .collect();
    let (mut ab, mut bb, mut cb) = (bytes(&av), bytes(&bv), vec![0u8; (m * n * 4) as usize]);
    run(
        &f,
        [1, 1, 1],
        &mut [
            buf::<f16>(&mut ab),
            buf::<f16>(&mut bb),
            buf::<f32>(&mut cb),
        ],
    )
    .unwrap();
    let got: Vec<f32> = from_bytes(&cb);
    for i in 0..m as usize {
        for j in 0..n as usize {
            let mut s = 0.0f32;
            for kk in 0..k as usize {
                s += av[i * k as usize + kk].to_f32() * bv[kk * n as usize + j].to_f32();
            }
            assert_eq!(got[i * n as usize + j], s);
        }
    }
}

#[test]
fn atomic_add_from_every_program_counts_them() {
    let mut f = function("count", "count.py", "");
    let c = f.add_param("c", ptr(ScalarType::I32), 0, false);
    let h = f.add_param("h", ptr(ScalarType::F32), 1, false);
    let mut b = Builder::new(&mut f);
    let one = b.int(ScalarType::I32, 1);
    b.f.push(
        b.block,
        tm_tile::OpKind::AtomicRmw {
            op: tm_tile::AtomicOp::Add,
            has_mask: false,
            sem: Default::default(),
            scope: Default::default(),
        },
        vec![c, one],
        Type::scalar(ScalarType::I32),
        b.loc,
    );
    // Every program adds 0.5 to all 8 bins through one tensor atomic.
    let r = b.make_range(0, 8);
    let p = b.splat(h, vec![8]);
    let p = b.addptr(p, r);
    let half_ = b.constant(
        tm_tile::Literal::Float(0.5),
        Type::tensor(Elem::Scalar(ScalarType::F32), vec![8]),
    );
    let ty = b.ty(half_).clone();
    b.f.push(
        b.block,
        tm_tile::OpKind::AtomicRmw {
            op: tm_tile::AtomicOp::Add,
            has_mask: false,
            sem: Default::default(),
            scope: Default::default(),
        },
        vec![p, half_],
        ty,
        b.loc,
    );
    b.ret();
    let (mut cb, mut hb) = (vec![0u8; 4], vec![0u8; 32]);
    run(
        &f,
        [5, 3, 2],
        &mut [buf::<i32>(&mut cb), buf::<f32>(&mut hb)],
    )
    .unwrap();
    assert_eq!(from_bytes::<i32>(&cb), vec![30]);
    assert_eq!(from_bytes::<f32>(&hb), vec![15.0; 8]);
}

#[test]
fn device_assert_reports_line_program_and_lane() {
    let src = "def k(x_ptr):\n    x = tl.load(x_ptr + tl.arange(0, 8))\n    tl.device_assert(x >= 0, \"x must be non-negative\")\n";
    let mut f = function("k", "k.py", src);
    let x = f.add_param("x_ptr", ptr(ScalarType::I32), 0, false);
    let mut b = Builder::new(&mut f);
    let r = b.make_range(0, 8);
    let p = b.splat(x, vec![8]);
    let p = b.addptr(p, r);
    let v = b.load(p, None, None);
    let z = splat_i32(&mut b, 0, vec![8]);
    let ok = b.cmp(CmpPred::Ge, v, z);
    at(&mut b, 3, 5);
    b.f.push_op(
        b.block,
        tm_tile::OpKind::Assert {
            message: "x must be non-negative".into(),
        },
        vec![ok],
        vec![],
        vec![],
        b.loc,
    );
    b.ret();
    let xs = [0, 1, 2, 3, 4, -5, 6, -7];
    let mut xb = bytes(&xs);
    let err = run(&f, [1, 1, 1], &mut [buf::<i32>(&mut xb)]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "device assertion failed in kernel `k` at k.py:3:5, program_id (0, 0, 0), idx (5): \
         x must be non-negative\n    tl.device_assert(x >= 0, \"x must be non-negative\")"
    );
}

#[test]
fn device_print_formats_like_triton() {
    let mut f = function("p", "p.py", "");
    let x = f.add_param("x_ptr", ptr(ScalarType::F32), 0, false);
    let mut b = Builder::new(&mut f);
    let r = b.make_range(0, 4);
    let p = b.splat(x, vec![4]);
    let p = b.addptr(p, r);
    let v = b.load(p, None, None);
    let pid = b.program_id(0);
    b.f.push_op(
        b.block,
        tm_tile::OpKind::Print {
            prefix: "x".into(),
            hex: false,
        },
        vec![v],
        vec![],
        vec![],
        b.loc,
    );
    b.f.push_op(
        b.block,
        tm_tile::OpKind::Print {
            prefix: "pid".into(),
            hex: false,
        },
        vec![pid],
        vec![],
        vec![],
        b.loc,
    );
    b.ret();
    let mut xb = bytes(&[1.5f32, -2.0, 0.25, 3.0]);
    let rep = run(&f, [2, 1, 1], &mut [buf::<f32>(&mut xb)]).unwrap();
    assert_eq!(
        rep.prints[..5],
        [
            "pid (0, 0, 0) idx (0) x: 1.500000",
            "pid (0, 0, 0) idx (1) x: -2.000000",
            "pid (0, 0, 0) idx (2) x: 0.250000",
            "pid (0, 0, 0) idx (3) x: 3.000000",
            "pid (0, 0, 0) pid: 0",
        ]
    );
    assert_eq!(rep.prints.len(), 10);
    assert_eq!(rep.prints[9], "pid (1, 0, 0) pid: 1");
}

#[test]
fn f16_arithmetic_rounds_to_nearest_even() {
    // 2048 + 1 is a tie in f16 (spacing 2 above 2048): round to even, 2048.
    let f = {
        let mut f = function("h", "h.py", "");
        let a = f.add_param("a", ptr(ScalarType::F16), 0, false);
        let mut b = Builder::new(&mut f);
        let r = b.make_range(0, 2);
        let p = b.splat(a, vec![2]);
        let p = b.addptr(p, r);
        let v = b.load(p, None, None);
        let one = b.constant(
            tm_tile::Literal::Float(1.0),
            Type::tensor(Elem::Scalar(ScalarType::F16), vec![2]),
        );
        let s = b.binary(BinaryOp::Add, v, one);
        let e = b.unary(UnaryOp::Sqrt, s);
        b.store(p, e, None);
        b.ret();
        f
    };
    let mut ab = bytes(&[f16::from_f32(2048.0), f16::from_f32(3.0)]);
    run(&f, [1, 1, 1], &mut [buf::<f16>(&mut ab)]).unwrap();
    let got: Vec<f16> = from_bytes(&ab);
    assert_eq!(got[0], f16::from_f32(2048.0f32.sqrt()));
    assert_eq!(got[1], f16::from_f32(2.0));
}

#[test]
fn wrong_arguments_are_reported() {
    let f = vector_add(128, true);
    let mut xb = vec![0u8; 16];
    let err = run(&f, [1, 1, 1], &mut [buf::<f32>(&mut xb)]).unwrap_err();
    assert!(matches!(err, InterpError::Arguments { .. }), "{err}");
}
