//! Compile time of a kernel that sorts 256 elements with `tl.sort` (the standard library's
//! bitonic sort inlines hundreds of calls): `cargo run -p tm-frontend --example
//! sort_compile_time [--release]`.

use std::collections::BTreeMap;
use std::time::Instant;

use tm_core::{ScalarType, SourceFile};
use tm_frontend::{ArgSpec, Binding, ConstValue, FunctionSource, ModuleKind};

const SRC: &str = r#"
@triton.jit
def sort_kernel(x_ptr, out_ptr, N: tl.constexpr):
    offs = tl.arange(0, N)
    x = tl.load(x_ptr + offs)
    tl.store(out_ptr + offs, tl.sort(x))
"#;

fn main() {
    let mut globals = BTreeMap::new();
    globals.insert("tl".to_string(), Binding::Module(ModuleKind::Language));
    globals.insert("triton".to_string(), Binding::Module(ModuleKind::Triton));
    let k = FunctionSource {
        file: SourceFile::new("sort.py", SRC, 1),
        name: "sort_kernel".into(),
        globals,
    };
    let p = ArgSpec::Pointer {
        elem: ScalarType::F32,
        divisible_by_16: true,
    };
    let args = [p.clone(), p, ArgSpec::Constexpr(ConstValue::Int(256))];
    for i in 0..6 {
        let t = Instant::now();
        match tm_frontend::lower(&k, &args) {
            Ok(f) => println!(
                "run {i}: {:.1} ms, {} ops",
                t.elapsed().as_secs_f64() * 1e3,
                f.ops.len()
            ),
            Err(e) => {
                eprintln!("{e}");
                std::process::exit(1);
            }
        }
    }
}
