//! Printer tests: snapshots of both printers on hand-built kernels, every WGSL output
//! validated by naga with wgpu's capabilities, every MSL output type-checked by clang
//! against a Metal shim, and MSL library use checked against `MSL_LIBRARY`.

#[path = "support/kernels.rs"]
mod kernels;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use tm_core::ScalarType;
use tm_printers::{print_msl, print_wgsl, PrintError, MSL_LIBRARY};
use tm_simt::{Expr, Operand, SType, Stmt};

use kernels::{ci, l, s, B};

#[test]
fn msl_snapshots() {
    for (name, k) in kernels::all() {
        let text = print_msl(&k).unwrap_or_else(|e| panic!("{name}: {e}"));
        insta::assert_snapshot!(format!("msl_{name}"), text);
    }
}

#[test]
fn wgsl_snapshots() {
    for (name, k) in kernels::all() {
        let text = print_wgsl(&k).unwrap_or_else(|e| panic!("{name}: {e}"));
        insta::assert_snapshot!(format!("wgsl_{name}"), text);
    }
}

fn naga_validate(src: &str) -> Result<(), String> {
    use naga::valid::{Capabilities, ValidationFlags, Validator};
    let module = naga::front::wgsl::parse_str(src).map_err(|e| e.emit_to_string(src))?;
    let caps = Capabilities::SHADER_FLOAT16
        | Capabilities::SHADER_INT64
        | Capabilities::SUBGROUP
        | Capabilities::SHADER_FLOAT32_ATOMIC
        | Capabilities::SHADER_INT64_ATOMIC_ALL_OPS;
    Validator::new(ValidationFlags::all(), caps)
        .validate(&module)
        .map(|_| ())
        .map_err(|e| e.emit_to_string(src))
}

#[test]
fn every_wgsl_output_passes_naga_validation() {
    for (name, k) in kernels::all() {
        let text = print_wgsl(&k).unwrap();
        if let Err(e) = naga_validate(&text) {
            panic!("{name}: naga rejects the WGSL:\n{e}\n{text}");
        }
    }
}

#[test]
fn wgsl_enables_f16_only_when_used() {
    assert!(print_wgsl(&kernels::f16_kernel())
        .unwrap()
        .starts_with("enable f16;"));
    assert!(!print_wgsl(&kernels::add_kernel())
        .unwrap()
        .contains("enable"));
}

#[test]
fn naga_rejects_what_it_should() {
    // The validation harness itself must be able to fail: a type error.
    assert!(naga_validate("fn f() { let x: u32 = 1i; }").is_err());
}

/// The directory holding the `metal_stdlib` header to compile against: the emulator's
/// shim once it exists, else our minimal test shim.
fn shim_dir() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let real = manifest.join("../msl-emu/shim");
    if real.join("metal_stdlib").exists() {
        real
    } else {
        manifest.join("tests/shim")
    }
}

fn clang() -> Option<&'static str> {
    let ok = Command::new("clang-19").arg("--version").output().is_ok();
    ok.then_some("clang-19")
}

/// The emulator's one source rewrite that matters for type checking: Metal's vector
/// constructors (`float4(a, b, c, d)`) become the shim's `vec_ctor`, because clang's
/// functional cast of an ext_vector would mean something else.
fn emulator_rewrite(src: &str) -> String {
    let mut out = String::new();
    let mut rest = src;
    while let Some(pos) = rest.find(|c: char| c.is_ascii_alphabetic()) {
        let (before, from) = rest.split_at(pos);
        out.push_str(before);
        let end = from
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(from.len());
        let (word, after) = from.split_at(end);
        let prev_ident = out.ends_with(|c: char| c.is_ascii_alphanumeric() || c == '_');
        let is_vec = word.ends_with(['2', '3', '4'])
            && MSL_LIBRARY.contains(&word)
            && word.len() > 1
            && word[..word.len() - 1]
                .chars()
                .all(|c| c.is_ascii_alphabetic());
        if is_vec && !prev_ident && after.starts_with('(') {
            out.push_str(&format!("::tm_detail::vec_ctor<{word}>"));
        } else {
            out.push_str(word);
        }
        rest = after;
    }
    out.push_str(rest);
    out
}

fn clang_check(name: &str, src: &str) -> Result<(), String> {
    let Some(cc) = clang() else { return Ok(()) };
    let shim = shim_dir();
    let src = if shim.ends_with("msl-emu/shim") {
        emulator_rewrite(src)
    } else {
        src.to_string()
    };
    let dir = std::env::temp_dir().join(format!("tm-printers-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let file = dir.join(format!("{name}.metal"));
    std::fs::write(&file, src).map_err(|e| e.to_string())?;
    let out = Command::new(cc)
        .args([
            "-fsyntax-only",
            "-std=c++20",
            "-x",
            "c++",
            "-Wno-unknown-attributes",
        ])
        .arg("-I")
        .arg(&shim)
        .arg(&file)
        .output()
        .map_err(|e| e.to_string())?;
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

#[test]
fn every_msl_output_compiles_with_clang_against_the_shim() {
    for (name, k) in kernels::all() {
        let text = print_msl(&k).unwrap();
        if let Err(e) = clang_check(name, &text) {
            panic!("{name}: clang rejects the MSL:\n{e}\n{text}");
        }
    }
}

#[test]
fn clang_check_can_fail() {
    if clang().is_some() {
        assert!(clang_check(
            "bad",
            "#include <metal_stdlib>\nint f() { return undeclared; }"
        )
        .is_err());
    }
}

/// Identifier-like tokens of C++ source, `a::b::c` joined, with comments, preprocessor
/// lines and numeric literals skipped.
fn identifiers(src: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in src.lines() {
        if line.trim_start().starts_with('#') {
            continue;
        }
        let code = line.split("//").next().unwrap_or("");
        let b = code.as_bytes();
        let mut i = 0;
        while i < b.len() {
            let c = b[i];
            if c.is_ascii_digit() {
                while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'.' || b[i] == b'_')
                {
                    i += 1;
                }
            } else if c.is_ascii_alphabetic() || c == b'_' {
                let start = i;
                loop {
                    while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                        i += 1;
                    }
                    if code[i..].starts_with("::") {
                        i += 2;
                    } else {
                        break;
                    }
                }
                out.push(code[start..i].to_string());
            } else {
                i += 1;
            }
        }
    }
    out
}

const CXX_KEYWORDS: &[&str] = &[
    "using",
    "namespace",
    "void",
    "bool",
    "char",
    "short",
    "int",
    "long",
    "float",
    "if",
    "else",
    "for",
    "while",
    "return",
    "break",
    "true",
    "false",
    "static",
    "inline",
    "const",
];

fn is_declared_here(id: &str) -> bool {
    let mut c = id.chars();
    let numbered =
        matches!(c.next(), Some('v' | 'b' | 's')) && c.next().is_some_and(|d| d.is_ascii_digit());
    numbered
        || id.starts_with("tm_")
        || ["x", "y", "z", "w", "a", "t", "u", "f", "x2"].contains(&id)
}

#[test]
fn msl_uses_only_listed_library_names() {
    let listed: BTreeSet<&str> = MSL_LIBRARY.iter().copied().collect();
    let mut used = BTreeSet::new();
    for (name, k) in kernels::all() {
        let text = print_msl(&k).unwrap();
        for id in identifiers(&text) {
            if id == k.name || CXX_KEYWORDS.contains(&id.as_str()) || is_declared_here(&id) {
                continue;
            }
            assert!(
                listed.contains(id.as_str()),
                "{name}: '{id}' is not in MSL_LIBRARY"
            );
            used.insert(id);
        }
    }
    // The check sees library calls at all (a tokenizer that found nothing would pass).
    for expected in [
        "metal::threadgroup_barrier",
        "metal::simd_shuffle_xor",
        "as_type",
        "float4",
    ] {
        assert!(used.contains(expected), "{expected} not seen");
    }
}

#[test]
fn library_check_catches_unlisted_names() {
    let ids = identifiers("x = metal::fast::sin(y) + 1.5e-3f; // metal::cos\n#include <foo>");
    assert_eq!(ids, vec!["x", "metal::fast::sin", "y"]);
}

// --- refusals -----------------------------------------------------------------------------

fn f64_kernel() -> tm_simt::Kernel {
    let mut b = B::new("uses_double", 32);
    let d = b.local(s(ScalarType::F64), "d");
    b.set(
        d,
        Expr::Operand(Operand::Const(
            tm_simt::ir::Literal::Float(1.0),
            ScalarType::F64,
        )),
    );
    b.finish()
}

#[test]
fn f64_is_refused_by_both_printers() {
    assert!(
        matches!(print_msl(&f64_kernel()), Err(PrintError::Unsupported(m)) if m.contains("f64"))
    );
    assert!(
        matches!(print_wgsl(&f64_kernel()), Err(PrintError::Unsupported(m)) if m.contains("f64"))
    );
}

#[test]
fn msl_allows_30_buffers_and_refuses_31() {
    let mut b = B::new("many", 32);
    for i in 0..30 {
        b.buffer(&format!("p{i}"), ScalarType::F32, false, false);
    }
    let ok = b.finish();
    assert!(print_msl(&ok).unwrap().contains("[[buffer(30)]]"));
    let mut too_many = ok.clone();
    too_many.buffers.push(too_many.buffers[0].clone());
    assert_eq!(
        print_msl(&too_many),
        Err(PrintError::TooManyBuffers {
            buffers: 31,
            max: 31
        })
    );
}

#[test]
fn wgsl_refuses_byte_locals_and_buffers() {
    let mut b = B::new("bytes", 32);
    let v = b.local(s(ScalarType::I8), "v");
    b.set(v, Expr::Operand(ci(1, ScalarType::I8)));
    let k = b.finish();
    assert!(matches!(print_wgsl(&k), Err(PrintError::Unsupported(_))));
    // MSL has char.
    assert!(print_msl(&k).unwrap().contains("char v0_v;"));

    let mut b = B::new("bf16_buf", 32);
    b.buffer("p", ScalarType::BF16, false, false);
    assert!(matches!(
        print_wgsl(&b.finish()),
        Err(PrintError::Unsupported(_))
    ));
}

#[test]
fn dangling_handles_are_errors_not_panics() {
    let mut k = kernels::add_kernel();
    let other = kernels::ops_kernel();
    // A local handle from a bigger kernel.
    let (far, _) = other.locals.iter().last().unwrap();
    k.body.push(Stmt::Assign {
        dst: far,
        expr: Expr::Operand(ci(0, ScalarType::I32)),
    });
    assert!(matches!(print_msl(&k), Err(PrintError::Malformed(_))));
    assert!(matches!(print_wgsl(&k), Err(PrintError::Malformed(_))));

    let mut k = kernels::add_kernel();
    k.body.push(Stmt::Store {
        buf: 9,
        index: ci(0, ScalarType::I32),
        value: ci(0, ScalarType::F32),
    });
    assert!(matches!(print_msl(&k), Err(PrintError::Malformed(_))));
    assert!(matches!(print_wgsl(&k), Err(PrintError::Malformed(_))));
}

#[test]
fn wgsl_atomics_need_atomic_memory() {
    let mut b = B::new("plain", 32);
    let p = b.buffer("p", ScalarType::I32, true, false);
    b.push(Stmt::AtomicRmw {
        dst: None,
        op: tm_tile::AtomicOp::Add,
        space: tm_simt::Space::Device,
        array: p,
        index: ci(0, ScalarType::I32),
        value: ci(1, ScalarType::I32),
    });
    let k = b.finish();
    assert!(matches!(print_wgsl(&k), Err(PrintError::Malformed(_))));
    // Metal casts any int pointer to an atomic one.
    assert!(print_msl(&k)
        .unwrap()
        .contains("(device atomic_int *)&b0[0]"));
}

#[test]
fn kernel_names_that_clash_are_refused() {
    let k = B::new("fn", 32).finish();
    assert!(print_wgsl(&k).is_err());
    let k = B::new("kernel", 32).finish();
    assert!(print_msl(&k).is_err());
}

#[test]
fn vector_ops_are_printed_per_lane() {
    let mut b = B::new("vec", 32);
    let v = b.let_(
        SType::vector(ScalarType::I32, 2),
        "v",
        Expr::Vector(vec![ci(1, ScalarType::I32), ci(2, ScalarType::I32)]),
    );
    b.let_(
        SType::vector(ScalarType::I32, 2),
        "w",
        Expr::Binary(tm_tile::BinaryOp::Add, l(v), ci(5, ScalarType::I32)),
    );
    let k = b.finish();
    let msl = print_msl(&k).unwrap();
    assert!(
        msl.contains("v1_w = int2(int(uint(v0_v.x) + uint(5)), int(uint(v0_v.y) + uint(5)));"),
        "{msl}"
    );
    let wgsl = print_wgsl(&k).unwrap();
    assert!(
        wgsl.contains("v1_w = vec2<i32>((v0_v.x + 5i), (v0_v.y + 5i));"),
        "{wgsl}"
    );
}
