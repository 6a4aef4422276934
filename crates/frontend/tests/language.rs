//! Lowering of the language constructs beyond tutorial 01: 2-D broadcasting, loops, ifs,
//! static_range, inlined helpers, promotion.

mod common;

use std::sync::Arc;

use common::*;
use tm_core::{ScalarType::*, SourceFile};
use tm_frontend::{ArgSpec, Binding, ConstValue, FunctionSource};
use tm_tile::{Elem, OpKind, Type};

fn find_ops<'a>(f: &'a tm_tile::Function, name: &str) -> Vec<&'a tm_tile::Op> {
    let mut v = Vec::new();
    f.walk(|op| {
        if f.ops[op].kind.name() == name {
            v.push(&f.ops[op]);
        }
    });
    v
}

const TRANSPOSE: &str = r#"
import triton_metal.language as tl

@triton.jit
def transpose(src, dst, M, N, stride_m, BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr):
    pid_m = tl.program_id(0)
    pid_n = tl.program_id(1)
    rm = pid_m * BLOCK_M + tl.arange(0, BLOCK_M)
    rn = pid_n * BLOCK_N + tl.arange(0, BLOCK_N)
    mask = (rm[:, None] < M) & (rn[None, :] < N)
    x = tl.load(src + rm[:, None] * stride_m + rn[None, :], mask=mask, other=0.0)
    tl.store(dst + rn[None, :] * M + rm[:, None], x, mask=mask)
"#;

#[test]
fn masked_2d_copy_with_broadcasting() {
    let k = kernel(TRANSPOSE, "transpose");
    let args = [
        ptr(F16),
        ptr(F16),
        scalar(I32),
        scalar(I32),
        scalar(I32),
        cint(32),
        cint(64),
    ];
    let (f, text) = lower_ok(&k, &args);
    let ed: Vec<_> = find_ops(&f, "expand_dims")
        .iter()
        .map(|o| o.kind.clone())
        .collect();
    assert!(
        ed.contains(&OpKind::ExpandDims(1)) && ed.contains(&OpKind::ExpandDims(0)),
        "{text}"
    );
    let load = find_ops(&f, "load")[0];
    assert_eq!(
        load.kind,
        OpKind::Load {
            has_mask: true,
            has_other: true,
            volatile: false
        }
    );
    assert_eq!(
        f.ty(load.results[0]),
        &Type::tensor(Elem::Scalar(F16), vec![32, 64])
    );
    // `other=0.0` is materialized in the pointee type, not f32.
    let other = load.operands[2];
    assert_eq!(f.ty(other).elem, Elem::Scalar(F16));
    assert!(!find_ops(&f, "broadcast").is_empty());
    insta::assert_snapshot!(text);
}

const ACCUMULATE: &str = r#"
@triton.jit
def row_sum(x_ptr, out_ptr, n_cols, BLOCK: tl.constexpr):
    row = tl.program_id(0)
    acc = tl.zeros((BLOCK,), dtype=tl.float32)
    total = 0
    for start in range(0, n_cols, BLOCK):
        offs = start + tl.arange(0, BLOCK)
        x = tl.load(x_ptr + row * n_cols + offs, mask=offs < n_cols, other=0.0)
        acc += x
        total += 1
    tl.store(out_ptr + row * BLOCK + tl.arange(0, BLOCK), acc)
"#;

#[test]
fn for_loop_carries_the_accumulator() {
    let k = kernel(ACCUMULATE, "row_sum");
    let (f, text) = lower_ok(&k, &[ptr(F32), ptr(F32), scalar(I32), cint(128)]);
    let fo = find_ops(&f, "for");
    assert_eq!(fo.len(), 1, "{text}");
    // lower, upper, step, then the carried acc (tensor) and total (i32), in name order.
    assert_eq!(fo[0].operands.len(), 5);
    let res: Vec<Type> = fo[0].results.iter().map(|&r| f.ty(r).clone()).collect();
    assert_eq!(
        res,
        vec![
            Type::tensor(Elem::Scalar(F32), vec![128]),
            Type::scalar(I32),
        ]
    );
    // The store uses the loop's result, not the initial zeros.
    let st = find_ops(&f, "store")[0];
    assert_eq!(st.operands[1], fo[0].results[0]);
    insta::assert_snapshot!(text);
}

#[test]
fn loop_carried_type_change_is_an_error() {
    let src = r#"
@triton.jit
def k(x_ptr, n):
    acc = 0
    for i in range(n):
        acc = acc + tl.load(x_ptr + i) * 1.5
    tl.store(x_ptr, acc)
"#;
    let e = lower_err(&kernel(src, "k"), &[ptr(F32), scalar(I32)]);
    assert_eq!(e.line, 5);
    assert!(
        e.reason
            .contains("Loop-carried variable acc has initial type int32"),
        "{e}"
    );
}

const RUNTIME_IF: &str = r#"
@triton.jit
def k(x_ptr, flag, n):
    x = tl.load(x_ptr)
    y = 1.0
    if flag > 0:
        x = x * 2.0
        z = 3
    elif n > 4:
        x = x + 1.0
        y = 2.0
    else:
        pass
    tl.store(x_ptr, x + y)
"#;

#[test]
fn if_on_a_runtime_scalar_yields_assigned_variables() {
    let k = kernel(RUNTIME_IF, "k");
    let (f, text) = lower_ok(&k, &[ptr(F32), scalar(I32), scalar(I32)]);
    let ifs = find_ops(&f, "if");
    assert_eq!(ifs.len(), 2, "{text}");
    // The outer if yields x and y (z exists in one branch only and is dropped).
    let outer = ifs[0];
    assert_eq!(outer.results.len(), 2, "{text}");
    assert!(outer.results.iter().all(|&r| f.ty(r) == &Type::scalar(F32)));
    insta::assert_snapshot!(text);
}

#[test]
fn constexpr_if_lowers_only_the_taken_branch() {
    let src = r#"
@triton.jit
def k(x_ptr, FLAG: tl.constexpr):
    if FLAG:
        tl.store(x_ptr, 1.0)
    else:
        tl.store(x_ptr, tl.exp(tl.load(x_ptr)))
"#;
    let (f, _) = lower_ok(
        &kernel(src, "k"),
        &[ptr(F32), ArgSpec::Constexpr(ConstValue::Bool(true))],
    );
    assert!(find_ops(&f, "if").is_empty());
    assert!(find_ops(&f, "exp").is_empty());
    let (f, _) = lower_ok(
        &kernel(src, "k"),
        &[ptr(F32), ArgSpec::Constexpr(ConstValue::Bool(false))],
    );
    assert_eq!(find_ops(&f, "exp").len(), 1);
}

#[test]
fn static_range_unrolls() {
    let src = r#"
@triton.jit
def k(x_ptr, N: tl.constexpr):
    acc = tl.zeros([16], dtype=tl.float32)
    for i in tl.static_range(N):
        acc += tl.load(x_ptr + i * 16 + tl.arange(0, 16))
    tl.store(x_ptr + tl.arange(0, 16), acc)
"#;
    let (f, text) = lower_ok(&kernel(src, "k"), &[ptr(F32), cint(3)]);
    assert!(find_ops(&f, "for").is_empty());
    assert_eq!(find_ops(&f, "load").len(), 3, "{text}");
}

#[test]
fn jit_helpers_are_inlined_with_their_own_globals() {
    let helper_src = "# helpers.py\n@triton.jit\ndef scale_shift(x, s, SHIFT: tl.constexpr):\n    y = x * s + SHIFT\n    return y, SHIFT * 2\n";
    let mut hg = tl_globals();
    hg.insert("EXTRA".into(), Binding::Const(ConstValue::Int(5)));
    let helper = Arc::new(FunctionSource {
        file: SourceFile::new("helpers.py", helper_src, 1),
        name: "scale_shift".into(),
        globals: hg,
    });
    let src = r#"
@triton.jit
def k(x_ptr, s):
    offs = tl.arange(0, 64)
    x = tl.load(x_ptr + offs)
    y, two = scale_shift(x, s, SHIFT=3)
    tl.static_assert(two == 6)
    tl.store(x_ptr + offs, y)
"#;
    let mut k = kernel(src, "k");
    k.globals
        .insert("scale_shift".into(), Binding::JitFunction(helper));
    let (f, text) = lower_ok(&k, &[ptr(F32), scalar(F32)]);
    assert_eq!(f.files.len(), 2);
    assert_eq!(f.files[1].path, "helpers.py");
    let mul = find_ops(&f, "mul")[0];
    assert_eq!((mul.loc.file, mul.loc.line), (1, 4), "{text}");
    insta::assert_snapshot!(text);
}

#[test]
fn indented_method_source_keeps_file_positions() {
    let src = "    @triton.jit\n    def k(x_ptr):\n        tl.store(x_ptr, tl.program_id(0))\n";
    let k = FunctionSource {
        file: SourceFile::new("m.py", src, 40),
        name: "k".into(),
        globals: tl_globals(),
    };
    let (f, _) = lower_ok(&k, &[ptr(I32)]);
    let pid = find_ops(&f, "program_id")[0];
    assert_eq!((pid.loc.line, pid.loc.col), (42, 25));
    let names = tm_frontend::free_names(&k.file, "k").unwrap();
    assert_eq!(names, vec!["tl".to_string()]);
}

#[test]
fn free_names_exclude_params_locals_and_builtins() {
    let src = r#"
@triton.jit
def k(x_ptr, n, B: tl.constexpr = DEFAULT_B):
    y = helper(x_ptr, n)
    for i in range(n):
        z = min(i, LIMIT)
    a, b = other.thing, y
    return math.pi
"#;
    let file = SourceFile::new("k.py", src, 1);
    let names = tm_frontend::free_names(&file, "k").unwrap();
    assert_eq!(
        names,
        vec!["DEFAULT_B", "LIMIT", "helper", "math", "other", "tl"]
    );
}

#[test]
fn specialization_of_scalars_and_constexprs() {
    let src = r#"
@triton.jit
def k(x_ptr, stride, n, BLOCK: tl.constexpr):
    offs = tl.arange(0, BLOCK) * stride
    tl.store(x_ptr + offs, 1.0, mask=offs < n)
"#;
    let one = ArgSpec::Scalar {
        ty: I32,
        divisible_by_16: false,
        equal_to_one: true,
    };
    let n16 = ArgSpec::Scalar {
        ty: I64,
        divisible_by_16: true,
        equal_to_one: false,
    };
    let (f, text) = lower_ok(&kernel(src, "k"), &[ptr(F32), one, n16, cint(256)]);
    // stride == 1 is specialized away; n keeps its argument index.
    assert_eq!(f.params.len(), 2);
    assert_eq!(f.params[1].name, "n");
    assert_eq!(f.params[1].arg_index, 2);
    assert!(f.params[1].divisible_by_16);
    // i32 offsets compared with an i64 scalar promote to i64.
    let cmp = find_ops(&f, "cmp")[0];
    assert_eq!(f.ty(cmp.operands[0]).elem, Elem::Scalar(I64), "{text}");
}

#[test]
fn promotion_rules() {
    let src = r#"
@triton.jit
def k(h_ptr, i_ptr, u_ptr, out_ptr):
    offs = tl.arange(0, 16)
    h = tl.load(h_ptr + offs)
    i = tl.load(i_ptr + offs)
    u = tl.load(u_ptr + offs)
    a = h * 2.0
    b = h / 2
    c = i / 3
    d = i // 3
    e = i + u
    f = (i % 5).to(tl.float16) + a + b + c
    tl.store(out_ptr + offs, f + d + e)
"#;
    let (f, text) = lower_ok(&kernel(src, "k"), &[ptr(F16), ptr(I32), ptr(U32), ptr(F32)]);
    let elem_of = |name: &str, n: usize| f.ty(find_ops(&f, name)[n].results[0]).elem;
    // h * 2.0 stays f16 (a Python float does not widen a float tensor).
    assert_eq!(elem_of("mul", 0), Elem::Scalar(F16), "{text}");
    // h / 2: f16 division computes in f32; i / 3: ints divide as f32.
    assert_eq!(elem_of("div", 0), Elem::Scalar(F32));
    assert_eq!(elem_of("div", 1), Elem::Scalar(F32));
    // i // 3 stays integer (C truncation).
    assert_eq!(elem_of("div", 2), Elem::Scalar(I32));
    // i32 + u32 → u32.
    assert_eq!(elem_of("add", 0), Elem::Scalar(U32));
}

#[test]
fn where_minimum_maximum_math_and_cdiv() {
    let src = r#"
@triton.jit
def k(x_ptr, n):
    offs = tl.arange(0, 32)
    x = tl.load(x_ptr + offs, mask=offs < n, other=float("-inf") if False else 0.0)
    y = tl.where(x > 0, x, 0.0)
    y = tl.maximum(y, 1.0) + tl.minimum(y, -1.0) + tl.sqrt(tl.abs(y)) + tl.log(tl.exp(y))
    m = tl.cdiv(n, 32)
    c = tl.cdiv(100, 32)
    tl.store(x_ptr + offs + m + c, y)
"#;
    let (f, text) = lower_ok(&kernel(src, "k"), &[ptr(F32), scalar(I32)]);
    for want in ["select", "max", "min", "sqrt", "abs", "log", "exp"] {
        assert!(!find_ops(&f, want).is_empty(), "missing {want}:\n{text}");
    }
    // cdiv(100, 32) folds to 4 at compile time.
    assert!(text.contains("constant {value=4}"), "{text}");
}

#[test]
fn pointer_element_types_and_float_strings() {
    let src = r#"
@triton.jit
def k(x_ptr, y_ptr):
    offs = tl.arange(0, 8)
    m = tl.zeros([8], dtype=tl.float32) - float("inf")
    x = tl.maximum(tl.load(x_ptr + offs), m)
    tl.store(y_ptr + offs, x.to(y_ptr.dtype.element_ty))
"#;
    let (f, text) = lower_ok(&kernel(src, "k"), &[ptr(F32), ptr(F16)]);
    let cast = find_ops(&f, "cast");
    assert_eq!(cast.len(), 1, "{text}");
    assert_eq!(f.ty(cast[0].results[0]).elem, Elem::Scalar(F16));
    assert!(text.contains("value=inf"), "{text}");
}

#[test]
fn early_return_moves_the_rest_into_the_other_branch() {
    let src = r#"
@triton.jit
def k(x_ptr, n):
    pid = tl.program_id(0)
    if pid >= n:
        return
    x = tl.load(x_ptr + pid)
    tl.store(x_ptr + pid, x + 1.0)
"#;
    let (f, text) = lower_ok(&kernel(src, "k"), &[ptr(F32), scalar(I32)]);
    let ifs = find_ops(&f, "if");
    assert_eq!(ifs.len(), 1, "{text}");
    // The store lives in the else region, not after the if.
    let else_block = ifs[0].regions[1];
    let in_else = f.blocks[else_block]
        .ops
        .iter()
        .any(|&o| f.ops[o].kind.name() == "store");
    assert!(in_else, "{text}");
    let body_has_store = f.blocks[f.body]
        .ops
        .iter()
        .any(|&o| f.ops[o].kind.name() == "store");
    assert!(!body_has_store, "{text}");
    insta::assert_snapshot!(text);
}

#[test]
fn ternaries_bool_ops_and_module_constants() {
    let src = r#"
@triton.jit
def k(x_ptr, n, m):
    x = tl.load(x_ptr)
    y = x * 2.0 if n > m else x
    z = SCALE if USE_SCALE and not False else 1.0
    ok = (n > 0) and (m > 0)
    w = tl.where(ok, y * z, 0.0)
    for i in tl.range(0, n, 2, num_stages=2):
        w += i
    tl.store(x_ptr, w)
"#;
    let mut k = kernel(src, "k");
    k.globals
        .insert("SCALE".into(), Binding::Const(ConstValue::Float(0.5)));
    k.globals
        .insert("USE_SCALE".into(), Binding::Const(ConstValue::Bool(true)));
    let (f, text) = lower_ok(&k, &[ptr(F32), scalar(I32), scalar(I32)]);
    assert_eq!(find_ops(&f, "if").len(), 1, "{text}");
    assert_eq!(find_ops(&f, "and").len(), 1, "{text}");
    assert_eq!(find_ops(&f, "for").len(), 1, "{text}");
    assert!(text.contains("value=0.5"), "{text}");
}
