//! Every unsupported or malformed construct is a CompileError at the offending line, with
//! a reason in Triton's words where Triton has some.

mod common;

use common::*;
use tm_core::ScalarType::*;

/// (body, line of the error, fragment of the reason). Each body goes inside
/// `def k(x_ptr, n, B: tl.constexpr)` whose first body line is line 4.
const CASES: &[(&str, u32, &str)] = &[
    (
        "    for i in range(n):\n        break\n",
        5,
        "unsupported AST node type: Break",
    ),
    (
        "    for i in range(n):\n        continue\n",
        5,
        "unsupported AST node type: Continue",
    ),
    (
        "    y = undefined_thing + 1\n",
        4,
        "name 'undefined_thing' is not defined",
    ),
    (
        "    x = tl.arange(0, n)\n",
        4,
        "arange's arguments must be of type tl.constexpr",
    ),
    (
        "    x = tl.arange(0, 100)\n",
        4,
        "arange's range must be a power of 2",
    ),
    (
        "    x = tl.arange(8, 8)\n",
        4,
        "end argument must be greater",
    ),
    (
        "    x = tl.zeros((n,), dtype=tl.float32)\n",
        4,
        "Shape element 0 must have type `constexpr[int]`",
    ),
    (
        "    x = tl.zeros((B, 3), dtype=tl.float32)\n",
        4,
        "Shape element 1 must be a power of 2",
    ),
    ("    p = x_ptr + x_ptr\n", 4, "cannot add pointers together"),
    ("    return 1\n", 4, "cannot return a value"),
    (
        "    x = tl.load(x_ptr, 1, 2, 3, 4, 5, 6, 7, 8)\n",
        4,
        "load() takes 8 positional arguments but 9 were given",
    ),
    (
        "    x = tl.load()\n",
        4,
        "missing 1 required positional argument: 'pointer'",
    ),
    (
        "    x = tl.load(x_ptr, bogus=1)\n",
        4,
        "unexpected keyword argument 'bogus'",
    ),
    (
        "    x = tl.load(n)\n",
        4,
        "Unsupported ptr type int32 in `tl.load`",
    ),
    (
        "    x = tl.load(x_ptr, other=0.0)\n",
        4,
        "`other` cannot be provided without `mask`",
    ),
    (
        "    x = tl.load(x_ptr + tl.arange(0, B), mask=n)\n",
        4,
        "Mask must have boolean scalar type",
    ),
    (
        "    x = tl.load(x_ptr, cache_modifier='.zz')\n",
        4,
        "Cache modifier .zz not supported",
    ),
    (
        "    x = tl.program_id(3)\n",
        4,
        "program_id axis must be 0, 1, or 2 but got 3",
    ),
    (
        "    x = tl.foo(n)\n",
        4,
        "'foo' is not a function of triton.language",
    ),
    (
        "    x = tl.exp(n)\n",
        4,
        "Expected dtype ['fp32', 'fp64'] but got int32",
    ),
    ("    x = tl.load(x_ptr) // 2.0\n", 4, "unexpected type fp32"),
    (
        "    x = tl.load(x_ptr) & 1\n",
        4,
        "invalid operands of type fp32 and fp32",
    ),
    (
        "    a = tl.arange(0, 16)\n    b = tl.arange(0, 32)\n    c = a + b\n",
        6,
        "incompatible dimensions at index 0: 16 and 32",
    ),
    (
        "    a = tl.arange(0, 16)\n    if a > 2:\n        pass\n",
        5,
        "Boolean value of Tensor with more than one value is ambiguous",
    ),
    (
        "    x = n\n    if n > 0:\n        x = tl.load(x_ptr)\n",
        5,
        "Mismatched type for x between then block (fp32) and else block (int32)",
    ),
    (
        "    while n > 0:\n        pass\n    else:\n        pass\n",
        4,
        "while ... else",
    ),
    (
        "    i = 0\n    while i < n:\n        i = 1.5\n",
        5,
        "Loop-carried variable i has initial type int32",
    ),
    (
        "    while n > 0:\n        break\n",
        5,
        "unsupported AST node type: Break",
    ),
    (
        "    with foo:\n        pass\n",
        4,
        "unsupported AST node type: With",
    ),
    (
        "    x = [i for i in range(3)]\n",
        4,
        "unsupported AST node type: ListComp",
    ),
    (
        "    x = lambda y: y\n",
        4,
        "unsupported AST node type: Lambda",
    ),
    (
        "    x = f\"{n}\"\n",
        4,
        "unsupported AST node type: JoinedStr",
    ),
    ("    a, b = 1, 2, 3\n", 4, "too many values to unpack"),
    ("    x = 1 < n < 3\n", 4, "simultaneous multiple comparison"),
    ("    x = B // 0\n", 4, "division by zero"),
    ("    x = n\n    x[0] = 1\n", 5, "assignment to a subscript"),
    (
        "    for i in [1, 2]:\n        pass\n",
        4,
        "Only `range` and `static_range` iterators are currently supported",
    ),
    (
        "    for i in tl.static_range(n):\n        pass\n",
        4,
        "static_range bounds must be constexpr",
    ),
    (
        "    x = tl.load(x_ptr).to(tl.int16, bitcast=True)\n",
        4,
        "Cannot bitcast data-type of size 32 to data-type of size 16",
    ),
    (
        "    tl.static_assert(B == 3, 'B must be 3')\n",
        4,
        "Static assertion failed: B must be 3",
    ),
    ("    x = n +\n", 4, "invalid syntax"),
    ("    x = (1,)[5]\n", 4, "tuple index out of range"),
    (
        "    x = tl.arange(0, B)[:, 1]\n",
        4,
        "unsupported tensor index",
    ),
    (
        "    x = -x_ptr\n",
        4,
        "wrong type argument to unary minus (pointer<fp32>)",
    ),
    ("    x = n and n and n\n", 4, "chained boolean operators"),
    ("    x = helper(1)\n", 4, "name 'helper' is not defined"),
    ("    import os\n", 4, "unsupported AST node type: Import"),
    ("    x = n ** 2\n", 4, "'**' on int32 tensors"),
];

#[test]
fn malformed_kernels_report_line_and_reason() {
    let mut failures = Vec::new();
    for (i, (body, line, fragment)) in CASES.iter().enumerate() {
        let src = format!("\n@triton.jit\ndef k(x_ptr, n, B: tl.constexpr):\n{body}");
        let k = kernel(&src, "k");
        let args = [ptr(F32), scalar(I32), cint(16)];
        match tm_frontend::lower(&k, &args) {
            Ok(_) => failures.push(format!("case {i}: no error for\n{body}")),
            Err(e) => {
                if e.line != *line || !e.reason.contains(fragment) || e.col == 0 {
                    failures.push(format!(
                        "case {i}: want line {line} and '{fragment}', got:\n{e}\n(line {}, col {})",
                        e.line, e.col
                    ));
                }
                // The rendered error carries the offending source line.
                assert!(e
                    .to_string()
                    .contains(body.lines().nth((line - 4) as usize).unwrap_or("").trim()));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn wrong_number_of_kernel_arguments() {
    let src = "@triton.jit\ndef k(a, b):\n    pass\n";
    let e = lower_err(&kernel(src, "k"), &[ptr(F32), ptr(F32), ptr(F32)]);
    assert!(
        e.reason.contains("takes 2 arguments but 3 were given"),
        "{e}"
    );
    assert_eq!(e.line, 2);
    let e = lower_err(&kernel(src, "k"), &[ptr(F32)]);
    assert!(e.reason.contains("missing required argument: 'b'"), "{e}");
}

#[test]
fn errors_inside_inlined_helpers_point_into_the_helper_file() {
    let helper = "@triton.jit\ndef h(x):\n    return x + undefined_name\n";
    let mut k = kernel("@triton.jit\ndef k(p):\n    tl.store(p, h(1.0))\n", "k");
    let mut hs = kernel(helper, "h");
    hs.file = tm_core::SourceFile::new("helper.py", helper, 10);
    k.globals.insert(
        "h".into(),
        tm_frontend::Binding::JitFunction(std::sync::Arc::new(hs)),
    );
    let e = lower_err(&k, &[ptr(F32)]);
    assert_eq!(
        (e.path.as_str(), e.line, e.col),
        ("helper.py", 12, 16),
        "{e}"
    );
}

#[test]
fn missing_def_is_an_error() {
    let e = lower_err(&kernel("x = 1\n", "k"), &[]);
    assert!(e.reason.contains("'k' is not defined"), "{e}");
}
