//! Debug ops and hints: device_print/print, device_assert, multiple_of and friends,
//! assume, debug_barrier.

mod common;

use common::*;
use tm_core::ScalarType::*;
use tm_tile::OpKind;

const DEBUG: &str = r#"
@triton.jit
def dbg(x_ptr, n, BLOCK: tl.constexpr):
    offs = tl.multiple_of(tl.arange(0, BLOCK), 4)
    offs = tl.max_contiguous(offs, [BLOCK])
    c = tl.max_constancy(n + tl.zeros((BLOCK,), tl.int32), (BLOCK,))
    tl.assume(n > 0)
    x = tl.load(x_ptr + offs)
    tl.device_print("x: ", x)
    print("n", n, hex=True)
    tl.device_assert(x >= 0, "negative!")
    tl.device_assert(True, "never")
    tl.debug_barrier()
    tl.static_print("compile time", BLOCK)
    tl.store(x_ptr + offs, x + c)
"#;

#[test]
fn prints_asserts_hints_and_barriers() {
    let k = kernel(DEBUG, "dbg");
    let (f, text) = lower_ok(&k, &[ptr(I32), scalar(I32), cint(4)]);
    let kinds: Vec<OpKind> = {
        let mut v = Vec::new();
        f.walk(|op| v.push(f.ops[op].kind.clone()));
        v
    };
    assert!(kinds.contains(&OpKind::Hint {
        multiple_of: vec![4],
        max_contiguous: vec![],
        max_constancy: vec![]
    }));
    assert!(kinds.contains(&OpKind::Print {
        prefix: "x: ".into(),
        hex: false
    }));
    assert!(kinds.contains(&OpKind::Print {
        prefix: "n".into(),
        hex: true
    }));
    let asserts = kinds
        .iter()
        .filter(|k| matches!(k, OpKind::Assert { .. }))
        .count();
    assert_eq!(asserts, 1, "a constant-true assert is dropped:\n{text}");
    assert!(kinds.contains(&OpKind::Barrier));
    insta::assert_snapshot!(text);

    let x = [1i32, 2, 3, 4];
    let (bufs, prints) = interpret(
        &f,
        [1, 1, 1],
        vec![Arg::Buf(bytes_of(&x), I32), Arg::Int(10), Arg::Absent],
    );
    assert_eq!(i32s(&bufs[0]), vec![11, 12, 13, 14]);
    assert!(prints.iter().any(|p| p.contains("x: ")), "{prints:?}");
}

#[test]
fn debug_errors() {
    let cases: &[(&str, &str)] = &[
        (
            "tl.multiple_of(x, (4, 4))",
            "does not match the length of values",
        ),
        ("tl.multiple_of(x, n)", "positive constexpr ints"),
        ("tl.device_print(n)", "prefix must be a constexpr string"),
        ("tl.assume(x)", "assume's condition must be a boolean"),
        (
            "tl.static_assert(n > 0)",
            "static_assert requires a constexpr condition",
        ),
    ];
    for (expr, want) in cases {
        let src = format!(
            "@triton.jit\ndef k(p, n):\n    x = tl.load(p + tl.arange(0, 8))\n    {expr}\n"
        );
        let e = lower_err(&kernel(&src, "k"), &[ptr(I32), scalar(I32)]);
        let msg = e.to_string();
        assert!(msg.contains(want), "{expr}: {msg}");
        assert!(msg.contains(":4:"), "{expr}: {msg}");
    }
}

const PY_ASSERT: &str = r#"
@triton.jit
def k(x_ptr, n):
    x = tl.load(x_ptr + tl.arange(0, 4))
    assert n > 0, "n must be positive"
    assert False
    tl.store(x_ptr + tl.arange(0, 4), x)
"#;

#[test]
fn python_asserts_compile_only_in_debug_mode() {
    let count = |f: &tm_tile::Function| {
        let mut n = Vec::new();
        f.walk(|op| {
            if let OpKind::Assert { message } = &f.ops[op].kind {
                n.push(message.clone());
            }
        });
        n
    };
    let k = kernel(PY_ASSERT, "k");
    let args = [ptr(I32), scalar(I32)];
    let (f, _) = lower_ok(&k, &args);
    assert!(count(&f).is_empty());
    let opts = tm_frontend::LowerOptions { debug: true };
    let f = tm_frontend::lower_with(&k, &args, &opts).expect("lowers");
    tm_tile::verify(&f).expect("verifies");
    assert_eq!(
        count(&f),
        vec!["n must be positive".to_string(), String::new()]
    );
}
