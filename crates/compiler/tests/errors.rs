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

/// A kernel that already uses every buffer slot of the target has none left for the
/// device_print records: refused by name, with the position of the print.
#[test]
fn device_print_without_a_free_buffer_slot_is_refused() {
    let target = Target::apple();
    let n = target.max_buffers as usize - 1;
    let params: Vec<String> = (0..n).map(|i| format!("p{i}")).collect();
    let text = format!(
        "@triton.jit\ndef k({}):\n    x = tl.load(p0)\n    tl.device_print(\"x\", x)\n",
        params.join(", ")
    );
    let mut globals = BTreeMap::new();
    globals.insert("tl".to_string(), Binding::Module(ModuleKind::Language));
    globals.insert("triton".to_string(), Binding::Module(ModuleKind::Triton));
    let src = FunctionSource {
        file: SourceFile::new("k.py", &text, 1),
        name: "k".into(),
        globals,
    };
    let args: Vec<ArgSpec> = (0..n)
        .map(|_| ArgSpec::Pointer {
            elem: ScalarType::F32,
            divisible_by_16: true,
        })
        .collect();
    let err = tm_compiler::compile(&src, &args, &Default::default(), &target).unwrap_err();
    assert!(
        err.reason
            .contains("device_print/device_assert need a buffer"),
        "{err}"
    );
    assert_eq!(err.line, 4, "{err}");
    // One argument fewer leaves the slot free.
    let fewer = text.replacen(&format!(", p{}", n - 1), "", 1);
    let src = FunctionSource {
        file: SourceFile::new("k.py", &fewer, 1),
        ..src
    };
    assert!(tm_compiler::compile(&src, &args[1..], &Default::default(), &target).is_ok());
}
