//! Each test breaks one rule and checks that the verifier names that rule and the op.

use tm_core::Loc;
use tm_tile::*;

const HEADER: &str =
    "tt.func @k(%p: ptr<f32> {arg=0}, %q: ptr<i32> {arg=1}, %n: i32 {arg=2}, %c: i1 {arg=3}) {\n";

/// Parse a body (the parser accepts ill-typed IR) and return the verifier's complaint.
fn complaint(body: &str) -> VerifyError {
    let text = format!("{HEADER}{body}}}\n");
    let f = parse(&text).unwrap_or_else(|e| panic!("test text does not parse: {e}\n{text}"));
    match verify(&f) {
        Ok(()) => panic!("verifier accepted:\n{text}"),
        Err(e) => e,
    }
}

macro_rules! broken {
    ($name:ident, $body:expr, message: $msg:expr, op: $op:expr) => {
        #[test]
        fn $name() {
            let e = complaint($body);
            assert!(e.message.contains($msg), "message: {}", e);
            assert_eq!(e.op.as_deref(), Some($op), "{}", e);
        }
    };
}

#[test]
fn well_formed_ir_passes() {
    let text = format!("{HEADER}  %0 = add %n, %n : i32\n  return\n}}\n");
    verify(&parse(&text).unwrap()).unwrap();
}

broken!(
    value_from_sibling_region_does_not_dominate,
    "  %0 = if %c : i32 {\n    %1 = constant {value=1} : i32\n    yield %1\n  } {\n    yield %1\n  }\n",
    message: "operand %1 does not dominate this use",
    op: "yield %1"
);

broken!(
    value_from_region_used_after_it,
    "  if %c {\n    %0 = constant {value=1} : i32\n    yield\n  } {\n    yield\n  }\n  %1 = add %0, %0 : i32\n",
    message: "operand %0 does not dominate",
    op: "%1 = add %0, %0 : i32"
);

broken!(
    use_before_definition,
    "  %0 = add %1, %n : i32\n  %1 = constant {value=1} : i32\n",
    message: "operand %1 does not dominate",
    op: "%0 = add %1, %n : i32"
);

broken!(
    elementwise_shapes_differ,
    "  %0 = make_range {start=0, end=4} : tensor<4xi32>\n  %1 = make_range {start=0, end=8} : tensor<8xi32>\n  %2 = add %0, %1 : tensor<4xi32>\n",
    message: "operand types differ: tensor<4xi32> and tensor<8xi32>",
    op: "%2 = add %0, %1 : tensor<4xi32>"
);

broken!(
    splat_of_a_tensor,
    "  %0 = make_range {start=0, end=4} : tensor<4xi32>\n  %1 = splat %0 : tensor<4xi32>\n",
    message: "splat takes a scalar to a tensor",
    op: "%1 = splat %0 : tensor<4xi32>"
);

broken!(
    broadcast_changes_rank,
    "  %0 = make_range {start=0, end=4} : tensor<4xi32>\n  %1 = broadcast %0 : tensor<4x4xi32>\n",
    message: "broadcast keeps the rank",
    op: "%1 = broadcast %0 : tensor<4x4xi32>"
);

broken!(
    broadcast_grows_a_dimension_that_is_not_one,
    "  %0 = make_range {start=0, end=4} : tensor<4xi32>\n  %1 = reshape %0 : tensor<2x2xi32>\n  %2 = broadcast %1 : tensor<4x2xi32>\n",
    message: "only grows size-1 dimensions",
    op: "%2 = broadcast %1 : tensor<4x2xi32>"
);

broken!(
    expand_dims_result_shape,
    "  %0 = make_range {start=0, end=4} : tensor<4xi32>\n  %1 = expand_dims {axis=0} %0 : tensor<4x1xi32>\n",
    message: "the result must be tensor<1x4xi32>",
    op: "%1 = expand_dims {axis=0} %0 : tensor<4x1xi32>"
);

broken!(
    reshape_changes_element_count,
    "  %0 = make_range {start=0, end=4} : tensor<4xi32>\n  %1 = reshape %0 : tensor<2x4xi32>\n",
    message: "reshape keeps the number of elements",
    op: "%1 = reshape %0 : tensor<2x4xi32>"
);

broken!(
    permute_with_repeated_axis,
    "  %0 = make_range {start=0, end=4} : tensor<4xi32>\n  %1 = reshape %0 : tensor<2x2xi32>\n  %2 = permute {perm=[0, 0]} %1 : tensor<2x2xi32>\n",
    message: "[0, 0] is not a permutation of 0..2",
    op: "%2 = permute {perm=[0, 0]} %1 : tensor<2x2xi32>"
);

broken!(
    dimension_not_power_of_two,
    "  %0 = make_range {start=0, end=3} : tensor<3xi32>\n",
    message: "type tensor<3xi32> has a dimension that is not a power of two",
    op: "%0 = make_range {start=0, end=3} : tensor<3xi32>"
);

broken!(
    load_mask_of_wrong_shape,
    "  %0 = make_range {start=0, end=4} : tensor<4xi32>\n  %1 = splat %p : tensor<4xptr<f32>>\n  %2 = addptr %1, %0 : tensor<4xptr<f32>>\n  %3 = load {mask} %2, %c : tensor<4xf32>\n",
    message: "the mask must be tensor<4xi1>, not i1",
    op: "%3 = load {mask} %2, %c : tensor<4xf32>"
);

broken!(
    load_result_is_not_the_pointee,
    "  %0 = load %p : i32\n",
    message: "the result must be f32, not i32",
    op: "%0 = load %p : i32"
);

broken!(
    store_value_of_wrong_type,
    "  store %p, %n\n",
    message: "the stored value must be f32, not i32",
    op: "store %p, %n"
);

broken!(
    addptr_with_float_offsets,
    "  %0 = constant {value=1.0} : f32\n  %1 = addptr %p, %0 : ptr<f32>\n",
    message: "addptr's offsets must be integers",
    op: "%1 = addptr %p, %0 : ptr<f32>"
);

broken!(
    for_yields_wrong_type,
    "  %0 = constant {value=0} : i32\n  %1 = constant {value=1.0} : f32\n  %2 = for %0, %n, %n, %1 : f32 {\n    ^bb(%3: i32, %4: f32):\n    yield %3\n  }\n",
    message: "the loop body yields (%3: i32) but must yield (f32)",
    op: "%2 = for %0, %n, %n, %1 : f32 {...}"
);

broken!(
    for_region_args_do_not_match,
    "  %0 = constant {value=0} : i32\n  %1 = for %0, %n, %n, %0 : i32 {\n    ^bb(%2: i32):\n    yield %2\n  }\n",
    message: "the loop body takes arguments (i32, i32) but has (i32)",
    op: "%1 = for %0, %n, %n, %0 : i32 {...}"
);

broken!(
    if_region_without_yield,
    "  %0 = if %c : i32 {\n    yield %n\n  } {\n    %1 = add %n, %n : i32\n  }\n",
    message: "a region of this op does not end in 'yield'",
    op: "%0 = if %c : i32 {...} {...}"
);

broken!(
    if_condition_not_i1,
    "  if %n {\n    yield\n  } {\n    yield\n  }\n",
    message: "'if' takes one i1 scalar condition",
    op: "if %n {...} {...}"
);

broken!(
    while_condition_passes_wrong_types,
    "  %0 = while %n : i32 {\n    ^bb(%1: i32):\n    condition %c, %c\n  } {\n    ^bb(%2: i32):\n    yield %2\n  }\n",
    message: "the before region passes (i1) but the results are (i32)",
    op: "%0 = while %n : i32 {...} {...}"
);

broken!(
    while_before_region_ends_in_yield,
    "  while %n {\n    ^bb(%0: i32):\n    yield %0\n  } {\n    yield %n\n  }\n",
    message: "'yield' is not allowed here: the 'before' region of 'while' ends in 'condition'",
    op: "yield %0"
);

broken!(
    reduce_combine_takes_wrong_arguments,
    "  %0 = make_range {start=0, end=4} : tensor<4xi32>\n  %1 = reduce {axis=0} %0 : i32 {\n    ^bb(%2: i32):\n    yield %2\n  }\n",
    message: "the combine region takes arguments (i32, i32) but has (i32)",
    op: "%1 = reduce {axis=0} %0 : i32 {...}"
);

broken!(
    reduce_result_keeps_axis,
    "  %0 = make_range {start=0, end=4} : tensor<4xi32>\n  %1 = reduce {axis=0} %0 : tensor<4xi32> {\n    ^bb(%2: i32, %3: i32):\n    yield %2\n  }\n",
    message: "result 0 must be i32, not tensor<4xi32>",
    op: "%1 = reduce {axis=0} %0 : tensor<4xi32> {...}"
);

broken!(
    dot_inner_dimensions_differ,
    "  %0 = constant {value=1.0} : tensor<16x32xf32>\n  %1 = constant {value=1.0} : tensor<16x16xf32>\n  %2 = dot {precision=tf32, max_num_imprecise_acc=0} %0, %1, %1 : tensor<16x16xf32>\n",
    message: "dot needs a [.., M, K], b [.., K, N], acc [.., M, N]",
    op: "%2 = dot {precision=tf32, max_num_imprecise_acc=0} %0, %1, %1 : tensor<16x16xf32>"
);

broken!(
    terminator_in_the_middle,
    "  for %n, %n, %n {\n    ^bb(%0: i32):\n    yield\n    %1 = add %0, %0 : i32\n  }\n",
    message: "terminator 'yield' is not the last op of its block",
    op: "yield"
);

broken!(
    return_inside_a_region,
    "  if %c {\n    return\n  } {\n    yield\n  }\n",
    message: "'return' is not allowed here: this region ends in 'yield'",
    op: "return"
);

broken!(
    float_literal_for_int_constant,
    "  %0 = constant {value=1.5} : i32\n",
    message: "float literal 1.5 for a value of type i32",
    op: "%0 = constant {value=1.5} : i32"
);

broken!(
    int_literal_out_of_range,
    "  %0 = constant {value=256} : u8\n",
    message: "literal 256 is out of range for u8",
    op: "%0 = constant {value=256} : u8"
);

broken!(
    exp_of_an_integer,
    "  %0 = exp %n : i32\n",
    message: "'exp' does not apply to i32",
    op: "%0 = exp %n : i32"
);

broken!(
    shift_of_a_float,
    "  %0 = constant {value=1.0} : f32\n  %1 = shl %0, %0 : f32\n",
    message: "'shl' does not apply to f32",
    op: "%1 = shl %0, %0 : f32"
);

broken!(
    make_range_type_mismatch,
    "  %0 = make_range {start=0, end=8} : tensor<4xi32> loc(0:3:9)\n",
    message: "the result must be tensor<8xi32>, not tensor<4xi32>",
    op: "%0 = make_range {start=0, end=8} : tensor<4xi32> loc(0:3:9)"
);

broken!(
    select_condition_shape,
    "  %0 = make_range {start=0, end=4} : tensor<4xi32>\n  %1 = select %c, %0, %0 : tensor<4xi32>\n",
    message: "the condition must be i1 of the values' shape, not i1",
    op: "%1 = select %c, %0, %0 : tensor<4xi32>"
);

#[test]
fn op_placed_twice_is_rejected() {
    let mut f = Function::new("k");
    let mut b = Builder::new(&mut f);
    let one = b.int(ScalarType::I32, 1);
    let _ = b.binary(BinaryOp::Add, one, one);
    let first = f.blocks[f.body].ops[0];
    let body = f.body;
    f.blocks[body].ops.push(first);
    let e = verify(&f).unwrap_err();
    assert_eq!(e.message, "op is placed in more than one block");
    assert_eq!(e.op.as_deref(), Some("%0 = constant {value=1} : i32"));
}

#[test]
fn parameter_names_must_be_identifiers() {
    let mut f = Function::new("k");
    f.add_param("not ok", Type::scalar(ScalarType::I32), 0, false);
    let e = verify(&f).unwrap_err();
    assert!(e.message.contains("is not an identifier"), "{e}");
    assert_eq!(e.op, None);
}

#[test]
fn error_display_shows_rule_and_op() {
    let mut f = Function::new("k");
    let mut b = Builder::new(&mut f);
    b.loc = Loc::new(0, 4, 2);
    let x = b.float(ScalarType::F32, 2.0);
    b.unary(UnaryOp::Not, x);
    let e = verify(&f).unwrap_err();
    assert_eq!(
        e.to_string(),
        "'not' does not apply to f32\n  in: %1 = not %0 : f32 loc(0:4:2)"
    );
}
