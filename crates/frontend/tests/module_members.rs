//! Names imported from kernel modules by themselves (`from triton.language import
//! program_id`): a `Binding::ModuleMember` means what `module.name` means.

mod common;

use common::*;
use tm_core::ScalarType::*;
use tm_frontend::{Binding, ModuleKind};

const SRC: &str = r#"
@triton.jit
def kern(x_ptr, out_ptr, N: constexpr):
    offs = program_id(0) * N + arange(0, N)
    x = load(x_ptr + offs)
    store(out_ptr + offs, pow(x, 2.0) + exp2(zeros((N,), dtype=float32)) + cumsum(x, 0))
"#;

fn member(module: ModuleKind, name: &str) -> Binding {
    Binding::ModuleMember {
        module,
        name: name.to_string(),
    }
}

#[test]
fn imported_builtins_stdlib_functions_and_dtypes_resolve() {
    let mut k = kernel(SRC, "kern");
    for n in [
        "program_id",
        "arange",
        "load",
        "store",
        "zeros",
        "float32",
        "constexpr",
        "cumsum",
    ] {
        k.globals.insert(n.into(), member(ModuleKind::Language, n));
    }
    k.globals
        .insert("exp2".into(), member(ModuleKind::LanguageMath, "exp2"));
    k.globals
        .insert("pow".into(), member(ModuleKind::Libdevice, "pow"));
    let (f, _) = lower_ok(&k, &[ptr(F32), ptr(F32), cint(4)]);
    let x = [1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0];
    let (bufs, _) = interpret(
        &f,
        [2, 1, 1],
        vec![Arg::Buf(bytes_of(&x), F32), Arg::Buf(vec![0; 32], F32)],
    );
    let mut want = Vec::new();
    for block in x.chunks(4) {
        let mut run = 0.0;
        for v in block {
            run += v;
            want.push(v * v + 1.0 + run);
        }
    }
    assert_eq!(f32s(&bufs[1]), want);
}

#[test]
fn an_unknown_member_is_reported_at_its_use() {
    let mut k = kernel(
        r#"
@triton.jit
def kern(x_ptr):
    tl.store(x_ptr, no_such_thing(1))
"#,
        "kern",
    );
    k.globals.insert(
        "no_such_thing".into(),
        member(ModuleKind::Language, "no_such_thing"),
    );
    let e = lower_err(&k, &[ptr(F32)]);
    insta::assert_snapshot!(e.to_string(), @r"
    at kernel.py:4:21:
        tl.store(x_ptr, no_such_thing(1))
                        ^
    unsupported: 'no_such_thing' is not a function of triton.language (or not supported yet)
    ");
}
