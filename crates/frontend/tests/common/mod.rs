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

/// Bytes of a slice of plain numbers (little-endian, as buffers are).
pub fn bytes_of<T: Copy>(v: &[T]) -> Vec<u8> {
    let n = std::mem::size_of_val(v);
    // SAFETY: T is a plain number type; its bytes are its little-endian representation.
    unsafe { std::slice::from_raw_parts(v.as_ptr() as *const u8, n) }.to_vec()
}

pub fn f32s(b: &[u8]) -> Vec<f32> {
    b.chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

pub fn i32s(b: &[u8]) -> Vec<i32> {
    b.chunks_exact(4)
        .map(|c| i32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

/// One argument of an interpreted run.
pub enum Arg {
    Buf(Vec<u8>, ScalarType),
    Int(i64),
    Float(f64),
    Absent,
}

/// Run `f` in the interpreter over `grid`; returns the buffers afterwards (in argument
/// order, empty for non-buffers) and the printed lines.
pub fn interpret(
    f: &tm_tile::Function,
    grid: [u32; 3],
    mut args: Vec<Arg>,
) -> (Vec<Vec<u8>>, Vec<String>) {
    use tm_interp::{ArgValue, RunOptions, ScalarValue};
    let report = {
        let mut avs: Vec<ArgValue> = args
            .iter_mut()
            .map(|a| match a {
                Arg::Buf(d, t) => ArgValue::Buffer {
                    data: d.as_mut_slice(),
                    elem: *t,
                },
                Arg::Int(i) => ArgValue::Scalar(ScalarValue::I64(*i)),
                Arg::Float(x) => ArgValue::Scalar(ScalarValue::F64(*x)),
                Arg::Absent => ArgValue::Absent,
            })
            .collect();
        let opts = RunOptions { echo_prints: false };
        match tm_interp::run(f, grid, &mut avs, &opts) {
            Ok(r) => r,
            Err(e) => panic!("interpreter failed: {e}\n{}", tm_tile::print(f)),
        }
    };
    let bufs = args
        .into_iter()
        .map(|a| match a {
            Arg::Buf(d, _) => d,
            _ => Vec::new(),
        })
        .collect();
    (bufs, report.prints)
}

/// A kernel of `src` whose globals also bind `helpers` (defs of the same source) as jit
/// functions; each helper sees `tl` and the helpers listed before it.
pub fn kernel_with(src: &str, name: &str, helpers: &[&str]) -> FunctionSource {
    let file = SourceFile::new("kernel.py", src, 1);
    let mut g = tl_globals();
    for h in helpers {
        let f = FunctionSource {
            file: file.clone(),
            name: h.to_string(),
            globals: g.clone(),
        };
        g.insert(h.to_string(), Binding::JitFunction(Arc::new(f)));
    }
    FunctionSource {
        file,
        name: name.to_string(),
        globals: g,
    }
}
