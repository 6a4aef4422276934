//! Helpers shared by the frontend's integration tests.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::sync::Arc;

use tm_core::{CompileError, ScalarType, SourceFile};
use tm_frontend::{ArgSpec, Binding, ConstValue, FunctionSource, ModuleKind};

pub fn tl_globals() -> BTreeMap<String, Binding> {
    let mut g = BTreeMap::new();
    g.insert("tl".to_string(), Binding::Module(ModuleKind::Language));
    g.insert("triton".to_string(), Binding::Module(ModuleKind::Triton));
    g
}

pub fn kernel(src: &str, name: &str) -> FunctionSource {
    FunctionSource {
        file: SourceFile::new("kernel.py", src, 1),
        name: name.to_string(),
        globals: tl_globals(),
    }
}

pub fn jit(src: &str, name: &str) -> Arc<FunctionSource> {
    Arc::new(kernel(src, name))
}

pub fn ptr(t: ScalarType) -> ArgSpec {
    ArgSpec::Pointer {
        elem: t,
        divisible_by_16: true,
    }
}

pub fn scalar(t: ScalarType) -> ArgSpec {
    ArgSpec::Scalar {
        ty: t,
        divisible_by_16: false,
        equal_to_one: false,
    }
}

pub fn cint(v: i64) -> ArgSpec {
    ArgSpec::Constexpr(ConstValue::Int(v))
}

/// Lower, verify with tm-tile's verifier and print.
pub fn lower_ok(k: &FunctionSource, args: &[ArgSpec]) -> (tm_tile::Function, String) {
    let f = match tm_frontend::lower(k, args) {
        Ok(f) => f,
        Err(e) => panic!("lowering failed:\n{e}"),
    };
    let text = tm_tile::print(&f);
    if let Err(e) = tm_tile::verify(&f) {
        panic!("verifier rejected the lowered IR: {e:?}\n{text}");
    }
    (f, text)
}

pub fn lower_err(k: &FunctionSource, args: &[ArgSpec]) -> CompileError {
    match tm_frontend::lower(k, args) {
        Ok(f) => panic!("expected an error, got:\n{}", tm_tile::print(&f)),
        Err(e) => e,
    }
}

/// Op names in print order (regions included).
pub fn op_names(f: &tm_tile::Function) -> Vec<&'static str> {
    let mut v = Vec::new();
    f.walk(|op| v.push(f.ops[op].kind.name()));
    v
}
