//! The cooperative-matrix path of dot on WGSL (16×16×16 f16 → f32, NVIDIA through Vulkan):
//! lowering uses it where `Target::matrix_shape` says so, naga accepts the printed WGSL,
//! and where the opened device has cooperative matrices the kernel runs and matches a CPU
//! reference (lavapipe has none: that test then checks nothing and says so).
//!
//! Run on the lent GPU, 2026-11-22: `dot_f16_runs_on_cooperative_matrices_where_the_device_has_them`
//! passed on "NVIDIA H100 80GB HBM3" (driver 580.159.04, wgpu 30 on Vulkan, target
//! `vulkan-nvidia-h100-80gb-hbm3`, matrix_shape (16, 16, 16)): 32x32x32, 64x32x64,
//! batched 2x16x32x32 and 32x32x256 (K in chunks) all equal to the CPU reference.

use crate::harness::{as_f32, f32s, parse, run_wgsl, Arg};
use crate::lowered::dot::{dot_kernel, f16_bits, reference, vals, walk};
use tm_core::Target;
use tm_simt::{lower, Stmt};

fn coop_target() -> Target {
    Target {
        matrix_shape: Some((16, 16, 16)),
        ..Target::wgsl_generic(32)
    }
}

fn naga_validate(src: &str) -> Result<(), String> {
    use naga::valid::{Capabilities, ValidationFlags, Validator};
    let module = naga::front::wgsl::parse_str(src).map_err(|e| e.emit_to_string(src))?;
    let caps =
        Capabilities::SHADER_FLOAT16 | Capabilities::SUBGROUP | Capabilities::COOPERATIVE_MATRIX;
    Validator::new(ValidationFlags::all(), caps)
        .validate(&module)
        .map(|_| ())
        .map_err(|e| e.emit_to_string(src))
}

#[test]
fn f16_dot_on_a_16x16_target_uses_cooperative_matrices_that_naga_accepts() {
    let f = parse(&dot_kernel(None, 32, 32, 32, "f16", "f32"));
    let k = lower(&f, &coop_target(), 4).expect("lowers");
    assert_eq!(k.matrix_size, 16);
    let mut all = Vec::new();
    walk(&k.body, &mut all);
    // 4 result tiles of 16x16 over 4 simdgroups (one each), 2 steps of K.
    let mma = all
        .iter()
        .filter(|s| matches!(s, Stmt::MatrixMulAcc { .. }))
        .count();
    assert_eq!(mma, 2);
    let wgsl = tm_printers::print_wgsl(&k).expect("prints");
    assert!(
        wgsl.starts_with("enable f16;\n\nenable wgpu_cooperative_matrix;"),
        "{wgsl}"
    );
    assert!(wgsl.contains("coop_mat16x16<f16, A>"), "{wgsl}");
    assert!(wgsl.contains("coop_mat16x16<f16, B>"), "{wgsl}");
    assert!(wgsl.contains("coop_mat16x16<f32, C>"), "{wgsl}");
    assert!(wgsl.contains("coopMultiplyAdd("), "{wgsl}");
    if let Err(e) = naga_validate(&wgsl) {
        panic!("naga rejects the WGSL:\n{e}\n{wgsl}");
    }
    // Without the capability naga must refuse it (the validation above is not vacuous).
    let module = naga::front::wgsl::parse_str(&wgsl).expect("parses");
    let plain = naga::valid::Validator::new(
        naga::valid::ValidationFlags::all(),
        naga::valid::Capabilities::SHADER_FLOAT16 | naga::valid::Capabilities::SUBGROUP,
    )
    .validate(&module);
    assert!(plain.is_err());
}

#[test]
fn f32_dot_keeps_the_fma_path_on_a_16x16_f16_target() {
    let f = parse(&dot_kernel(None, 32, 32, 32, "f32", "f32"));
    let k = lower(&f, &coop_target(), 4).expect("lowers");
    assert!(k.matrices.is_empty());
    let wgsl = tm_printers::print_wgsl(&k).expect("prints");
    assert!(!wgsl.contains("cooperative"));
}

/// Runs only where the opened device reports 16×16×16 cooperative matrices (the lent
/// NVIDIA GPU); elsewhere it prints why it checked nothing.
#[test]
fn dot_f16_runs_on_cooperative_matrices_where_the_device_has_them() {
    let Some(dev) = crate::harness::device() else {
        eprintln!("no wgpu device: nothing checked");
        return;
    };
    let t = dev.target();
    eprintln!("device: {} matrix_shape: {:?}", t.name, t.matrix_shape);
    if t.matrix_shape != Some((16, 16, 16)) {
        eprintln!(
            "{} has no 16x16x16 cooperative matrices: nothing checked",
            t.name
        );
        return;
    }
    for (batch, m, n, k, warps) in [
        (None, 32u32, 32u32, 32u32, 4u32),
        (None, 64, 32, 64, 4),
        (Some(2u32), 16, 32, 32, 2),
        (None, 32, 32, 256, 4),
    ] {
        let bt = batch.unwrap_or(1) as usize;
        let (mu, nu, ku) = (m as usize, n as usize, k as usize);
        let a = vals(bt * mu * ku, 1);
        let b = vals(bt * ku * nu, 2);
        let c = vals(bt * mu * nu, 3);
        let want: Vec<f32> = reference(bt, mu, nu, ku, &a, &b, &c)
            .iter()
            .map(|&x| x as f32)
            .collect();
        let enc = |v: &[f64]| Arg::Buf(v.iter().flat_map(|&x| f16_bits(x).to_le_bytes()).collect());
        let c32: Vec<f32> = c.iter().map(|&x| x as f32).collect();
        let args = [enc(&a), enc(&b), f32s(&c32), f32s(&vec![0.0; c.len()])];
        let f = parse(&dot_kernel(batch, m, n, k, "f16", "f32"));
        let lowered = lower(&f, t, warps).expect("lowers");
        assert!(
            !lowered.matrices.is_empty(),
            "the cooperative path is taken"
        );
        let out = run_wgsl(&f, [1, 1, 1], warps, &args).expect("a device");
        assert_eq!(
            as_f32(&out[3]),
            want,
            "coop-matrix dot {batch:?}x{m}x{n}x{k} on {}",
            t.name
        );
        eprintln!("coop-matrix dot {batch:?}x{m}x{n}x{k} on {}: ok", t.name);
    }
}

/// A K loop of `acc = tl.dot(a, b, acc)` on 16×16 cooperative matrices: the accumulators
/// are `coop_mat16x16<f32, C>` variables carried by the loop (loaded before it, stored
/// after it, never inside it), the staging alternates two buffers behind one workgroup
/// barrier per iteration, and naga accepts the module.
#[test]
fn loop_carried_accumulator_stays_in_cooperative_matrices() {
    let text = include_str!("../../../simt/tests/kernels/dot_loop.tile");
    let f = parse(text);
    // 48 KiB of workgroup memory, as the H100 reports: room for two staging buffers.
    let t = Target {
        shared_mem_bytes: 48 * 1024,
        ..coop_target()
    };
    let k = lower(&f, &t, 4).expect("lowers");
    let wgsl = tm_printers::print_wgsl(&k).expect("prints");
    if let Err(e) = naga_validate(&wgsl) {
        panic!("naga rejects the WGSL:\n{e}\n{wgsl}");
    }
    let start = wgsl.find("for (").expect("the K loop");
    let inside = &wgsl[start..];
    let end = inside.find("\n    }\n").expect("loop end");
    let body = &inside[..end];
    assert!(!body.contains("coopStoreT"), "{body}");
    assert!(!body.contains("coopLoadT<coop_mat16x16<f32"), "{body}");
    // One 16x16 tile per simdgroup, two steps of 16 along K.
    assert_eq!(body.matches("coopMultiplyAdd(").count(), 2, "{body}");
    assert_eq!(body.matches("workgroupBarrier()").count(), 1, "{body}");
    assert!(!body.contains("storageBarrier()"), "{body}");
    assert_eq!(wgsl.matches("coopStoreT(").count(), 1, "{wgsl}");
}
