//! Kernels given in Tile IR's text form (tm_tile::parse) and run.

mod common;

use common::*;
use tm_core::ScalarType;
use tm_interp::{ArgValue, ScalarValue};
use tm_tile::{BinaryOp, Builder, CmpPred, OpKind, Type};

/// The example of tm-tile's text-form documentation: a masked load of 128 lanes, a sum, and
/// a store back.
const DOC_EXAMPLE: &str = "\
tt.func @add(%x_ptr: ptr<f32> {arg=0, div16}, %out_ptr: ptr<f32> {arg=1, div16}, %n: i32 {arg=2}) {
  %0 = program_id {axis=0} : i32
  %1 = constant {value=128} : i32
  %2 = mul %0, %1 : i32
  %3 = make_range {start=0, end=128} : tensor<128xi32>
  %4 = splat %2 : tensor<128xi32>
  %5 = add %4, %3 : tensor<128xi32>
  %6 = splat %n : tensor<128xi32>
  %7 = cmp {pred=lt} %5, %6 : tensor<128xi1>
  %8 = splat %x_ptr : tensor<128xptr<f32>>
  %9 = addptr %8, %5 : tensor<128xptr<f32>>
  %10 = load {mask} %9, %7 : tensor<128xf32>
  %11 = reduce {axis=0} %10 : f32 {
    ^bb(%12: f32, %13: f32):
    %14 = add %12, %13 : f32
    yield %14
  }
  %15 = splat %11 : tensor<128xf32>
  %16 = add %10, %15 : tensor<128xf32>
  store {mask} %9, %16, %7
  return
}
";

#[test]
fn parsed_text_runs() {
    let f = tm_tile::parse(DOC_EXAMPLE).unwrap();
    let n = 300usize;
    let x: Vec<f32> = (0..n).map(|i| (i % 10) as f32).collect();
    let mut xb = bytes(&x);
    let mut ob = vec![0u8; 4];
    run(
        &f,
        [3, 1, 1],
        &mut [
            buf::<f32>(&mut xb),
            buf::<f32>(&mut ob),
            ArgValue::Scalar(ScalarValue::I32(n as i32)),
        ],
    )
    .unwrap();
    let got: Vec<f32> = from_bytes(&xb);
    for p in 0..3 {
        let lo = p * 128;
        let hi = (lo + 128).min(n);
        let sum: f32 = x[lo..hi].iter().sum();
        for i in lo..hi {
            assert_eq!(got[i], x[i] + sum, "element {i}");
        }
    }
}

/// `while i < n: acc = acc * 2 + 1; i += 1`, built, printed, parsed back and run.
#[test]
fn while_loop_round_trips_through_text_and_runs() {
    let mut f = function("w", "w.py", "");
    let o = f.add_param("o", ptr(ScalarType::I32), 0, false);
    let n = f.add_param("n", Type::scalar(ScalarType::I32), 1, false);
    let i32t = Type::scalar(ScalarType::I32);
    let acct = Type::tensor(tm_tile::Elem::Scalar(ScalarType::I32), vec![4]);
    let before = f.new_block(&[i32t.clone(), acct.clone()]);
    let after = f.new_block(&[i32t.clone(), acct.clone()]);
    {
        let args = f.blocks[before].args.clone();
        let mut b = Builder::at_block(&mut f, before);
        let c = b.cmp(CmpPred::Lt, args[0], n);
        b.f.push_op(
            before,
            OpKind::Condition,
            vec![c, args[0], args[1]],
            vec![],
            vec![],
            b.loc,
        );
    }
    {
        let args = f.blocks[after].args.clone();
        let mut b = Builder::at_block(&mut f, after);
        let one = b.int(ScalarType::I32, 1);
        let i1 = b.binary(BinaryOp::Add, args[0], one);
        let two = splat_i32(&mut b, 2, vec![4]);
        let onet = splat_i32(&mut b, 1, vec![4]);
        let a = b.binary(BinaryOp::Mul, args[1], two);
        let a = b.binary(BinaryOp::Add, a, onet);
        b.yield_(vec![i1, a]);
    }
    let mut b = Builder::new(&mut f);
    let zero = b.int(ScalarType::I32, 0);
    let r = b.make_range(0, 4);
    let op = b.f.push_op(
        b.block,
        OpKind::While,
        vec![zero, r],
        vec![i32t, acct],
        vec![before, after],
        b.loc,
    );
    let acc = b.f.ops[op].results[1];
    let p = b.splat(o, vec![4]);
    let p = b.addptr(p, r);
    b.store(p, acc, None);
    b.ret();
    tm_tile::verify(&f).unwrap();
    let text = tm_tile::print(&f);
    let g = tm_tile::parse(&text).unwrap();
    assert_eq!(tm_tile::print(&g), text);
    for (func, iters) in [(&f, 3), (&g, 5), (&g, 0)] {
        let mut ob = vec![0u8; 16];
        run(
            func,
            [1, 1, 1],
            &mut [
                buf::<i32>(&mut ob),
                ArgValue::Scalar(ScalarValue::I32(iters)),
            ],
        )
        .unwrap();
        let want: Vec<i32> = (0..4)
            .map(|mut a: i32| {
                for _ in 0..iters {
                    a = a * 2 + 1;
                }
                a
            })
            .collect();
        assert_eq!(from_bytes::<i32>(&ob), want, "{iters} iterations");
    }
}

/// IR the verifier would refuse still runs into a reported error, never a panic, and the
/// message names the op, the kernel, where it is and which program hit it.
#[test]
fn ill_formed_ops_are_reported_with_their_place() {
    let text = "\
#file0 = \"k.py\"
tt.func @k(%p: ptr<f32> {arg=0}) {
  %0 = make_range {start=0, end=4} : tensor<4xi32>
  %1 = cast %0 : tensor<4xf32>
  %2 = reduce {axis=1} %1 : f32 {
    ^bb(%3: f32, %4: f32):
    %5 = add %3, %4 : f32
    yield %5
  } loc(0:7:5)
  store %p, %2
  return
}
";
    let f = tm_tile::parse(text).unwrap();
    assert!(tm_tile::verify(&f).is_err());
    let mut pb = vec![0u8; 4];
    let err = run(&f, [2, 1, 1], &mut [buf::<f32>(&mut pb)]).unwrap_err();
    assert!(matches!(
        err,
        tm_interp::InterpError::Op { op: "reduce", .. }
    ));
    assert_eq!(
        err.to_string(),
        "cannot run `reduce` in kernel `k` at k.py:7:5, program_id (0, 0, 0): reduce axis out of range"
    );

    // An op without a location says so.
    let f = tm_tile::parse(&text.replace(" loc(0:7:5)", "")).unwrap();
    let err = run(&f, [1, 1, 1], &mut [buf::<f32>(&mut pb)]).unwrap_err();
    assert!(
        err.to_string()
            .contains("`k` at an unknown location, program_id"),
        "{err}"
    );
}

#[test]
fn a_store_through_a_number_is_reported() {
    let text = "\
tt.func @k(%n: i32 {arg=0}) {
  store %n, %n
  return
}
";
    let f = tm_tile::parse(text).unwrap();
    let err = run(&f, [1, 1, 1], &mut [ArgValue::Scalar(ScalarValue::I32(1))]).unwrap_err();
    assert!(
        err.to_string().contains("store through a non-pointer"),
        "{err}"
    );
}

#[test]
fn integer_dot_accumulates_exactly() {
    let text = "\
tt.func @d(%o: ptr<i32> {arg=0}) {
  %0 = make_range {start=0, end=4} : tensor<4xi32>
  %1 = reshape %0 : tensor<2x2xi32>
  %2 = constant {value=10} : tensor<2x2xi32>
  %3 = dot {precision=ieee, max_num_imprecise_acc=0} %1, %1, %2 : tensor<2x2xi32>
  %4 = reshape %3 : tensor<4xi32>
  %5 = splat %o : tensor<4xptr<i32>>
  %6 = addptr %5, %0 : tensor<4xptr<i32>>
  store %6, %4
  return
}
";
    let f = tm_tile::parse(text).unwrap();
    tm_tile::verify(&f).unwrap();
    let mut ob = vec![0u8; 16];
    run(&f, [1, 1, 1], &mut [buf::<i32>(&mut ob)]).unwrap();
    // [[0, 1], [2, 3]] squared is [[2, 3], [6, 11]].
    assert_eq!(from_bytes::<i32>(&ob), vec![12, 13, 16, 21]);
}
