//! MSL as tm-printers prints it (fixtures/ holds a copy of a printed kernel, so this test
//! does not move when the printer's snapshots do).

use tm_core::ScalarType::{F32, I32};

use crate::common::*;

const REVERSE_BLOCK: &str = include_str!("fixtures/printed_reverse_block.metal");

#[test]
fn printed_kernel_with_threadgroup_memory_and_atomics_runs() {
    let abi = abi("reverse_block", 128, &[F32, F32, I32, F32], &[]);
    let k = compile(REVERSE_BLOCK, &abi);
    let groups = 3usize;
    let x: Vec<f32> = (0..groups * 128).map(|i| i as f32 * 0.25).collect();
    let (mut bx, mut out) = (f32_bytes(&x), vec![0u8; groups * 128 * 4]);
    let (mut flags, mut sum) = (vec![0u8; groups * 4], vec![0u8; 4]);
    // The kernel uses the value returned by atomic_fetch_max, which depends on the order of
    // the threads: the race check would rightly report it.
    run(
        &k,
        [groups as u32, 1, 1],
        &mut scalars(&abi, &[]),
        &mut [&mut bx, &mut out, &mut flags, &mut sum],
        false,
    )
    .unwrap();
    let out = f32s(&out);
    for g in 0..groups {
        for t in 0..128 {
            assert_eq!(
                out[g * 128 + t],
                x[g * 128 + 127 - t],
                "group {g} thread {t}"
            );
        }
    }
    let want: f32 = (0..groups).map(|g| 128.0 * x[g * 128 + 2]).sum();
    assert_eq!(f32s(&sum)[0], want);
    assert_eq!(&i32s(&flags)[1..], &[127, 127]);
}

const SIMD_REDUCE: &str = include_str!("fixtures/printed_simd_reduce.metal");

#[test]
fn printed_kernel_with_simd_shuffles_scans_and_votes_runs() {
    use tm_core::ScalarType::I64;
    let abi = abi("simd_reduce", 64, &[F32, F32, I64], &[]);
    let k = compile(SIMD_REDUCE, &abi);
    // Integers keep every sum exact, so the expected values are exact too.
    let x: Vec<f32> = (0..64)
        .map(|i| (i % 32 + 1 + 100 * (i / 32)) as f32)
        .collect();
    let (mut bx, mut out, mut wide) = (f32_bytes(&x), vec![0u8; 256], vec![0u8; 512]);
    run(
        &k,
        [1, 1, 1],
        &mut scalars(&abi, &[]),
        &mut [&mut bx, &mut out, &mut wide],
        true,
    )
    .unwrap();
    let out = f32s(&out);
    for (t, &got) in out.iter().enumerate() {
        let sg = t / 32 * 32;
        let s: f32 = x[sg..sg + 32].iter().sum();
        // butterfly sum s in every lane -> simd_sum 32 s -> max, shuffles keep it -> scan.
        assert_eq!(got, ((t % 32) + 1) as f32 * 32.0 * s, "thread {t}");
    }
    let wide: Vec<i64> = wide
        .chunks_exact(8)
        .map(|c| i64::from_le_bytes(c.try_into().unwrap()))
        .collect();
    assert_eq!(wide, vec![1i64; 64]);
}
