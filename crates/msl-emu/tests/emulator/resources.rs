//! Launches must not leave per-launch state mapped: test suites load hundreds of kernels
//! into one process.

use tm_core::ScalarType::F32;

use crate::common::*;

fn mapped_regions() -> usize {
    std::fs::read_to_string("/proc/self/maps")
        .map(|m| m.lines().count())
        .unwrap_or(0)
}

#[test]
fn fiber_stacks_do_not_stay_mapped_after_a_launch() {
    let kernels = 12;
    let threads = 512;
    // Load and launch once first so the test harness's own first-use mappings are counted out.
    let warm = msl(
        "maps_warm",
        &["float"],
        &format!("{PROLOGUE}\n  b0[tm_tid] = 1.0f;"),
    );
    let mut out = vec![0u8; threads as usize * 4];
    let k = compile(&warm, &abi("maps_warm", threads, &[F32], &[]));
    run(
        &k,
        [1, 1, 1],
        &mut scalars(&k_abi(threads), &[]),
        &mut [&mut out],
        false,
    )
    .unwrap();
    let before = mapped_regions();
    for i in 0..kernels {
        let name = format!("maps_{i}");
        let src = msl(
            &name,
            &["float"],
            &format!("{PROLOGUE}\n  b0[tm_tid] = {i}.0f;"),
        );
        let k = compile(&src, &abi(&name, threads, &[F32], &[]));
        run(
            &k,
            [1, 1, 1],
            &mut scalars(&k_abi(threads), &[]),
            &mut [&mut out],
            false,
        )
        .unwrap();
        assert_eq!(f32s(&out)[threads as usize - 1], i as f32);
    }
    let grown = mapped_regions().saturating_sub(before);
    // A loaded kernel library costs a handful of regions; stacks left behind with their guard
    // pages would cost two per thread (over a thousand per kernel here).
    assert!(
        grown < kernels * 64,
        "{grown} regions more after {kernels} kernels of {threads} threads"
    );
}

fn k_abi(threads: u32) -> tm_core::KernelAbi {
    abi("unused", threads, &[F32], &[])
}
