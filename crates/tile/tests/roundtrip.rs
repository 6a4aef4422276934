//! The text form round-trips exactly, and parsing bad text fails without panicking.

use proptest::prelude::*;
use tm_core::Loc;
use tm_tile::*;

const KERNELS: &[(&str, &str)] = &[
    ("vector_add", include_str!("kernels/vector_add.tile")),
    ("copy2d", include_str!("kernels/copy2d.tile")),
    ("for_carried", include_str!("kernels/for_carried.tile")),
    ("if_else", include_str!("kernels/if_else.tile")),
    ("while", include_str!("kernels/while.tile")),
    ("argmax", include_str!("kernels/argmax.tile")),
    ("misc", include_str!("kernels/misc.tile")),
    ("doc_example", include_str!("kernels/doc_example.tile")),
];

fn roundtrip(name: &str, text: &str) {
    let f = parse(text).unwrap_or_else(|e| panic!("{name}: {e}"));
    verify(&f).unwrap_or_else(|e| panic!("{name}: {e}"));
    let printed = print(&f);
    assert_eq!(printed, text, "{name}: print(parse(text)) differs");
    let again = parse(&printed).unwrap();
    assert_eq!(print(&again), printed, "{name}: second round differs");
}

#[test]
fn kernels_round_trip_exactly() {
    for (name, text) in KERNELS {
        roundtrip(name, text);
    }
}

#[test]
fn special_float_literals_keep_their_bits() {
    let f = parse(include_str!("kernels/misc.tile")).unwrap();
    let mut bits = Vec::new();
    f.walk(|op| {
        if let OpKind::Constant(Literal::Float(v)) = f.ops[op].kind {
            bits.push(v.to_bits());
        }
    });
    assert!(bits.contains(&0x7ff8000000000001), "NaN payload lost");
    assert!(bits.contains(&f64::NAN.to_bits()));
    assert!(bits.contains(&(-0.0f64).to_bits()));
    assert!(bits.contains(&f64::INFINITY.to_bits()));
    assert!(bits.contains(&1e-7f64.to_bits()));
}

#[test]
fn parse_reads_attributes_names_and_files() {
    let f = parse(include_str!("kernels/misc.tile")).unwrap();
    assert_eq!(f.name, "weird name");
    assert_eq!(f.files.len(), 2);
    assert_eq!(f.files[1].path, "lib \"quoted\"\n.py");
    assert_eq!(f.params[2].name, "k");
    assert_eq!(f.params[2].arg_index, 3);
    assert!(f.params[2].divisible_by_16);
    assert!(!f.params[1].divisible_by_16);
    let mut kinds = Vec::new();
    f.walk(|op| kinds.push((f.ops[op].kind.clone(), f.ops[op].loc)));
    assert!(kinds.contains(&(
        OpKind::Load {
            has_mask: false,
            has_other: false,
            volatile: true
        },
        Loc::new(1, 2, 3)
    )));
    assert!(kinds.iter().any(|(k, _)| *k
        == OpKind::Print {
            prefix: "x = \u{1b}\t".into(),
            hex: true
        }));
    assert!(kinds.iter().any(|(k, _)| *k
        == OpKind::Scan {
            axis: 0,
            reverse: true
        }));
}

/// Built with the builder, printed, parsed back: the same text; numbering follows print
/// order, not arena order.
#[test]
fn builder_output_round_trips() {
    let mut f = Function::new("built");
    let x = f.add_param("x", Type::ptr(ScalarType::F32), 0, true);
    let n = f.add_param("n", Type::scalar(ScalarType::I32), 1, false);
    let mut b = Builder::new(&mut f);
    let zero = b.int(ScalarType::I32, 0);
    let one = b.int(ScalarType::I32, 1);
    let acc0 = b.float(ScalarType::F32, 0.0);
    let r = b.for_(zero, n, one, vec![acc0], |b, iv, args| {
        let p = b.addptr(x, iv);
        let v = b.load(p, None, None);
        vec![b.binary(BinaryOp::Add, args[0], v)]
    });
    let c = b.cmp(CmpPred::Gt, r[0], acc0);
    let sel = b.if_(
        c,
        vec![Type::scalar(ScalarType::F32)],
        |_| vec![r[0]],
        |b| vec![b.unary(UnaryOp::Neg, r[0])],
    );
    b.store(x, sel[0], None);
    b.ret();
    verify(&f).unwrap();
    let text = print(&f);
    insta::assert_snapshot!(text, @r"
    tt.func @built(%x: ptr<f32> {arg=0, div16}, %n: i32 {arg=1}) {
      %0 = constant {value=0} : i32
      %1 = constant {value=1} : i32
      %2 = constant {value=0.0} : f32
      %3 = for %0, %n, %1, %2 : f32 {
        ^bb(%4: i32, %5: f32):
        %6 = addptr %x, %4 : ptr<f32>
        %7 = load %6 : f32
        %8 = add %5, %7 : f32
        yield %8
      }
      %9 = cmp {pred=gt} %3, %2 : i1
      %10 = if %9 : f32 {
        yield %3
      } {
        %11 = neg %3 : f32
        yield %11
      }
      store %x, %10
      return
    }
    ");
    assert_eq!(print(&parse(&text).unwrap()), text);
}

#[test]
fn parse_errors_have_positions() {
    let e = parse("tt.func @k() {\n  %0 = frobnicate : i32\n}\n").unwrap_err();
    assert_eq!((e.line, e.col), (2, 8));
    assert!(e.message.contains("unknown op 'frobnicate'"), "{e}");

    let e = parse("tt.func @k() {\n  %0 = add %1, %1 : i32\n}\n").unwrap_err();
    assert_eq!((e.line, e.col), (2, 12));
    assert!(e.message.contains("undefined value %1"), "{e}");

    let e = parse(
        "tt.func @k() {\n  %0 = constant {value=1} : i32\n  %0 = constant {value=2} : i32\n}\n",
    )
    .unwrap_err();
    assert!(e.message.contains("defined twice"), "{e}");

    let e = parse("tt.func @k() {\n  %0 = constant {value=1, axis=2} : i32\n}\n").unwrap_err();
    assert!(e.message.contains("no attribute 'axis'"), "{e}");

    let e = parse("tt.func @k() {\n  %0 = constant : i32\n}\n").unwrap_err();
    assert!(e.message.contains("needs attribute 'value'"), "{e}");

    let e = parse("tt.func @k() {\n  %0, %1 = constant {value=1} : i32\n}\n").unwrap_err();
    assert!(
        e.message.contains("2 result name(s) but 1 result type(s)"),
        "{e}"
    );

    let e = parse("tt.func @k() {\n  %0 = constant {value=1} : tensor<4xq32>\n}\n").unwrap_err();
    assert!(e.message.contains("unknown element type 'q32'"), "{e}");

    let e = parse("tt.func @k() {\n  return\n").unwrap_err();
    assert!(e.message.contains("end of input"), "{e}");
    assert_eq!(
        e.to_string(),
        format!("{}:{}: {}", e.line, e.col, e.message)
    );
}

#[test]
fn attribute_and_header_errors_point_at_the_culprit() {
    let e = parse("tt.func @k(%a: i32 {arg=0}, %a: i32 {arg=1}) {\n}\n").unwrap_err();
    assert_eq!((e.line, e.col), (1, 29));
    assert!(e.message.contains("value %a is defined twice"), "{e}");

    let e = parse("tt.func @k() {\n  %0 = program_id {axis=300} : i32\n}\n").unwrap_err();
    assert_eq!((e.line, e.col), (2, 20));
    assert!(e.message.contains("'axis' out of range"), "{e}");

    let e = parse("tt.func @k() {\n  %0 = program_id {axis=x} : i32\n}\n").unwrap_err();
    assert!(e.message.contains("'axis' must be an integer"), "{e}");

    let e = parse("tt.func @k(%p: ptr<f32> {arg=0}) {\n  %0 = load {mask=1} %p : f32\n}\n")
        .unwrap_err();
    assert!(e.message.contains("'mask' is a flag"), "{e}");

    let e = parse("tt.func @k() {\n  %0 = constant {value=1, value=2} : i32\n}\n").unwrap_err();
    assert!(e.message.contains("attribute 'value' given twice"), "{e}");

    let e = parse("#file1 = \"a.py\"\ntt.func @k() {\n}\n").unwrap_err();
    assert_eq!((e.line, e.col), (1, 6));
    assert!(e.message.contains("expected #file0"), "{e}");
}

/// Wrong arity parses (the verifier is the one to reject it) and nothing panics.
#[test]
fn wrong_arity_is_a_verify_error_not_a_panic() {
    let f = parse("tt.func @k(%p: ptr<f32> {arg=0}) {\n  %0 = load {mask} %p : f32\n  %1 = add %0 : f32\n  store %p\n}\n")
        .unwrap();
    let e = verify(&f).unwrap_err();
    assert!(
        e.message.contains("'load' takes 2 operand(s), not 1"),
        "{e}"
    );
    let _ = print(&f);
    let mut g = f.clone();
    run_default_pipeline(&mut g);
}

#[test]
fn deep_nesting_is_refused_not_overflowed() {
    let mut text = String::from("tt.func @k(%c: i1 {arg=0}) {\n");
    for _ in 0..300 {
        text.push_str("if %c {\n");
    }
    let e = parse(&text).unwrap_err();
    assert!(e.message.contains("nested deeper"), "{e}");
}

#[test]
fn every_truncation_fails_cleanly() {
    for (name, text) in KERNELS {
        for (i, _) in text.char_indices() {
            let cut = &text[..i];
            // Cutting inside the final "}\n" leaves a valid prefix only at full length.
            if let Ok(f) = parse(cut) {
                assert!(text[i..].trim().is_empty(), "{name}: prefix {i} parsed");
                let _ = verify(&f);
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Random edits of valid kernels: parse, verify, the passes and print never panic,
    /// and whatever parses and verifies round-trips.
    #[test]
    fn mutated_text_never_panics(k in 0..KERNELS.len(), pos in 0usize..4000, len in 0usize..8, junk in "[ -~\n]{0,6}") {
        let text = KERNELS[k].1;
        let mut at = pos % (text.len() + 1);
        while !text.is_char_boundary(at) { at -= 1; }
        let mut end = (at + len).min(text.len());
        while !text.is_char_boundary(end) { end -= 1; }
        let mutated = format!("{}{}{}", &text[..at], junk, &text[end.max(at)..]);
        if let Ok(f) = parse(&mutated) {
            let printed = print(&f);
            if verify(&f).is_ok() {
                prop_assert_eq!(print(&parse(&printed).unwrap()), printed.clone());
                let mut g = f.clone();
                run_default_pipeline(&mut g);
                prop_assert!(verify(&g).is_ok(), "pipeline broke:\n{}\n{}", printed, print(&g));
            }
        }
    }

    #[test]
    fn garbage_never_panics(s in "\\PC{0,200}") {
        let _ = parse(&s);
        let _ = parse(&format!("tt.func @k() {{\n{s}\n}}\n"));
    }
}
