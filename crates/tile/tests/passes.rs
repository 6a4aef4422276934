//! Text in, text out: each pass on a small function, output compared with a snapshot.

use tm_tile::*;

fn run(pass: fn(&mut Function) -> bool, text: &str) -> String {
    let mut f = parse(text).unwrap_or_else(|e| panic!("{e}"));
    verify(&f).unwrap_or_else(|e| panic!("input: {e}"));
    pass(&mut f);
    verify(&f).unwrap_or_else(|e| panic!("output: {e}\n{}", print(&f)));
    let out = print(&f);
    assert_eq!(print(&parse(&out).unwrap()), out);
    out
}

fn pipeline(f: &mut Function) -> bool {
    run_default_pipeline(f)
}

#[test]
fn fold_integers_wrap_per_type() {
    let out = run(
        fold,
        "tt.func @k(%q: ptr<i8> {arg=0}) {
  %0 = constant {value=127} : i8
  %1 = constant {value=1} : i8
  %2 = add %0, %1 : i8
  %3 = constant {value=0} : u32
  %4 = constant {value=1} : u32
  %5 = sub %3, %4 : u32
  %6 = constant {value=0} : i8
  %7 = div %1, %6 : i8
  %8 = shr %5, %4 : u32
  %9 = cast %5 : i8
  store %q, %2
  store %q, %7
  store %q, %9
  return
}
",
    );
    // Division by zero is undefined on the device: it stays.
    insta::assert_snapshot!(out, @r"
    tt.func @k(%q: ptr<i8> {arg=0}) {
      %0 = constant {value=127} : i8
      %1 = constant {value=1} : i8
      %2 = constant {value=-128} : i8
      %3 = constant {value=0} : u32
      %4 = constant {value=1} : u32
      %5 = constant {value=4294967295} : u32
      %6 = constant {value=0} : i8
      %7 = div %1, %6 : i8
      %8 = constant {value=2147483647} : u32
      %9 = constant {value=-1} : i8
      store %q, %2
      store %q, %7
      store %q, %9
      return
    }
    ");
}

#[test]
fn fold_tensor_constants_through_shape_ops() {
    let out = run(
        pipeline,
        "tt.func @k(%p: ptr<i32> {arg=0}) {
  %0 = constant {value=3} : i32
  %1 = splat %0 : tensor<8xi32>
  %2 = expand_dims {axis=0} %1 : tensor<1x8xi32>
  %3 = broadcast %2 : tensor<4x8xi32>
  %4 = constant {value=2} : tensor<4x8xi32>
  %5 = mul %3, %4 : tensor<4x8xi32>
  %6 = make_range {start=0, end=32} : tensor<32xi32>
  %7 = reshape %6 : tensor<4x8xi32>
  %8 = add %7, %5 : tensor<4x8xi32>
  %9 = splat %p : tensor<4x8xptr<i32>>
  %10 = addptr %9, %8 : tensor<4x8xptr<i32>>
  store %10, %8
  return
}
",
    );
    insta::assert_snapshot!(out, @r"
    tt.func @k(%p: ptr<i32> {arg=0}) {
      %0 = constant {value=6} : tensor<4x8xi32>
      %1 = make_range {start=0, end=32} : tensor<32xi32>
      %2 = reshape %1 : tensor<4x8xi32>
      %3 = add %2, %0 : tensor<4x8xi32>
      %4 = splat %p : tensor<4x8xptr<i32>>
      %5 = addptr %4, %3 : tensor<4x8xptr<i32>>
      store %5, %3
      return
    }
    ");
}

#[test]
fn fold_floats_in_their_precision() {
    let out = run(
        pipeline,
        "tt.func @k(%p: ptr<f32> {arg=0}, %h: ptr<f16> {arg=1}, %d: ptr<f64> {arg=2}) {
  %0 = constant {value=0.1} : f32
  %1 = constant {value=0.2} : f32
  %2 = add %0, %1 : f32
  store %p, %2
  %3 = constant {value=0.1} : f64
  %4 = constant {value=0.2} : f64
  %5 = add %3, %4 : f64
  store %d, %5
  %6 = constant {value=0.1} : f16
  %7 = add %6, %6 : f16
  store %h, %7
  %8 = exp %0 : f32
  store %p, %8
  %9 = constant {value=-0.0} : f32
  %10 = sqrt %9 : f32
  %11 = cmp {pred=ne} %10, %10 : i1
  %12 = select %11, %0, %10 : f32
  store %p, %12
  return
}
",
    );
    // f16 arithmetic and transcendental functions are left to the device.
    insta::assert_snapshot!(out, @r"
    tt.func @k(%p: ptr<f32> {arg=0}, %h: ptr<f16> {arg=1}, %d: ptr<f64> {arg=2}) {
      %0 = constant {value=0.1} : f32
      %1 = constant {value=0.30000001192092896} : f32
      store %p, %1
      %2 = constant {value=0.30000000000000004} : f64
      store %d, %2
      %3 = constant {value=0.1} : f16
      %4 = add %3, %3 : f16
      store %h, %4
      %5 = exp %0 : f32
      store %p, %5
      %6 = constant {value=-0.0} : f32
      store %p, %6
      return
    }
    ");
}

#[test]
fn fold_identities() {
    let out = run(
        pipeline,
        "tt.func @k(%p: ptr<i32> {arg=0}, %f: ptr<f32> {arg=1}, %n: i32 {arg=2}, %x: f32 {arg=3}) {
  %0 = constant {value=0} : i32
  %1 = constant {value=1} : i32
  %2 = add %n, %0 : i32
  %3 = mul %1, %2 : i32
  store %p, %3
  %4 = mul %n, %0 : i32
  store %p, %4
  %5 = sub %n, %n : i32
  store %p, %5
  %6 = constant {value=0.0} : f32
  %7 = add %x, %6 : f32
  store %f, %7
  %8 = constant {value=1.0} : f32
  %9 = mul %x, %8 : f32
  store %f, %9
  %10 = constant {value=-0.0} : f32
  %11 = add %10, %x : f32
  store %f, %11
  return
}
",
    );
    // x + 0.0 stays: it turns -0.0 into +0.0.
    insta::assert_snapshot!(out, @r"
    tt.func @k(%p: ptr<i32> {arg=0}, %f: ptr<f32> {arg=1}, %n: i32 {arg=2}, %x: f32 {arg=3}) {
      %0 = constant {value=0} : i32
      store %p, %n
      store %p, %0
      store %p, %0
      %1 = constant {value=0.0} : f32
      %2 = add %x, %1 : f32
      store %f, %2
      store %f, %x
      store %f, %x
      return
    }
    ");
}

#[test]
fn fold_inlines_if_with_constant_condition() {
    let out = run(
        pipeline,
        "tt.func @k(%p: ptr<i32> {arg=0}, %n: i32 {arg=1}) {
  %0 = constant {value=3} : i32
  %1 = constant {value=4} : i32
  %2 = cmp {pred=lt} %0, %1 : i1
  %3 = if %2 : i32 {
    %4 = mul %n, %1 : i32
    store %p, %4
    yield %4
  } {
    yield %n
  }
  %5 = add %3, %0 : i32
  store %p, %5
  return
}
",
    );
    insta::assert_snapshot!(out, @r"
    tt.func @k(%p: ptr<i32> {arg=0}, %n: i32 {arg=1}) {
      %0 = constant {value=3} : i32
      %1 = constant {value=4} : i32
      %2 = mul %n, %1 : i32
      store %p, %2
      %3 = add %2, %0 : i32
      store %p, %3
      return
    }
    ");
}

#[test]
fn fold_removes_zero_trip_for() {
    let out = run(
        pipeline,
        "tt.func @k(%p: ptr<f32> {arg=0}) {
  %0 = constant {value=8} : i32
  %1 = constant {value=4} : i32
  %2 = constant {value=1} : i32
  %3 = constant {value=1.5} : f32
  %4 = for %0, %1, %2, %3 : f32 {
    ^bb(%5: i32, %6: f32):
    store %p, %6
    %7 = add %6, %6 : f32
    yield %7
  }
  store %p, %4
  %8 = for %1, %0, %2, %3 : f32 {
    ^bb(%9: i32, %10: f32):
    yield %10
  }
  store %p, %8
  return
}
",
    );
    // The first loop runs zero times; the second runs but is kept (it is not empty).
    insta::assert_snapshot!(out, @r"
    tt.func @k(%p: ptr<f32> {arg=0}) {
      %0 = constant {value=8} : i32
      %1 = constant {value=4} : i32
      %2 = constant {value=1} : i32
      %3 = constant {value=1.5} : f32
      store %p, %3
      %4 = for %1, %0, %2, %3 : f32 {
        ^bb(%5: i32, %6: f32):
        yield %6
      }
      store %p, %4
      return
    }
    ");
}

#[test]
fn fold_select_with_splat_condition() {
    let out = run(
        pipeline,
        "tt.func @k(%p: ptr<i32> {arg=0}) {
  %0 = constant {value=0} : i1
  %1 = splat %0 : tensor<4xi1>
  %2 = make_range {start=0, end=4} : tensor<4xi32>
  %3 = make_range {start=4, end=8} : tensor<4xi32>
  %4 = select %1, %2, %3 : tensor<4xi32>
  %5 = splat %p : tensor<4xptr<i32>>
  %6 = addptr %5, %4 : tensor<4xptr<i32>>
  store %6, %4
  return
}
",
    );
    insta::assert_snapshot!(out, @r"
    tt.func @k(%p: ptr<i32> {arg=0}) {
      %0 = make_range {start=4, end=8} : tensor<4xi32>
      %1 = splat %p : tensor<4xptr<i32>>
      %2 = addptr %1, %0 : tensor<4xptr<i32>>
      store %2, %0
      return
    }
    ");
}

#[test]
fn cse_merges_within_scope_only() {
    let out = run(
        cse,
        "tt.func @k(%p: ptr<i32> {arg=0}, %n: i32 {arg=1}, %c: i1 {arg=2}) {
  %0 = add %n, %n : i32
  %1 = constant {value=7} : i32
  %2 = mul %0, %1 : i32
  %3 = constant {value=7} : i32
  %4 = mul %3, %0 : i32
  %5 = load %p : i32
  %6 = load %p : i32
  if %c {
    %7 = mul %0, %1 : i32
    %8 = sub %7, %n : i32
    store %p, %8
    yield
  } {
    %9 = sub %2, %n : i32
    store %p, %9
    yield
  }
  %10 = sub %4, %n : i32
  %11 = add %5, %6 : i32
  store %p, %10
  store %p, %11
  return
}
",
    );
    // Commutative operands match in either order; each branch may reuse the outer %2 but
    // not the other branch's values; loads are never merged.
    insta::assert_snapshot!(out, @r"
    tt.func @k(%p: ptr<i32> {arg=0}, %n: i32 {arg=1}, %c: i1 {arg=2}) {
      %0 = add %n, %n : i32
      %1 = constant {value=7} : i32
      %2 = mul %0, %1 : i32
      %3 = load %p : i32
      %4 = load %p : i32
      if %c {
        %5 = sub %2, %n : i32
        store %p, %5
        yield
      } {
        %6 = sub %2, %n : i32
        store %p, %6
        yield
      }
      %7 = sub %2, %n : i32
      %8 = add %3, %4 : i32
      store %p, %7
      store %p, %8
      return
    }
    ");
}

#[test]
fn dce_removes_dead_chains_and_pure_loops() {
    let out = run(
        dce,
        "tt.func @k(%p: ptr<i32> {arg=0}, %n: i32 {arg=1}) {
  %0 = add %n, %n : i32
  %1 = mul %0, %0 : i32
  %2 = load %p : i32
  %3 = load {volatile} %p : i32
  %4 = constant {value=0} : i32
  %5 = constant {value=1} : i32
  %6 = for %4, %n, %5, %4 : i32 {
    ^bb(%7: i32, %8: i32):
    %9 = add %8, %7 : i32
    yield %9
  }
  %10 = for %4, %n, %5, %4 : i32 {
    ^bb(%11: i32, %12: i32):
    store %p, %11
    yield %12
  }
  %13 = while %n : i32 {
    ^bb(%14: i32):
    %15 = cmp {pred=gt} %14, %4 : i1
    condition %15, %14
  } {
    ^bb(%16: i32):
    %17 = sub %16, %5 : i32
    yield %17
  }
  %18 = sub %n, %5 : i32
  store %p, %18
  return
}
",
    );
    // The loop with a store and the while (which may not terminate) stay.
    insta::assert_snapshot!(out, @r"
    tt.func @k(%p: ptr<i32> {arg=0}, %n: i32 {arg=1}) {
      %0 = load {volatile} %p : i32
      %1 = constant {value=0} : i32
      %2 = constant {value=1} : i32
      %3 = for %1, %n, %2, %1 : i32 {
        ^bb(%4: i32, %5: i32):
        store %p, %4
        yield %5
      }
      %6 = while %n : i32 {
        ^bb(%7: i32):
        %8 = cmp {pred=gt} %7, %1 : i1
        condition %8, %7
      } {
        ^bb(%9: i32):
        %10 = sub %9, %2 : i32
        yield %10
      }
      %11 = sub %n, %2 : i32
      store %p, %11
      return
    }
    ");
}

#[test]
fn pipeline_cleans_a_frontend_style_kernel() {
    let out = run(
        pipeline,
        "tt.func @k(%x: ptr<f32> {arg=0, div16}, %n: i32 {arg=1}) {
  %0 = program_id {axis=0} : i32
  %1 = constant {value=64} : i32
  %2 = mul %0, %1 : i32
  %3 = make_range {start=0, end=64} : tensor<64xi32>
  %4 = splat %2 : tensor<64xi32>
  %5 = add %4, %3 : tensor<64xi32>
  %6 = splat %n : tensor<64xi32>
  %7 = cmp {pred=lt} %5, %6 : tensor<64xi1>
  %8 = program_id {axis=0} : i32
  %9 = mul %8, %1 : i32
  %10 = splat %9 : tensor<64xi32>
  %11 = add %10, %3 : tensor<64xi32>
  %12 = splat %x : tensor<64xptr<f32>>
  %13 = addptr %12, %11 : tensor<64xptr<f32>>
  %14 = load {mask} %13, %7 : tensor<64xf32>
  %15 = constant {value=2.0} : f32
  %16 = constant {value=0.5} : f32
  %17 = mul %15, %16 : f32
  %18 = splat %17 : tensor<64xf32>
  %19 = mul %14, %18 : tensor<64xf32>
  %20 = constant {value=0} : i32
  %21 = splat %20 : tensor<64xi32>
  %22 = add %11, %21 : tensor<64xi32>
  %23 = addptr %12, %22 : tensor<64xptr<f32>>
  store {mask} %23, %19, %7
  return
}
",
    );
    insta::assert_snapshot!(out, @r"
    tt.func @k(%x: ptr<f32> {arg=0, div16}, %n: i32 {arg=1}) {
      %0 = program_id {axis=0} : i32
      %1 = constant {value=64} : i32
      %2 = mul %0, %1 : i32
      %3 = make_range {start=0, end=64} : tensor<64xi32>
      %4 = splat %2 : tensor<64xi32>
      %5 = add %4, %3 : tensor<64xi32>
      %6 = splat %n : tensor<64xi32>
      %7 = cmp {pred=lt} %5, %6 : tensor<64xi1>
      %8 = splat %x : tensor<64xptr<f32>>
      %9 = addptr %8, %5 : tensor<64xptr<f32>>
      %10 = load {mask} %9, %7 : tensor<64xf32>
      store {mask} %9, %10, %7
      return
    }
    ");
}

#[test]
fn passes_report_no_change_at_fixpoint() {
    let text = include_str!("kernels/vector_add.tile");
    let mut f = parse(text).unwrap();
    run_default_pipeline(&mut f);
    assert!(!fold(&mut f));
    assert!(!cse(&mut f));
    assert!(!dce(&mut f));
    assert_eq!(print(&f), text, "vector add has nothing to clean up");
}

#[test]
fn cse_keeps_zeros_of_different_sign_apart() {
    let out = run(
        cse,
        "tt.func @k(%p: ptr<f32> {arg=0}) {
  %0 = constant {value=0.0} : f32
  %1 = constant {value=-0.0} : f32
  %2 = constant {value=0.0} : f32
  store %p, %0
  store %p, %1
  store %p, %2
  return
}
",
    );
    insta::assert_snapshot!(out, @r"
    tt.func @k(%p: ptr<f32> {arg=0}) {
      %0 = constant {value=0.0} : f32
      %1 = constant {value=-0.0} : f32
      store %p, %0
      store %p, %1
      store %p, %0
      return
    }
    ");
}

#[test]
fn dot_acc_folds_add_of_zero_accumulated_dot() {
    // `acc += tl.dot(a, b)` in a K loop (both operand orders), then the cases that must stay:
    // a dot whose result is used twice, a dot accumulating into a nonzero constant, a dot
    // outside the loop whose add is inside it (folding would run it every iteration), and an
    // imprecisely accumulating dot.
    let out = run(
        fold_dot_acc,
        "tt.func @k(%p: ptr<f16> {arg=0}, %q: ptr<f32> {arg=1}, %n: i32 {arg=2}) {
  %0 = splat %p : tensor<16x16xptr<f16>>
  %1 = load %0 : tensor<16x16xf16>
  %2 = constant {value=0.0} : tensor<16x16xf32>
  %3 = constant {value=0} : i32
  %4 = constant {value=1} : i32
  %5 = constant {value=1.0} : tensor<16x16xf32>
  %6 = dot {precision=ieee, max_num_imprecise_acc=0} %1, %1, %2 : tensor<16x16xf32>
  %7 = for %3, %n, %4, %2 : tensor<16x16xf32> {
    ^bb(%8: i32, %9: tensor<16x16xf32>):
    %10 = dot {precision=ieee, max_num_imprecise_acc=0} %1, %1, %2 : tensor<16x16xf32>
    %11 = add %9, %10 : tensor<16x16xf32>
    %12 = dot {precision=ieee, max_num_imprecise_acc=0} %1, %1, %2 : tensor<16x16xf32>
    %13 = add %12, %11 : tensor<16x16xf32>
    %14 = dot {precision=ieee, max_num_imprecise_acc=0} %1, %1, %2 : tensor<16x16xf32>
    %15 = add %13, %14 : tensor<16x16xf32>
    %16 = add %15, %14 : tensor<16x16xf32>
    %17 = dot {precision=ieee, max_num_imprecise_acc=0} %1, %1, %5 : tensor<16x16xf32>
    %18 = add %16, %17 : tensor<16x16xf32>
    %19 = add %18, %6 : tensor<16x16xf32>
    %21 = dot {precision=ieee, max_num_imprecise_acc=32} %1, %1, %2 : tensor<16x16xf32>
    %22 = add %19, %21 : tensor<16x16xf32>
    yield %22
  }
  %20 = splat %q : tensor<16x16xptr<f32>>
  store %20, %7
  return
}
",
    );
    insta::assert_snapshot!(out, @r"
    tt.func @k(%p: ptr<f16> {arg=0}, %q: ptr<f32> {arg=1}, %n: i32 {arg=2}) {
      %0 = splat %p : tensor<16x16xptr<f16>>
      %1 = load %0 : tensor<16x16xf16>
      %2 = constant {value=0.0} : tensor<16x16xf32>
      %3 = constant {value=0} : i32
      %4 = constant {value=1} : i32
      %5 = constant {value=1.0} : tensor<16x16xf32>
      %6 = dot {precision=ieee, max_num_imprecise_acc=0} %1, %1, %2 : tensor<16x16xf32>
      %7 = for %3, %n, %4, %2 : tensor<16x16xf32> {
        ^bb(%8: i32, %9: tensor<16x16xf32>):
        %10 = dot {precision=ieee, max_num_imprecise_acc=0} %1, %1, %9 : tensor<16x16xf32>
        %11 = dot {precision=ieee, max_num_imprecise_acc=0} %1, %1, %10 : tensor<16x16xf32>
        %12 = dot {precision=ieee, max_num_imprecise_acc=0} %1, %1, %2 : tensor<16x16xf32>
        %13 = add %11, %12 : tensor<16x16xf32>
        %14 = add %13, %12 : tensor<16x16xf32>
        %15 = dot {precision=ieee, max_num_imprecise_acc=0} %1, %1, %5 : tensor<16x16xf32>
        %16 = add %14, %15 : tensor<16x16xf32>
        %17 = add %16, %6 : tensor<16x16xf32>
        %18 = dot {precision=ieee, max_num_imprecise_acc=32} %1, %1, %2 : tensor<16x16xf32>
        %19 = add %17, %18 : tensor<16x16xf32>
        yield %19
      }
      %20 = splat %q : tensor<16x16xptr<f32>>
      store %20, %7
      return
    }
    ");
}
