//! Launcher-supplied buffers (`KernelAbi::scratch`): lock words kept per device, debug
//! records fresh per launch and handed back after it. Callers pass only argument buffers.

mod common;

use common::*;
use tm_core::ScalarType::U32;
use tm_core::{KernelAbi, ScratchBinding, ScratchKind};
use tm_runtime::{GpuDevice, KernelCode, RuntimeError};

/// `b0[0..4]` gets the four lock words as the kernel found them; then the kernel bumps
/// them (a real kernel leaves its locks released: this one does not, to show that the same
/// buffer comes back at the next launch).
fn peek_locks(dev: &GpuDevice, lock_bytes: u32) -> (KernelCode, KernelAbi) {
    let mut src = kernel(
        dev,
        "",
        "peek_locks",
        1,
        &[("u32", true)],
        "    for (var i = 0u; i < 4u; i++) { b0[i] = tm_locks[i]; tm_locks[i] = tm_locks[i] + i + 1u; }",
    );
    src.insert_str(
        0,
        "@group(0) @binding(2) var<storage, read_write> tm_locks: array<u32>;\n",
    );
    let mut abi = abi("peek_locks", 1, &[(U32, true)], &[]);
    abi.scratch.push(ScratchBinding {
        kind: ScratchKind::Locks,
        binding: 2,
        bytes: lock_bytes,
    });
    (KernelCode::Wgsl(src), abi)
}

fn run_peek(dev: &GpuDevice, p: &tm_runtime::GpuPipeline, abi: &KernelAbi) -> Vec<u32> {
    let out = dev.create_buffer(16).unwrap();
    let mut s = scalars(abi, &[]);
    // Only the argument buffer: the lock words are the device's.
    dev.launch(p, [1, 1, 1], &mut s, &[&out]).unwrap();
    let mut b = [0u8; 16];
    dev.read_buffer(&out, &mut b).unwrap();
    u32_from(&b)
}

#[test]
fn lock_words_start_zeroed_and_persist_across_launches() {
    let Some(dev) = fresh_device() else { return };
    assert_eq!(dev.locks_buffer_id(), None);
    let (code, abi) = peek_locks(&dev, 16);
    let p = dev.create_pipeline(&code, &abi).unwrap();
    assert_eq!(run_peek(&dev, &p, &abi), vec![0, 0, 0, 0]);
    let first = dev
        .locks_buffer_id()
        .expect("the launch created the lock words");
    assert_eq!(run_peek(&dev, &p, &abi), vec![1, 2, 3, 4]);
    assert_eq!(run_peek(&dev, &p, &abi), vec![2, 4, 6, 8]);
    assert_eq!(dev.locks_buffer_id(), Some(first));

    // Another kernel asking for no more words shares the same buffer.
    let (code2, abi2) = peek_locks(&dev, 8);
    let p2 = dev.create_pipeline(&code2, &abi2).unwrap();
    assert_ne!(p.id(), p2.id());
    assert_eq!(run_peek(&dev, &p2, &abi2), vec![3, 6, 9, 12]);
    assert_eq!(dev.locks_buffer_id(), Some(first));

    // One asking for more gets a bigger buffer, zeroed again.
    let (code3, abi3) = peek_locks(&dev, 4096);
    let p3 = dev.create_pipeline(&code3, &abi3).unwrap();
    assert_eq!(run_peek(&dev, &p3, &abi3), vec![0, 0, 0, 0]);
    let grown = dev.locks_buffer_id().unwrap();
    assert_ne!(grown, first);
    // ...which the first kernel now shares too.
    assert_eq!(run_peek(&dev, &p, &abi), vec![1, 2, 3, 4]);
    assert_eq!(dev.locks_buffer_id(), Some(grown));
    dev.synchronize().unwrap();
}

#[test]
fn debug_buffers_are_zeroed_per_launch_and_handed_back() {
    let Some(dev) = device() else { return };
    // Every program appends its id to the record buffer: word 0 counts, words 1.. hold ids.
    let mut src = kernel(
        &dev,
        "",
        "records",
        1,
        &[("u32", true)],
        "    let slot = atomicAdd(&tm_debug[0], 1u);
    atomicStore(&tm_debug[slot + 1u], pid0 + 100u);
    b0[pid0] = 1u;",
    );
    src.insert_str(
        0,
        "@group(0) @binding(2) var<storage, read_write> tm_debug: array<atomic<u32>>;\n",
    );
    let mut abi = abi("records", 1, &[(U32, true)], &[]);
    abi.scratch.push(ScratchBinding {
        kind: ScratchKind::Debug,
        binding: 2,
        bytes: 64,
    });
    let p = dev.create_pipeline(&KernelCode::Wgsl(src), &abi).unwrap();
    // Nothing launched yet: nothing to take, and no wait.
    assert!(dev.take_debug_output(&p).unwrap().is_empty());
    let out = dev.create_buffer(16).unwrap();
    let mut s = scalars(&abi, &[]);
    dev.launch(&p, [3, 1, 1], &mut s, &[&out]).unwrap();
    dev.launch(&p, [2, 1, 1], &mut s, &[&out]).unwrap();
    let got = dev.take_debug_output(&p).unwrap();
    assert_eq!(got.len(), 2);
    for (bytes, programs) in got.iter().zip([3u32, 2]) {
        assert_eq!(bytes.len(), 64);
        let words = u32_from(bytes);
        // A count of 5 would mean the second launch saw the first one's records.
        assert_eq!(words[0], programs);
        let mut ids = words[1..=programs as usize].to_vec();
        ids.sort();
        assert_eq!(ids, (100..100 + programs).collect::<Vec<_>>());
        assert!(words[programs as usize + 1..].iter().all(|&w| w == 0));
    }
    assert!(dev.take_debug_output(&p).unwrap().is_empty());
    let mut b = [0u8; 16];
    dev.read_buffer(&out, &mut b).unwrap();
    assert_eq!(u32_from(&b), vec![1, 1, 1, 0]);
}

#[test]
fn scratch_bindings_must_follow_the_argument_buffers() {
    let Some(dev) = device() else { return };
    let (code, good) = peek_locks(&dev, 16);
    let refused = |abi: KernelAbi, what: &str| match dev.create_pipeline(&code, &abi) {
        Err(RuntimeError::Pipeline { .. }) => {}
        Err(e) => panic!("{what}: wrong error kind: {e}"),
        Ok(_) => panic!("{what}: accepted"),
    };
    let mut a = good.clone();
    a.scratch[0].binding = 3;
    refused(a, "a gap before the scratch binding");
    let mut a = good.clone();
    a.scratch[0].bytes = 6;
    refused(a, "a ragged size");
    let mut a = good.clone();
    a.scratch[0].bytes = 0;
    refused(a, "an empty scratch buffer");
    dev.create_pipeline(&code, &good).unwrap();
}
