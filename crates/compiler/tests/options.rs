//! Compile options that change the printed kernel.

use std::collections::BTreeMap;

use tm_compiler::Options;
use tm_core::{ScalarType, SourceFile, Target};
use tm_frontend::{ArgSpec, Binding, FunctionSource, ModuleKind};

fn copy_kernel() -> FunctionSource {
    let text = "@triton.jit\ndef copy(x_ptr, y_ptr):\n    i = tl.arange(0, 32)\n    \
                tl.store(y_ptr + i, tl.load(x_ptr + i))\n";
    let mut globals = BTreeMap::new();
    globals.insert("tl".to_string(), Binding::Module(ModuleKind::Language));
    globals.insert("triton".to_string(), Binding::Module(ModuleKind::Triton));
    FunctionSource {
        file: SourceFile::new("copy.py", text, 1),
        name: "copy".into(),
        globals,
    }
}

/// With arguments sharing memory every binding is writable, so that loads through `x_ptr`
/// see what `y_ptr` stored (lavapipe serves read-only bindings from a path that does not).
#[test]
fn aliased_arguments_are_all_bound_writable() {
    let pointer = ArgSpec::Pointer {
        elem: ScalarType::F32,
        divisible_by_16: true,
    };
    let args = [pointer.clone(), pointer];
    for (target, read_only) in [
        (Target::lavapipe(), "var<storage, read> b0"),
        (Target::apple(), "device const float *b0"),
    ] {
        let plain = tm_compiler::compile(&copy_kernel(), &args, &Options::default(), &target)
            .expect("compiles");
        assert!(plain.code.contains(read_only), "{}", plain.code);
        assert!(!plain.abi.buffers[0].writes);
        let aliased = Options {
            may_alias: true,
            ..Options::default()
        };
        let shared = tm_compiler::compile(&copy_kernel(), &args, &aliased, &target).unwrap();
        assert!(!shared.code.contains(read_only), "{}", shared.code);
        assert!(shared.abi.buffers.iter().all(|b| b.writes));
    }
}
