//! Hand-written kernels in the printer's shape, run for real on the machine's adapter
//! (lavapipe in CI).

mod common;

use common::*;
use tm_core::ScalarType::{self, F16, F32, I32, I64, U32};
use tm_runtime::{GpuDevice, KernelCode, RuntimeError};

fn vector_add(dev: &GpuDevice) -> (KernelCode, tm_core::KernelAbi) {
    let src = kernel(
        dev,
        "",
        "add_kernel",
        64,
        &[("f32", false), ("f32", false), ("f32", true)],
        "    let n = bitcast<i32>(tm_scalars[4]);
    let i = i32(pid0) * 64 + i32(tm_tid);
    if (i < n) { b2[i] = b0[i] + b1[i]; }",
    );
    let abi = abi(
        "add_kernel",
        64,
        &[(F32, false), (F32, false), (F32, true)],
        &[I32],
    );
    (KernelCode::Wgsl(src), abi)
}

#[test]
fn vector_add_reads_n_from_the_scalar_buffer() {
    let Some(dev) = device() else { return };
    let (code, abi) = vector_add(&dev);
    let p = dev.create_pipeline(&code, &abi).unwrap();
    let n = 1000usize;
    let x: Vec<f32> = (0..n).map(|i| i as f32).collect();
    let y: Vec<f32> = (0..n).map(|i| 0.5 * i as f32 + 1.0).collect();
    let bx = dev.buffer_from_bytes(&f32_bytes(&x)).unwrap();
    let by = dev.buffer_from_bytes(&f32_bytes(&y)).unwrap();
    // One element more than n: the kernel must leave it alone.
    let bo = dev
        .buffer_from_bytes(&f32_bytes(&vec![-7.0; n + 1]))
        .unwrap();
    let mut s = scalars(&abi, &[&(n as i32).to_le_bytes()]);
    let grid = [n.div_ceil(64) as u32, 1, 1];
    dev.launch(&p, grid, &mut s, &[&bx, &by, &bo]).unwrap();
    // The launcher writes the header itself.
    assert_eq!(u32_from(&s[..16]), vec![grid[0], 1, 1, grid[0]]);
    let mut out = vec![0u8; (n + 1) * 4];
    dev.read_buffer(&bo, &mut out).unwrap();
    let out = f32_from(&out);
    for i in 0..n {
        assert_eq!(out[i], x[i] + y[i], "element {i}");
    }
    assert_eq!(out[n], -7.0);
}

/// Every program of a grid bumps its own counter, so a missing or doubled program shows.
fn count_programs(dev: &GpuDevice, grid: [u32; 3]) {
    let src = kernel(
        dev,
        "",
        "count_programs",
        8,
        &[("atomic<u32>", true)],
        "    if (tm_tid == 0u) { atomicAdd(&b0[pid0 + tm_gx * (pid1 + tm_gy * pid2)], 1u); }",
    );
    let abi = abi("count_programs", 8, &[(U32, true)], &[]);
    let p = dev.create_pipeline(&KernelCode::Wgsl(src), &abi).unwrap();
    let total = grid.iter().map(|&g| g as usize).product::<usize>();
    let counts = dev.create_buffer(total as u64 * 4).unwrap();
    let mut s = scalars(&abi, &[]);
    dev.launch(&p, grid, &mut s, &[&counts]).unwrap();
    let mut out = vec![0u8; total * 4];
    dev.read_buffer(&counts, &mut out).unwrap();
    let out = u32_from(&out);
    let wrong: Vec<(usize, u32)> = out
        .iter()
        .copied()
        .enumerate()
        .filter(|&(_, c)| c != 1)
        .take(5)
        .collect();
    assert!(
        wrong.is_empty(),
        "grid {grid:?}: programs run != once: {wrong:?}"
    );
}

#[test]
fn grids_past_the_dimension_limit_run_every_program_once() {
    let Some(dev) = device() else { return };
    assert_eq!(
        dev.target().max_grid_dim,
        dev.limits().max_compute_workgroups_per_dimension
    );
    let max = dev.target().max_grid_dim;
    count_programs(&dev, [max + 4465, 1, 1]);
    count_programs(&dev, [1, max + 10, 2]);
    count_programs(&dev, [70, 80, 31]);
}

#[test]
fn f16_kernel() {
    let Some(dev) = device() else { return };
    if !dev.target().has_f16 {
        eprintln!("skipping: {} has no f16", dev.description());
        return;
    }
    let src = kernel(
        &dev,
        "enable f16;\n",
        "f16_kernel",
        32,
        &[("f16", false), ("f16", true)],
        "    let i = pid0 * 32u + tm_tid;
    if (i < tm_scalars[4]) { b1[i] = b0[i] * 2.0h + 0.5h; }",
    );
    let abi = abi("f16_kernel", 32, &[(F16, false), (F16, true)], &[U32]);
    let p = dev.create_pipeline(&KernelCode::Wgsl(src), &abi).unwrap();
    // Odd length: the last element shares a 4-byte word with padding.
    let input: Vec<f32> = (0..37).map(|i| i as f32 * 0.25 - 3.0).collect();
    let bytes: Vec<u8> = input
        .iter()
        .flat_map(|&x| f16_bits(x).to_le_bytes())
        .collect();
    let bx = dev.buffer_from_bytes(&bytes).unwrap();
    let bo = dev.create_buffer(bytes.len() as u64).unwrap();
    let mut s = scalars(&abi, &[&(input.len() as u32).to_le_bytes()]);
    dev.launch(&p, [2, 1, 1], &mut s, &[&bx, &bo]).unwrap();
    let mut out = vec![0u8; bytes.len()];
    dev.read_buffer(&bo, &mut out).unwrap();
    for (i, c) in out.chunks_exact(2).enumerate() {
        let got = u16::from_le_bytes([c[0], c[1]]);
        assert_eq!(got, f16_bits(input[i] * 2.0 + 0.5), "element {i}");
    }
}

/// f16 bits of a value exactly representable as a normal f16 (or zero).
fn f16_bits(x: f32) -> u16 {
    if x == 0.0 {
        return 0;
    }
    let b = x.to_bits();
    let sign = ((b >> 16) & 0x8000) as u16;
    let exp = ((b >> 23) & 0xff) as i32 - 127 + 15;
    assert!(
        (1..31).contains(&exp) && b & 0x1fff == 0,
        "{x} is not an exact f16"
    );
    sign | ((exp as u16) << 10) | ((b >> 13) & 0x3ff) as u16
}

#[test]
fn i64_scalar_argument() {
    let Some(dev) = device() else { return };
    if !dev.target().has_i64 {
        eprintln!("skipping: {} has no i64", dev.description());
        return;
    }
    let src = kernel(
        &dev,
        "",
        "i64_kernel",
        1,
        &[("i64", true)],
        "    let v = bitcast<i64>(u64(tm_scalars[6]) | (u64(tm_scalars[7]) << 32u));
    b0[0] = v * 3li - 1li;
    b0[1] = v >> 20u;
    b0[2] = i64(bitcast<i32>(tm_scalars[4]));",
    );
    // An i32 first, so the i64 lands at the next 8-byte boundary (offset 24).
    let abi = abi("i64_kernel", 1, &[(I64, true)], &[I32, I64]);
    assert_eq!(abi.scalars[1].offset, 24);
    let p = dev.create_pipeline(&KernelCode::Wgsl(src), &abi).unwrap();
    let v: i64 = -5_000_000_000_123;
    let mut s = scalars(&abi, &[&(-9i32).to_le_bytes(), &v.to_le_bytes()]);
    let out = dev.create_buffer(24).unwrap();
    dev.launch(&p, [1, 1, 1], &mut s, &[&out]).unwrap();
    let mut b = vec![0u8; 24];
    dev.read_buffer(&out, &mut b).unwrap();
    let got: Vec<i64> = b
        .chunks_exact(8)
        .map(|c| i64::from_le_bytes(c.try_into().unwrap()))
        .collect();
    assert_eq!(got, vec![v * 3 - 1, v >> 20, -9]);
}

#[test]
fn subgroup_shuffle_xor_matches_the_target_simd_width() {
    let Some(dev) = device() else { return };
    let t = dev.target().clone();
    if !t.simd_ops {
        eprintln!("skipping: {} has no trusted simd ops", dev.description());
        return;
    }
    let w = t.simd_width;
    // Lane = tid % simd_width, as lowering computes it; out[4*tid + k] holds the partner
    // lane seen through shuffle_xor(1 << k) for k < 3, and the subgroup's size.
    let src = kernel(
        &dev,
        // naga 30 refuses `enable subgroups;`: the SUBGROUP feature alone enables them.
        "",
        "shuffle_kernel",
        64,
        &[("u32", true)],
        "    let lane = tm_tid % SIMDu;
    b0[4u * tm_tid + 0u] = subgroupShuffleXor(lane, 1u);
    b0[4u * tm_tid + 1u] = subgroupShuffleXor(lane, 2u);
    b0[4u * tm_tid + 2u] = subgroupShuffleXor(lane, SIMDu / 2u);
    b0[4u * tm_tid + 3u] = subgroupAdd(1u);"
            .replace("SIMD", &w.to_string())
            .as_str(),
    );
    let abi = abi("shuffle_kernel", 64, &[(U32, true)], &[]);
    let p = dev.create_pipeline(&KernelCode::Wgsl(src), &abi).unwrap();
    let out = dev.create_buffer(64 * 16).unwrap();
    let mut s = scalars(&abi, &[]);
    dev.launch(&p, [1, 1, 1], &mut s, &[&out]).unwrap();
    let mut b = vec![0u8; 64 * 16];
    dev.read_buffer(&out, &mut b).unwrap();
    let v = u32_from(&b);
    for tid in 0..64u32 {
        let lane = tid % w;
        let row = &v[4 * tid as usize..4 * tid as usize + 4];
        assert_eq!(row, [lane ^ 1, lane ^ 2, lane ^ (w / 2), w], "thread {tid}");
    }
    if is_lavapipe(&dev) {
        assert_eq!(w, 8, "lavapipe runs 8-wide subgroups");
    }
}

#[test]
fn shader_errors_are_errors_not_panics() {
    let Some(dev) = device() else { return };
    let src = kernel(
        &dev,
        "",
        "broken",
        1,
        &[("f32", true)],
        "    b0[0] = undefined_name + 1.0;",
    );
    let abi = abi("broken", 1, &[(F32, true)], &[]);
    match dev.create_pipeline(&KernelCode::Wgsl(src), &abi) {
        Err(RuntimeError::ShaderCompile { entry, message }) => {
            assert_eq!(entry, "broken");
            assert!(message.contains("undefined_name"), "message: {message}");
        }
        Err(e) => panic!("wrong error kind: {e}"),
        Ok(_) => panic!("a broken kernel compiled"),
    }
    // The device is still usable afterwards.
    let (code, abi) = vector_add(&dev);
    dev.create_pipeline(&code, &abi).unwrap();
    dev.synchronize().unwrap();
}

#[test]
fn layout_mismatch_with_the_abi_is_an_error() {
    let Some(dev) = device() else { return };
    // The kernel writes b0, the ABI says it does not: the layout (read-only) and the
    // shader (read_write) disagree.
    let src = kernel(
        &dev,
        "",
        "mismatch",
        1,
        &[("f32", true)],
        "    b0[0] = 1.0;",
    );
    let abi = abi("mismatch", 1, &[(F32, false)], &[]);
    match dev.create_pipeline(&KernelCode::Wgsl(src), &abi) {
        Err(RuntimeError::Pipeline { message, .. }) => assert!(!message.is_empty()),
        Err(e) => panic!("wrong error kind: {e}"),
        Ok(_) => panic!("a mismatched layout was accepted"),
    }
}

#[test]
fn msl_is_refused_off_metal() {
    let Some(dev) = device() else { return };
    if dev.target().dialect == tm_core::Dialect::Msl {
        return;
    }
    let abi = abi("k", 32, &[], &[]);
    let r = dev.create_pipeline(&KernelCode::Msl("kernel void k() {}".into()), &abi);
    assert!(matches!(r, Err(RuntimeError::Unsupported(_))));
}

#[test]
fn zero_size_buffers_and_empty_grids() {
    let Some(dev) = device() else { return };
    let (code, abi) = vector_add(&dev);
    let p = dev.create_pipeline(&code, &abi).unwrap();
    let empty = dev.buffer_from_bytes(&[]).unwrap();
    assert_eq!((empty.len(), empty.capacity()), (0, 4));
    let mut s = scalars(&abi, &[&0i32.to_le_bytes()]);
    // n = 0 over one program: the kernel binds empty arrays and touches nothing.
    dev.launch(
        &p,
        [1, 1, 1],
        &mut s,
        &[&empty, &empty.clone(), &dev.buffer_from_bytes(&[]).unwrap()],
    )
    .unwrap();
    dev.read_buffer(&empty, &mut []).unwrap();

    // A zero grid dimension launches nothing at all.
    let out = dev.buffer_from_bytes(&f32_bytes(&[5.0; 64])).unwrap();
    let ones = dev.buffer_from_bytes(&f32_bytes(&[1.0; 64])).unwrap();
    let mut s = scalars(&abi, &[&64i32.to_le_bytes()]);
    dev.launch(&p, [1, 0, 1], &mut s, &[&ones, &ones, &out])
        .unwrap();
    let mut b = vec![0u8; 256];
    dev.read_buffer(&out, &mut b).unwrap();
    assert!(f32_from(&b).iter().all(|&x| x == 5.0));
    dev.synchronize().unwrap();
}

#[test]
fn pipeline_cache_returns_the_same_pipeline() {
    let Some(dev) = fresh_device() else { return };
    let (code, abi) = vector_add(&dev);
    let before = dev.pipeline_cache_stats();
    let a = dev.create_pipeline(&code, &abi).unwrap();
    let b = dev.create_pipeline(&code, &abi).unwrap();
    assert_eq!(a.id(), b.id());
    let after = dev.pipeline_cache_stats();
    assert_eq!(after.misses - before.misses, 1);
    assert_eq!(after.hits - before.hits, 1);
    // A different ABI over the same code is a different pipeline.
    let mut other = abi.clone();
    other.scalar_bytes += 16;
    let c = dev.create_pipeline(&code, &other).unwrap();
    assert_ne!(c.id(), a.id());
}

fn add_scalar(dev: &GpuDevice) -> (tm_runtime::GpuPipeline, tm_core::KernelAbi) {
    let src = kernel(
        dev,
        "",
        "add_scalar",
        64,
        &[("u32", true)],
        "    let i = pid0 * 64u + tm_tid;
    if (i < tm_scalars[5]) { b0[i] = b0[i] + tm_scalars[4]; }",
    );
    let abi = abi("add_scalar", 64, &[(U32, true)], &[U32, U32]);
    (
        dev.create_pipeline(&KernelCode::Wgsl(src), &abi).unwrap(),
        abi,
    )
}

#[test]
fn many_launches_each_see_their_own_scalars_in_order() {
    let Some(dev) = device() else { return };
    let (p, abi) = add_scalar(&dev);
    let n = 100u32;
    let buf = dev.create_buffer(n as u64 * 4).unwrap();
    // More launches than one batch and one scalar arena slot each.
    for k in 1..=300u32 {
        let mut s = scalars(&abi, &[&k.to_le_bytes(), &n.to_le_bytes()]);
        dev.launch(&p, [2, 1, 1], &mut s, &[&buf]).unwrap();
    }
    let mut b = vec![0u8; n as usize * 4];
    dev.read_buffer(&buf, &mut b).unwrap();
    assert!(u32_from(&b).iter().all(|&x| x == 300 * 301 / 2));
}

#[test]
fn writes_are_ordered_with_launches() {
    let Some(dev) = device() else { return };
    let (p, abi) = add_scalar(&dev);
    let buf = dev.buffer_from_bytes(&[0u8; 16]).unwrap();
    let mut s = scalars(&abi, &[&1u32.to_le_bytes(), &4u32.to_le_bytes()]);
    dev.launch(&p, [1, 1, 1], &mut s, &[&buf]).unwrap();
    dev.write_buffer(&buf, &[10u8, 0, 0, 0, 20, 0, 0, 0])
        .unwrap();
    let mut s = scalars(&abi, &[&2u32.to_le_bytes(), &4u32.to_le_bytes()]);
    dev.launch(&p, [1, 1, 1], &mut s, &[&buf]).unwrap();
    let mut b = vec![0u8; 16];
    dev.read_buffer(&buf, &mut b).unwrap();
    assert_eq!(u32_from(&b), vec![12, 22, 3, 3]);
}

#[test]
fn aliased_input_and_output_work_in_place() {
    let Some(dev) = device() else { return };
    let (code, abi) = vector_add(&dev);
    let p = dev.create_pipeline(&code, &abi).unwrap();
    let x = dev.buffer_from_bytes(&f32_bytes(&[1.0, 2.0, 3.0])).unwrap();
    let y = dev
        .buffer_from_bytes(&f32_bytes(&[10.0, 20.0, 30.0]))
        .unwrap();
    let mut s = scalars(&abi, &[&3i32.to_le_bytes()]);
    // x = x + y: x is bound read-only and writable in one launch.
    dev.launch(&p, [1, 1, 1], &mut s, &[&x, &y, &x]).unwrap();
    let mut b = vec![0u8; 12];
    dev.read_buffer(&x, &mut b).unwrap();
    assert_eq!(f32_from(&b), vec![11.0, 22.0, 33.0]);
    dev.synchronize().unwrap();
}

#[test]
fn bad_launches_are_refused() {
    let Some(dev) = device() else { return };
    let (code, abi) = vector_add(&dev);
    let p = dev.create_pipeline(&code, &abi).unwrap();
    let b = dev.create_buffer(16).unwrap();
    let mut s = scalars(&abi, &[&4i32.to_le_bytes()]);
    let short = dev.launch(&p, [1, 1, 1], &mut s, &[&b, &b]);
    assert!(
        matches!(short, Err(RuntimeError::InvalidLaunch { .. })),
        "{short:?}"
    );
    let mut small = vec![0u8; 4];
    let r = dev.launch(&p, [1, 1, 1], &mut small, &[&b, &b, &b]);
    assert!(matches!(r, Err(RuntimeError::InvalidLaunch { .. })));
    let r = dev.launch(&p, [u32::MAX, u32::MAX, 2], &mut s, &[&b, &b, &b]);
    assert!(matches!(r, Err(RuntimeError::InvalidLaunch { .. })));
    // A buffer from another device.
    if let Some(other) = fresh_device() {
        let foreign = other.create_buffer(16).unwrap();
        let r = dev.launch(&p, [1, 1, 1], &mut s, &[&b, &b, &foreign]);
        assert!(matches!(r, Err(RuntimeError::InvalidLaunch { .. })));
    }
    // Reads and writes past the end.
    assert!(dev.read_buffer(&b, &mut [0u8; 20]).is_err());
    assert!(dev.write_buffer(&b, &[0u8; 20]).is_err());
    dev.synchronize().unwrap();
}

#[test]
fn buffers_larger_than_a_binding_are_refused_at_launch() {
    let Some(dev) = device() else { return };
    let max = dev.limits().max_storage_buffer_binding_size;
    if max >= dev.limits().max_buffer_size || max > 512 << 20 {
        eprintln!("skipping: binding limit {max} is not testable here");
        return;
    }
    let (code, abi) = vector_add(&dev);
    let p = dev.create_pipeline(&code, &abi).unwrap();
    let big = dev.create_buffer(max + 4).unwrap();
    let small = dev.create_buffer(4).unwrap();
    let mut s = scalars(&abi, &[&1i32.to_le_bytes()]);
    let r = dev.launch(&p, [1, 1, 1], &mut s, &[&small, &small, &big]);
    assert!(
        matches!(r, Err(RuntimeError::InvalidLaunch { .. })),
        "{r:?}"
    );
}

#[test]
fn one_device_shared_by_threads() {
    let Some(dev) = device() else { return };
    let (p, abi) = add_scalar(&dev);
    let handles: Vec<_> = (0..4u32)
        .map(|t| {
            let dev = dev.clone();
            let p = p.clone();
            let abi = abi.clone();
            std::thread::spawn(move || {
                let buf = dev.create_buffer(64 * 4).unwrap();
                for _ in 0..50 {
                    let mut s = scalars(&abi, &[&(t + 1).to_le_bytes(), &64u32.to_le_bytes()]);
                    dev.launch(&p, [1, 1, 1], &mut s, &[&buf]).unwrap();
                }
                let mut b = vec![0u8; 256];
                dev.read_buffer(&buf, &mut b).unwrap();
                assert!(
                    u32_from(&b).iter().all(|&x| x == 50 * (t + 1)),
                    "thread {t}"
                );
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
}

#[test]
fn float_atomic_add_when_the_target_claims_it() {
    let Some(dev) = device() else { return };
    if !dev.target().float_atomic_add {
        eprintln!("skipping: {} has no f32 atomics", dev.description());
        return;
    }
    let src = kernel(
        &dev,
        "",
        "fadd",
        64,
        &[("atomic<f32>", true)],
        "    atomicAdd(&b0[0], 0.5);",
    );
    let abi = abi("fadd", 64, &[(ScalarType::F32, true)], &[]);
    let p = dev.create_pipeline(&KernelCode::Wgsl(src), &abi).unwrap();
    let out = dev.create_buffer(4).unwrap();
    let mut s = scalars(&abi, &[]);
    dev.launch(&p, [10, 1, 1], &mut s, &[&out]).unwrap();
    let mut b = [0u8; 4];
    dev.read_buffer(&out, &mut b).unwrap();
    assert_eq!(f32::from_le_bytes(b), 320.0);
}

#[test]
fn abis_the_device_cannot_run_are_refused() {
    let Some(dev) = device() else { return };
    let (code, good) = vector_add(&dev);
    let refused = |abi: tm_core::KernelAbi, what: &str| match dev.create_pipeline(&code, &abi) {
        Err(RuntimeError::Pipeline { .. }) => {}
        Err(e) => panic!("{what}: wrong error kind: {e}"),
        Ok(_) => panic!("{what}: accepted"),
    };
    let mut a = good.clone();
    a.threads_per_group = dev.target().max_threads_per_group + 1;
    refused(a, "too many threads");
    let mut a = good.clone();
    a.scalar_bytes = 1 << 30;
    refused(a, "huge scalar buffer");
    let mut a = good.clone();
    a.scalar_bytes = 8;
    refused(a, "no room for the header");
    let mut a = good.clone();
    a.shared_bytes = dev.target().shared_mem_bytes + 1;
    refused(a, "too much shared memory");
    let mut a = good.clone();
    a.buffers[1].binding = 7;
    refused(a, "non-contiguous bindings");
    dev.create_pipeline(&code, &good).unwrap();
}

#[test]
fn misuse_the_other_checks_catch_is_refused() {
    let Some(dev) = device() else { return };
    let (code, good) = vector_add(&dev);
    // More buffers than the device binds per kernel (the scalar buffer is one of them).
    let mut many = good.clone();
    while (many.buffers.len() as u32) < dev.target().max_buffers {
        let mut b = many.buffers[0].clone();
        b.binding = many.buffers.len() as u32 + 1;
        many.buffers.push(b);
    }
    match dev.create_pipeline(&code, &many) {
        Err(RuntimeError::Pipeline { message, .. }) => {
            assert!(message.contains("binds at most"), "{message}")
        }
        Err(e) => panic!("wrong error kind: {e}"),
        Ok(_) => panic!("{} buffers accepted", many.buffers.len()),
    }
    // A pipeline launched on a device other than its own.
    if let Some(other) = fresh_device() {
        let p = other.create_pipeline(&code, &good).unwrap();
        let b = dev.create_buffer(16).unwrap();
        let mut s = scalars(&good, &[&4i32.to_le_bytes()]);
        match dev.launch(&p, [1, 1, 1], &mut s, &[&b, &b, &b]) {
            Err(RuntimeError::InvalidLaunch { reason, .. }) => {
                assert!(reason.contains("another device"), "{reason}")
            }
            r => panic!("expected an invalid launch, got {:?}", r.err()),
        }
    }
    // A buffer over the device's size limit, and a partial write of a ragged length.
    let too_big = dev.limits().max_buffer_size.saturating_add(1);
    assert!(matches!(
        dev.create_buffer(too_big),
        Err(RuntimeError::Buffer(_))
    ));
    let b = dev.create_buffer(16).unwrap();
    match dev.write_buffer(&b, &[1, 2, 3]) {
        Err(RuntimeError::Buffer(m)) => assert!(m.contains("multiple of 4"), "{m}"),
        r => panic!("expected a buffer error, got {r:?}"),
    }
    dev.synchronize().unwrap();
}
