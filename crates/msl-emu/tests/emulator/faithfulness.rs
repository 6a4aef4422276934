use tm_core::ScalarType::{F32, I32};
use tm_msl_emu::EmuError;

use crate::basics::reduce_msl;
use crate::common::*;

#[test]
fn reduction_without_its_barrier_is_a_race() {
    let src = reduce_msl("reduce_racy", "");
    let abi = abi("reduce_racy", 128, &[F32, F32], &[]);
    let k = compile(&src, &abi);
    let x: Vec<f32> = (0..256).map(|i| (i % 5) as f32).collect();
    let (mut bx, mut out) = (f32_bytes(&x), vec![0u8; 8]);
    let err = run(
        &k,
        [2, 1, 1],
        &mut scalars(&abi, &[]),
        &mut [&mut bx, &mut out],
        true,
    )
    .unwrap_err();
    match &err {
        EmuError::Race {
            kernel, binding, ..
        } => {
            assert_eq!(kernel, "reduce_racy");
            assert_eq!(*binding, 2);
        }
        other => panic!("expected a race, got {other}"),
    }
    assert!(err.to_string().contains("reduce_racy"));
}

#[test]
fn simd_sum_in_divergent_control_flow_is_reported() {
    let body = format!(
        "{PROLOGUE}
  float v = b0[tm_tid];
  if (tm_tid % 32 < 16) {{
    v = simd_sum(v);
  }}
  b0[tm_tid] = v;"
    );
    let src = msl("divergent_simd", &["float"], &body);
    let abi = abi("divergent_simd", 64, &[F32], &[]);
    let k = compile(&src, &abi);
    let mut b = vec![0u8; 256];
    let err = run(&k, [1, 1, 1], &mut scalars(&abi, &[]), &mut [&mut b], false).unwrap_err();
    let EmuError::Divergence {
        kernel,
        group,
        detail,
    } = &err
    else {
        panic!("expected divergence, got {err}");
    };
    assert_eq!(kernel, "divergent_simd");
    assert_eq!(*group, [0, 0, 0]);
    let line = src.lines().position(|l| l.contains("simd_sum(v)")).unwrap() + 1;
    assert!(
        detail.contains(&format!("threads 0-15 wait at simd_sum (line {line})")),
        "{detail}"
    );
    assert!(detail.contains("threads 16-31 returned"), "{detail}");
}

#[test]
fn lanes_at_different_simd_operations_are_reported() {
    let body = format!(
        "{PROLOGUE}
  float v = b0[tm_tid];
  if (tm_tid % 2 == 0) v = simd_sum(v);
  else v = simd_max(v);
  b0[tm_tid] = v;"
    );
    let src = msl("two_simd_ops", &["float"], &body);
    let abi = abi("two_simd_ops", 32, &[F32], &[]);
    let k = compile(&src, &abi);
    let mut b = vec![0u8; 128];
    let err = run(&k, [1, 1, 1], &mut scalars(&abi, &[]), &mut [&mut b], false).unwrap_err();
    assert!(matches!(err, EmuError::Divergence { .. }), "{err}");
    let text = err.to_string();
    assert!(
        text.contains("simd_sum") && text.contains("simd_max"),
        "{text}"
    );
}

#[test]
fn early_return_before_a_barrier_is_reported_not_hung() {
    let body = format!(
        "{PROLOGUE}
  if (tm_tid >= 40) return;
  threadgroup_barrier(mem_flags::mem_threadgroup);
  b0[tm_tid] = 1.0f;"
    );
    let src = msl("early_return", &["float"], &body);
    let abi = abi("early_return", 64, &[F32], &[]);
    let k = compile(&src, &abi);
    let mut b = vec![0u8; 256];
    let err = run(&k, [3, 1, 1], &mut scalars(&abi, &[]), &mut [&mut b], true).unwrap_err();
    let EmuError::Divergence { kernel, detail, .. } = &err else {
        panic!("expected divergence, got {err}");
    };
    assert_eq!(kernel, "early_return");
    assert!(
        detail.contains("threads 0-39 wait at threadgroup_barrier"),
        "{detail}"
    );
    assert!(detail.contains("threads 40-63 returned"), "{detail}");
}

#[test]
fn clang_errors_name_the_msl_line() {
    let body = format!("{PROLOGUE}\n  b0[tm_tid] = undeclared_value;");
    let src = msl("bad_name", &["float"], &body);
    let abi = abi("bad_name", 32, &[F32], &[]);
    let err = emulator()
        .compile(&src, &abi)
        .err()
        .expect("must not compile");
    let EmuError::Compile {
        kernel,
        diagnostics,
        ..
    } = &err
    else {
        panic!("expected a compile error, got {err}");
    };
    assert_eq!(kernel, "bad_name");
    let d = diagnostics
        .iter()
        .find(|d| d.severity == "error")
        .expect("an error");
    assert_eq!(d.file, None);
    let line = src
        .lines()
        .position(|l| l.contains("undeclared_value"))
        .unwrap() as u32
        + 1;
    assert_eq!(d.line, line);
    assert!(d.message.contains("undeclared_value"), "{}", d.message);
    assert!(err.to_string().contains(&format!("line {line}:")), "{err}");
}

#[test]
fn metal_only_restrictions_are_refused_before_clang() {
    let body = format!("{PROLOGUE}\n  double d = b0[tm_tid];\n  b0[tm_tid] = d;");
    let src = msl("uses_double", &["float"], &body);
    let err = emulator()
        .compile(&src, &abi("uses_double", 32, &[F32], &[]))
        .err()
        .expect("refused");
    let EmuError::Refused {
        kernel,
        line,
        reason,
    } = &err
    else {
        panic!("expected a refusal, got {err}");
    };
    assert_eq!(kernel, "uses_double");
    assert_eq!(
        *line,
        src.lines().position(|l| l.contains("double d")).unwrap() as u32 + 1
    );
    assert!(reason.contains("double"));

    let rec = msl("recursive", &["float"], "  b0[0] = helper(3.0f);").replace(
        "kernel void",
        "float helper(float x) { return x <= 0.0f ? 0.0f : x + helper(x - 1.0f); }\nkernel void",
    );
    let err = emulator()
        .compile(&rec, &abi("recursive", 32, &[F32], &[]))
        .err()
        .expect("refused");
    assert!(
        matches!(&err, EmuError::Refused { reason, .. } if reason.contains("recursion")),
        "{err}"
    );
}

#[test]
fn writes_past_a_buffer_are_reported() {
    let body = format!("{PROLOGUE}\n  b0[tm_tid + 1] = 1;");
    let src = msl("oob_write", &["int"], &body);
    let abi = abi("oob_write", 32, &[I32], &[]);
    let k = compile(&src, &abi);
    let mut b = vec![0u8; 128];
    let err = run(&k, [1, 1, 1], &mut scalars(&abi, &[]), &mut [&mut b], false).unwrap_err();
    assert!(
        matches!(&err, EmuError::OutOfBounds { kernel, binding: 1, before: false, .. } if kernel == "oob_write"),
        "{err}"
    );
}

#[test]
fn uninitialised_threadgroup_reads_differ_between_runs() {
    // Thread 0 reads a slot no thread wrote: the two runs poison threadgroup memory
    // differently, so the result differs and is reported.
    let body = format!(
        "{PROLOGUE}
  threadgroup int scratch[64];
  if (tm_tid > 0) scratch[tm_tid] = int(tm_tid);
  threadgroup_barrier(mem_flags::mem_threadgroup);
  b0[tm_tid] = scratch[tm_tid];"
    );
    let src = msl("uninit_tg", &["int"], &body);
    let abi = abi("uninit_tg", 64, &[I32], &[]);
    let k = compile(&src, &abi);
    let mut b = vec![0u8; 256];
    let err = run(&k, [1, 1, 1], &mut scalars(&abi, &[]), &mut [&mut b], true).unwrap_err();
    assert!(
        matches!(&err, EmuError::Race { byte_offset: 0, .. }),
        "{err}"
    );
}
