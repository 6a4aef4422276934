//! Launcher-supplied buffers (`KernelAbi::scratch`): lock words shared by the kernels of one
//! emulator and kept across launches, debug records zeroed per launch and handed back.

use tm_core::ScalarType::U32;
use tm_core::{ScratchBinding, ScratchKind};
use tm_msl_emu::{EmuKernel, Emulator, RunOptions};

use crate::common::*;

/// `b0[0..4]` gets the lock words as the kernel found them, then the kernel bumps them (a
/// real kernel leaves its locks released; this one does not, to show the same memory comes
/// back at the next launch).
fn peek_locks(emu: &Emulator, name: &str, lock_bytes: u32) -> EmuKernel {
    let body = format!(
        "{PROLOGUE}
  for (uint i = 0; i < 4; i++) {{ b0[i] = tm_locks[i]; tm_locks[i] += i + 1; }}"
    );
    let src = msl(name, &["uint"], &body).replace(
        "device uint *b0 [[buffer(1)]],",
        "device uint *b0 [[buffer(1)]],\n    device uint *tm_locks [[buffer(2)]],",
    );
    let mut abi = abi(name, 1, &[U32], &[]);
    abi.scratch.push(ScratchBinding {
        kind: ScratchKind::Locks,
        binding: 2,
        bytes: lock_bytes,
    });
    emu.compile(&src, &abi).unwrap_or_else(|e| panic!("{e}"))
}

fn run_peek(k: &EmuKernel) -> Vec<u32> {
    let mut out = vec![0u8; 16];
    let mut s = scalars(k.abi(), &[]);
    // Only the argument buffer: the lock words are the emulator's. The race check runs the
    // grid twice; the lock words must still advance once per launch.
    run(k, [1, 1, 1], &mut s, &mut [&mut out], true).unwrap();
    u32s(&out)
}

#[test]
fn lock_words_start_zeroed_and_persist_across_launches() {
    // An emulator of its own: the shared one's lock words belong to the other tests.
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("msl-emu-cache");
    let emu = Emulator::with_cache_dir(dir).unwrap();
    let k = peek_locks(&emu, "peek_locks", 16);
    assert_eq!(run_peek(&k), [0, 0, 0, 0]);
    assert_eq!(run_peek(&k), [1, 2, 3, 4]);
    // Another kernel of the same emulator shares them.
    let k2 = peek_locks(&emu, "peek_locks2", 8);
    assert_eq!(run_peek(&k2), [2, 4, 6, 8]);
    // One that needs more gets them zeroed again, and the first kernel shares those.
    let k3 = peek_locks(&emu, "peek_locks3", 4096);
    assert_eq!(run_peek(&k3), [0, 0, 0, 0]);
    assert_eq!(run_peek(&k), [1, 2, 3, 4]);
    assert!(k.take_debug_output().is_empty());
}

#[test]
fn debug_buffers_are_zeroed_per_launch_and_handed_back() {
    let body = format!(
        "{PROLOGUE}
  uint slot = atomic_fetch_add_explicit(&tm_debug[0], 1u, memory_order_relaxed);
  atomic_store_explicit(&tm_debug[slot + 1], pid + 100u, memory_order_relaxed);
  b0[pid] = 1u;"
    );
    let src = msl("records", &["uint"], &body).replace(
        "device uint *b0 [[buffer(1)]],",
        "device uint *b0 [[buffer(1)]],\n    device atomic_uint *tm_debug [[buffer(2)]],",
    );
    let mut abi = abi("records", 1, &[U32], &[]);
    abi.scratch.push(ScratchBinding {
        kind: ScratchKind::Debug,
        binding: 2,
        bytes: 64,
    });
    let k = compile(&src, &abi);
    let mut out = vec![0u8; 16];
    let mut s = scalars(&abi, &[]);
    k.launch(
        [3, 1, 1],
        &mut s,
        &mut [&mut out],
        &RunOptions { check_races: true },
    )
    .unwrap();
    k.launch(
        [2, 1, 1],
        &mut s,
        &mut [&mut out],
        &RunOptions { check_races: false },
    )
    .unwrap();
    let got = k.take_debug_output();
    assert_eq!(got.len(), 2);
    for (bytes, programs) in got.iter().zip([3u32, 2]) {
        assert_eq!(bytes.len(), 64);
        let words = u32s(bytes);
        // 5 would mean the second launch saw the first one's records, 6 that the race
        // check's second run wrote into the same buffer.
        assert_eq!(words[0], programs);
        let mut ids = words[1..=programs as usize].to_vec();
        ids.sort();
        assert_eq!(ids, (100..100 + programs).collect::<Vec<_>>());
        assert!(words[programs as usize + 1..].iter().all(|&w| w == 0));
    }
    assert!(k.take_debug_output().is_empty());
    assert_eq!(u32s(&out), [1, 1, 1, 0]);
}

#[test]
fn writes_past_a_scratch_buffer_are_reported() {
    let body = format!("{PROLOGUE}\n  tm_debug[16] = 1u;");
    let src = msl("past_debug", &["uint"], &body).replace(
        "device uint *b0 [[buffer(1)]],",
        "device uint *b0 [[buffer(1)]],\n    device uint *tm_debug [[buffer(2)]],",
    );
    let mut abi = abi("past_debug", 1, &[U32], &[]);
    abi.scratch.push(ScratchBinding {
        kind: ScratchKind::Debug,
        binding: 2,
        bytes: 64,
    });
    let k = compile(&src, &abi);
    let mut out = vec![0u8; 4];
    let e = run(
        &k,
        [1, 1, 1],
        &mut scalars(&abi, &[]),
        &mut [&mut out],
        false,
    )
    .unwrap_err();
    assert!(
        e.to_string()
            .contains("past the bounds of its Debug buffer(binding 2)"),
        "{e}"
    );
}
