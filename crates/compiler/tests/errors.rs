//! Backend errors reach the user as positioned CompilationErrors.

use std::collections::BTreeMap;

use tm_core::{ScalarType, SourceFile, Target};
use tm_frontend::{ArgSpec, Binding, FunctionSource, ModuleKind};

#[test]
fn a_lowering_refusal_points_at_the_kernel_line() {
    let text =
        "@triton.jit\ndef k(x_ptr):\n    x = tl.load(x_ptr)\n    tl.device_print(\"x\", x_ptr)\n";
    let mut globals = BTreeMap::new();
    globals.insert("tl".to_string(), Binding::Module(ModuleKind::Language));
    globals.insert("triton".to_string(), Binding::Module(ModuleKind::Triton));
    let src = FunctionSource {
        file: SourceFile::new("k.py", text, 10),
        name: "k".into(),
        globals,
    };
    let args = [ArgSpec::Pointer {
        elem: ScalarType::F32,
        divisible_by_16: true,
    }];
    // The interpreter prints pointers; the GPU backends refuse with the source position.
    assert!(tm_compiler::compile_tile(&src, &args).is_ok());
    for target in [Target::apple(), Target::lavapipe()] {
        let err = tm_compiler::compile(&src, &args, &Default::default(), &target).unwrap_err();
        assert_eq!((err.path.as_str(), err.line), ("k.py", 13), "{err}");
        assert!(err.source_line.contains("device_print"), "{err}");
        assert!(err.reason.contains("TRITON_METAL_INTERPRET=1"), "{err}");
    }
}
