//! The `triton-metal` command, run as a user runs it.

use std::process::Command;

fn fixture(name: &str) -> String {
    format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn triton_metal(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_triton-metal"))
        .args(args)
        .output()
        .expect("the binary runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn compile_vector_add(emit: &str, extra: &[&str]) -> (bool, String, String) {
    let file = fixture("vector_add.py");
    let mut args = vec![
        "compile",
        &file,
        "--kernel",
        "add_kernel",
        "--signature",
        "*fp32,*fp32,*fp32,i32",
        "--constexpr",
        "BLOCK_SIZE=1024",
        "--emit",
        emit,
    ];
    args.extend_from_slice(extra);
    triton_metal(&args)
}

#[test]
fn every_stage_of_vector_add_prints() {
    let (ok, tile, err) = compile_vector_add("tile", &[]);
    assert!(ok, "{err}");
    assert!(tile.contains("tt.func @add_kernel("), "{tile}");
    assert!(tile.contains("make_range {start=0, end=1024}"), "{tile}");
    // The text form parses back to the same text.
    let parsed = tm_tile::parse(&tile).expect("printed Tile IR parses");
    assert_eq!(tm_tile::print(&parsed), tile);

    let (ok, simt, err) = compile_vector_add("simt", &[]);
    assert!(ok, "{err}");
    assert!(
        simt.contains("kernel add_kernel threads=128 simd=32"),
        "{simt}"
    );

    let (ok, msl, err) = compile_vector_add("msl", &[]);
    assert!(ok, "{err}");
    assert!(msl.contains("kernel void add_kernel("), "{msl}");
    assert!(msl.contains("[[buffer(3)]]"), "{msl}");

    let (ok, wgsl, err) = compile_vector_add("wgsl", &["--target", "lavapipe"]);
    assert!(ok, "{err}");
    assert!(wgsl.contains("@compute @workgroup_size(32)"), "{wgsl}");
}

#[test]
fn num_warps_sets_the_group_size() {
    let (ok, simt, err) = compile_vector_add("simt", &["--num-warps", "8"]);
    assert!(ok, "{err}");
    assert!(simt.contains("threads=256 simd=32"), "{simt}");
}

#[test]
fn jit_helpers_and_module_constants_resolve_from_the_file() {
    let file = fixture("helpers.py");
    let (ok, tile, err) = triton_metal(&[
        "compile",
        &file,
        "--kernel",
        "scale_kernel",
        "--signature",
        "*fp32,*fp32,i32",
        "--constexpr",
        "BLOCK=256",
    ]);
    assert!(ok, "{err}");
    // twice() was inlined with SCALE = 2.
    assert!(tile.contains("mul"), "{tile}");
    assert!(tile.contains("2.0") || tile.contains("value=2"), "{tile}");
}

#[test]
fn compilation_errors_point_at_the_source() {
    let file = fixture("helpers.py");
    let (ok, out, err) = triton_metal(&[
        "compile",
        &file,
        "--kernel",
        "broken_kernel",
        "--signature",
        "*fp32",
        "--constexpr",
        "BLOCK=64",
    ]);
    assert!(!ok);
    assert!(out.is_empty());
    assert!(err.starts_with(&format!("at {file}:22:")), "{err}");
    assert!(err.contains("tl.no_such_function(offs)"), "{err}");
    assert!(err.contains('^'), "{err}");
}

#[test]
fn bad_command_lines_are_explained() {
    let file = fixture("vector_add.py");
    let cases: &[(&[&str], &str)] = &[
        (&["--signature", "*fp32,*fp32"], "no type for parameter"),
        (&["--signature", "*fp32,*fp32,*fp32,i32,i32"], "more types"),
        (&["--signature", "*fp32,*fp32,*fp32,q7"], "unknown dtype"),
        (
            &[
                "--signature",
                "*fp32,*fp32,*fp32,i32",
                "--constexpr",
                "NOPE=1",
            ],
            "no parameter named 'NOPE'",
        ),
    ];
    for (extra, expected) in cases {
        let mut args = vec!["compile", file.as_str(), "--kernel", "add_kernel"];
        args.extend_from_slice(extra);
        args.extend_from_slice(&["--constexpr", "BLOCK_SIZE=64"]);
        let (ok, _, err) = triton_metal(&args);
        assert!(!ok, "{args:?} should fail");
        assert!(err.contains(expected), "{args:?}: {err}");
    }
    let (ok, _, err) = triton_metal(&["compile", &file, "--kernel", "nope"]);
    assert!(!ok);
    assert!(err.contains("no @jit function named 'nope'"), "{err}");
    let (ok, _, err) = compile_vector_add("msl", &["--target", "lavapipe"]);
    assert!(!ok);
    assert!(err.contains("does not print this language"), "{err}");
}

#[test]
fn functions_imported_by_name_resolve() {
    let file = fixture("helpers.py");
    let (ok, tile, err) = triton_metal(&[
        "compile",
        &file,
        "--kernel",
        "imported_names_kernel",
        "--signature",
        "*i32",
        "--constexpr",
        "BLOCK=64",
    ]);
    assert!(ok, "{err}");
    assert!(tile.contains("program_id"), "{tile}");
    assert!(tile.contains("make_range {start=0, end=64}"), "{tile}");
}
