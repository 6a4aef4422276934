//! No input may panic the frontend: random bytes and random mutations of valid kernels
//! must come back as Ok or as a located CompileError, never as a panic (nor as the
//! "internal compiler error" a panic on the frontend's thread is turned into).

mod common;

use std::panic::{catch_unwind, AssertUnwindSafe};

use common::*;
use proptest::prelude::*;
use tm_core::{ScalarType::*, SourceFile};
use tm_frontend::ArgSpec;

const SEED: &str = r#"
@triton.jit
def k(x_ptr, y_ptr, n, B: tl.constexpr):
    pid = tl.program_id(0)
    offs = pid * B + tl.arange(0, B)
    mask = offs < n
    acc = tl.zeros((B,), dtype=tl.float32)
    for i in range(0, n, B):
        x = tl.load(x_ptr + offs + i, mask=mask, other=0.0)
        acc += tl.where(x > 0, x, -x) * 2
    if n > 3:
        acc = acc / n
    for j in tl.static_range(2):
        acc = tl.maximum(acc, j)
    y = acc[:, None] + tl.arange(0, 2)[None, :]
    tl.store(y_ptr + offs, acc.to(tl.float16), mask=mask)
"#;

const TOKENS: &[&str] = &[
    "(",
    ")",
    "[",
    "]",
    ":",
    ",",
    "None",
    "tl.",
    "+",
    "-",
    "*",
    "/",
    "//",
    "%",
    "**",
    "<<",
    "if ",
    "else",
    "for ",
    "in ",
    "range(",
    "return ",
    "\n",
    "    ",
    "\t",
    "B",
    "n",
    "x_ptr",
    "tl.arange(0, ",
    "tl.load(",
    "tl.store(",
    ".to(",
    "tl.float16",
    "1e400",
    "99999999999999999999",
    "-1",
    "0",
    "\"s\"",
    "lambda",
    "not ",
    "and ",
    "or ",
    "==",
    "is ",
    "@",
    "~",
    "def k(",
    "\\",
    "tl.static_range(",
    "tl.zeros((",
    "tl.full(",
    "tl.where(",
    "tl.cdiv(",
    "=",
    "+=",
];

fn args() -> Vec<ArgSpec> {
    vec![ptr(F32), ptr(F16), scalar(I32), cint(64)]
}

fn check(src: &str) -> Result<(), TestCaseError> {
    let result = catch_unwind(AssertUnwindSafe(|| {
        let names = tm_frontend::free_names(&SourceFile::new("f.py", src, 1), "k");
        let lowered = tm_frontend::lower(&kernel(src, "k"), &args());
        // Whatever lowers must be valid Tile IR.
        let verified: Result<Result<(), String>, ()> = match &lowered {
            Ok(f) => Ok(tm_tile::verify(f).map_err(|e| format!("{e:?}"))),
            Err(_) => Err(()),
        };
        (names, lowered.map(|f| tm_tile::print(&f)), verified)
    }));
    let (names, lowered, verified) = match result {
        Ok(r) => r,
        Err(_) => return Err(TestCaseError::fail(format!("panic on:\n{src}"))),
    };
    if let Ok(Err(e)) = verified {
        return Err(TestCaseError::fail(format!("invalid IR from:\n{src}\n{e}")));
    }
    for e in [names.err(), lowered.err()].into_iter().flatten() {
        prop_assert!(
            !e.reason.contains("internal compiler error"),
            "internal error on:\n{src}\n{e}"
        );
    }
    Ok(())
}

#[test]
fn seed_kernel_is_valid() {
    lower_ok(&kernel(SEED, "k"), &args());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_do_not_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let src = String::from_utf8_lossy(&bytes).into_owned();
        check(&src)?;
        check(&format!("def k(x_ptr, y_ptr, n, B):\n    {src}\n"))?;
    }

    #[test]
    fn mutated_kernels_do_not_panic(
        edits in proptest::collection::vec((0usize..10_000, 0usize..40, 0usize..TOKENS.len(), 0u8..3), 1..6)
    ) {
        let mut src = SEED.to_string();
        for (pos, len, tok, kind) in edits {
            let mut at = pos % (src.len() + 1);
            while !src.is_char_boundary(at) { at -= 1; }
            match kind {
                0 => src.insert_str(at, TOKENS[tok]),
                1 => {
                    let mut end = (at + len).min(src.len());
                    while !src.is_char_boundary(end) { end -= 1; }
                    src.replace_range(at..end, "");
                }
                _ => {
                    let mut end = (at + len).min(src.len());
                    while !src.is_char_boundary(end) { end -= 1; }
                    src.replace_range(at..end, TOKENS[tok]);
                }
            }
        }
        check(&src)?;
    }
}

#[test]
fn pathological_inputs() {
    let deep_unary = format!(
        "def k(x_ptr, y_ptr, n, B):\n    x = {}1\n",
        "-".repeat(50_000)
    );
    let deep_parens = format!(
        "def k(x_ptr, y_ptr, n, B):\n    x = {}1{}\n",
        "[".repeat(5_000),
        "]".repeat(5_000)
    );
    let big_unroll = "def k(x_ptr, y_ptr, n, B):\n    for i in tl.static_range(4000):\n        for j in tl.static_range(4000):\n            pass\n";
    let huge_shape = "def k(x_ptr, y_ptr, n, B):\n    x = tl.zeros((1 << 40,), dtype=tl.float32)\n";
    let recursion = "def k(x_ptr, y_ptr, n, B):\n    k(x_ptr, y_ptr, n, B)\n";
    for src in [
        deep_unary.as_str(),
        deep_parens.as_str(),
        big_unroll,
        huge_shape,
    ] {
        check(src).unwrap();
        assert!(tm_frontend::lower(&kernel(src, "k"), &args()).is_err());
    }
    // Call chains are bounded (a true cycle cannot be built from immutable sources, but a
    // very long chain can).
    let mut f = std::sync::Arc::new(kernel("def k(x_ptr, y_ptr, n, B):\n    pass\n", "k"));
    for _ in 0..40 {
        let mut next = kernel(recursion, "k");
        next.globals
            .insert("k".into(), tm_frontend::Binding::JitFunction(f));
        f = std::sync::Arc::new(next);
    }
    let e = tm_frontend::lower(&f, &args()).unwrap_err();
    assert!(e.reason.contains("nested deeper than"), "{e}");
}
