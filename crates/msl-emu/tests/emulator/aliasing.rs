//! One buffer bound at several bindings (`EmuKernel::launch_shared`): the bindings share one
//! staged copy, as on a GPU.

use tm_core::ScalarType::I32;
use tm_msl_emu::{EmuError, RunOptions};

use crate::common::*;

/// b0 and b1 alias: each thread stores through b0, then after a device barrier reads its
/// neighbour's element through b1 and writes it to b2.
fn neighbour_kernel() -> (tm_msl_emu::EmuKernel, tm_core::KernelAbi) {
    let body = format!(
        "{PROLOGUE}
  b0[tm_tid] = int(tm_tid) * 3;
  threadgroup_barrier(mem_flags::mem_device);
  b2[tm_tid] = b1[(tm_tid + 1) % 64];"
    );
    let src = msl("alias_neighbour", &["int", "int", "int"], &body);
    let abi = abi("alias_neighbour", 64, &[I32, I32, I32], &[]);
    (compile(&src, &abi), abi)
}

#[test]
fn a_store_through_one_binding_is_seen_through_the_other() {
    let (k, abi) = neighbour_kernel();
    let mut x = vec![0xffu8; 64 * 4];
    let mut out = vec![0u8; 64 * 4];
    k.launch_shared(
        [1, 1, 1],
        &mut scalars(&abi, &[]),
        &mut [&mut x, &mut out],
        &[0, 0, 1],
        &RunOptions { check_races: true },
    )
    .unwrap();
    let want: Vec<i32> = (0..64).map(|t| t * 3).collect();
    assert_eq!(i32s(&x), want);
    let shifted: Vec<i32> = (0..64).map(|t| ((t + 1) % 64) * 3).collect();
    assert_eq!(i32s(&out), shifted);

    // The identity mapping is `launch`: separate copies, so b1 still reads the old bytes.
    let (mut a, mut b) = (vec![0u8; 64 * 4], vec![0xffu8; 64 * 4]);
    run(
        &k,
        [1, 1, 1],
        &mut scalars(&abi, &[]),
        &mut [&mut a, &mut b, &mut out],
        true,
    )
    .unwrap();
    assert_eq!(i32s(&out), vec![-1; 64]);
}

#[test]
fn atomics_through_two_bindings_hit_one_counter() {
    let body = format!(
        "{PROLOGUE}
  atomic_fetch_add_explicit((device atomic_int *)&b0[tm_tid % 4], 1, memory_order_relaxed);
  atomic_fetch_add_explicit((device atomic_int *)&b1[tm_tid % 4], 1000, memory_order_relaxed);"
    );
    let src = msl("alias_atomics", &["int", "int"], &body);
    let abi = abi("alias_atomics", 64, &[I32, I32], &[]);
    let k = compile(&src, &abi);
    let mut c = vec![0u8; 16];
    k.launch_shared(
        [8, 1, 1],
        &mut scalars(&abi, &[]),
        &mut [&mut c],
        &[0, 0],
        &RunOptions { check_races: true },
    )
    .unwrap();
    assert_eq!(i32s(&c), vec![8 * 16 * 1001; 4]);
}

#[test]
fn a_write_past_a_shared_buffer_names_a_binding_of_it() {
    let body = format!("{PROLOGUE}\n  b1[tm_tid] = 1;\n  b2[tm_tid + 1] = 2;");
    let src = msl("alias_oob", &["int", "int", "int"], &body);
    let abi = abi("alias_oob", 32, &[I32, I32, I32], &[]);
    let k = compile(&src, &abi);
    let (mut a, mut b) = (vec![0u8; 128], vec![0u8; 128]);
    let err = k
        .launch_shared(
            [1, 1, 1],
            &mut scalars(&abi, &[]),
            &mut [&mut a, &mut b],
            &[0, 1, 1],
            &RunOptions { check_races: false },
        )
        .unwrap_err();
    assert!(
        matches!(
            &err,
            EmuError::OutOfBounds {
                binding: 2,
                arg_index: 1,
                before: false,
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn a_race_between_two_bindings_of_one_buffer_is_reported() {
    // One writer per binding: through separate copies (`launch`) there is no conflict,
    // through one buffer two threads write element 0 unordered.
    let body = format!("{PROLOGUE}\n  if (tm_tid == 0) b0[0] = 1;\n  if (tm_tid == 1) b1[0] = 2;");
    let src = msl("alias_race", &["int", "int"], &body);
    let abi = abi("alias_race", 32, &[I32, I32], &[]);
    let k = compile(&src, &abi);
    let (mut a, mut b) = (vec![0u8; 4], vec![0u8; 4]);
    run(
        &k,
        [1, 1, 1],
        &mut scalars(&abi, &[]),
        &mut [&mut a, &mut b],
        true,
    )
    .unwrap();
    assert_eq!((i32s(&a), i32s(&b)), (vec![1], vec![2]));
    let err = k
        .launch_shared(
            [1, 1, 1],
            &mut scalars(&abi, &[]),
            &mut [&mut a],
            &[0, 0],
            &RunOptions { check_races: true },
        )
        .unwrap_err();
    assert!(
        matches!(
            &err,
            EmuError::Race {
                binding: 1,
                byte_offset: 0,
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn bad_buffer_indices_are_refused() {
    let (k, abi) = neighbour_kernel();
    let mut x = vec![0u8; 64 * 4];
    for map in [&[0usize, 0, 1][..], &[0, 0]] {
        let err = k
            .launch_shared(
                [1, 1, 1],
                &mut scalars(&abi, &[]),
                &mut [&mut x],
                map,
                &RunOptions::default(),
            )
            .unwrap_err();
        assert!(matches!(&err, EmuError::BadLaunch { .. }), "{err}");
    }
}
