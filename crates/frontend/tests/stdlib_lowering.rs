//! Kernels that call standard-library functions lower through the frontend, with each
//! function bound the way the registry hands it out.

mod common;

use std::sync::Arc;

use common::*;
use tm_core::{ScalarType::*, SourceFile};
use tm_frontend::stdlib;
use tm_frontend::{ArgSpec, Binding, FunctionSource};

/// `src` with every name of `uses` bound to its standard-library function.
fn kernel_using(src: &str, name: &str, uses: &[&str]) -> FunctionSource {
    let mut globals = tl_globals();
    for u in uses {
        let f = stdlib::lookup(u)
            .unwrap_or_else(|| panic!("no stdlib function {u}"))
            .function_source()
            .unwrap();
        globals.insert(u.to_string(), Binding::JitFunction(f));
    }
    FunctionSource {
        file: SourceFile::new("kernel.py", src, 1),
        name: name.to_string(),
        globals,
    }
}

fn try_lower(k: &FunctionSource, args: &[ArgSpec]) -> Result<String, String> {
    match tm_frontend::lower(k, args) {
        Ok(f) => Ok(tm_tile::print(&f)),
        Err(e) => Err(e.to_string()),
    }
}

const UNARY: &str = r#"
@triton.jit
def k(x_ptr, y_ptr, BLOCK: tl.constexpr):
    offs = tl.arange(0, BLOCK)
    x = tl.load(x_ptr + offs)
    tl.store(y_ptr + offs, FN(x))
"#;

#[test]
fn probe() {
    let _ = Arc::new(0);
    for f in ["sigmoid", "cdiv", "zeros_like", "ravel", "cumsum", "cumprod", "flip", "sort", "softmax", "xor_sum", "sum", "max", "min", "argmax", "argmin", "randint", "rand", "randn"] {
        let src = UNARY.replace("FN(x)", &match f {
            "cdiv" => "cdiv(x, 4)".to_string(),
            "argmax" | "argmin" => format!("{f}(x, 0) + tl.zeros([BLOCK], tl.int32)"),
            "sum" | "max" | "min" | "xor_sum" => format!("{f}(x, 0) + tl.zeros([BLOCK], x.dtype)"),
            "randint" | "rand" | "randn" => format!("{f}(7, offs)"),
            _ => format!("{f}(x)"),
        });
        let ty = if matches!(f, "xor_sum" | "cdiv") { I32 } else { F32 };
        let k = kernel_using(&src, "k", &[f]);
        match try_lower(&k, &[ptr(ty), ptr(ty), cint(64)]) {
            Ok(_) => eprintln!("{f}: OK"),
            Err(e) => eprintln!("{f}: {e}"),
        }
    }
}
