use tm_core::ScalarType::{F32, I32, U32};

use crate::common::*;

#[test]
fn vector_add() {
    let body = format!(
        "{PROLOGUE}
  int n = *(constant int *)(tm_scalars + 16);
  uint i = pid * 64 + tm_tid;
  if (i < uint(n)) b2[i] = b0[i] + b1[i];"
    );
    let src = msl("vadd", &["float", "float", "float"], &body);
    let abi = abi("vadd", 64, &[F32, F32, F32], &[I32]);
    let k = compile(&src, &abi);
    let n = 1000usize;
    let x: Vec<f32> = (0..n).map(|i| i as f32 * 0.5).collect();
    let y: Vec<f32> = (0..n).map(|i| 3.0 - i as f32).collect();
    let (mut bx, mut by, mut bz) = (f32_bytes(&x), f32_bytes(&y), vec![0u8; n * 4]);
    let mut s = scalars(&abi, &[n as u32]);
    run(
        &k,
        [n.div_ceil(64) as u32, 1, 1],
        &mut s,
        &mut [&mut bx, &mut by, &mut bz],
        true,
    )
    .unwrap();
    let z = f32s(&bz);
    for i in 0..n {
        assert_eq!(z[i], x[i] + y[i], "element {i}");
    }
    // The launcher wrote the header as the GPU runtime does.
    assert_eq!(u32s(&s[..16]), [16, 1, 1, 16]);
}

#[test]
fn vector_types_convert_values_and_swizzle() {
    let body = format!(
        "{PROLOGUE}
  int4 i = int4(tm_tid, 2, -3, 4);
  float4 f = float4(i);
  float2 hi = f.wz;
  half2 h = half2(f.xy);
  b0[tm_tid] = f.x + hi.x * 10.0f + hi.y * 100.0f + float(h.y) * 1000.0f;"
    );
    let src = msl("vec_types", &["float"], &body);
    let abi = abi("vec_types", 32, &[F32], &[]);
    let k = compile(&src, &abi);
    let mut out = vec![0u8; 32 * 4];
    run(
        &k,
        [1, 1, 1],
        &mut scalars(&abi, &[]),
        &mut [&mut out],
        true,
    )
    .unwrap();
    for (t, v) in f32s(&out).into_iter().enumerate() {
        assert_eq!(v, t as f32 + 40.0 - 300.0 + 2000.0, "thread {t}");
    }
}

pub const REDUCE_BODY: &str = "
  threadgroup float partial[128];
  partial[tm_tid] = b0[pid * 128 + tm_tid];
  BARRIER
  for (uint s = 64; s > 0; s /= 2) {
    if (tm_tid < s) partial[tm_tid] += partial[tm_tid + s];
    BARRIER
  }
  if (tm_tid == 0) b1[pid] = partial[0];";

pub fn reduce_msl(name: &str, barrier: &str) -> String {
    let body = format!("{PROLOGUE}{}", REDUCE_BODY.replace("BARRIER", barrier));
    msl(name, &["float", "float"], &body)
}

#[test]
fn threadgroup_reduction_with_barriers() {
    let src = reduce_msl(
        "reduce_tg",
        "threadgroup_barrier(mem_flags::mem_threadgroup);",
    );
    let abi = abi("reduce_tg", 128, &[F32, F32], &[]);
    let k = compile(&src, &abi);
    let groups = 5;
    let x: Vec<f32> = (0..groups * 128).map(|i| (i % 7) as f32).collect();
    let (mut bx, mut out) = (f32_bytes(&x), vec![0u8; groups * 4]);
    run(
        &k,
        [groups as u32, 1, 1],
        &mut scalars(&abi, &[]),
        &mut [&mut bx, &mut out],
        true,
    )
    .unwrap();
    let out = f32s(&out);
    for g in 0..groups {
        let want: f32 = x[g * 128..(g + 1) * 128].iter().sum();
        assert_eq!(out[g], want, "group {g}");
    }
}

#[test]
fn simd_shuffle_xor_butterfly() {
    let body = format!(
        "{PROLOGUE}
  float v = b0[tm_tid];
  for (ushort m = 16; m > 0; m /= 2) v += simd_shuffle_xor(v, m);
  uint lane = tm_tid % 32;
  b1[tm_tid] = v;
  b2[tm_tid] = simd_shuffle_down(b0[tm_tid], 1) + simd_shuffle_up(b0[tm_tid], 2) * 100.0f;
  b3[tm_tid] = simd_prefix_exclusive_sum(lane) + 1000 * simd_prefix_inclusive_sum(1u) + 100000 * uint((ulong)simd_ballot(lane % 3 == 0) == 0x49249249ul);
  (void)(ulong)simd_ballot(true);"
    );
    let src = msl("butterfly", &["float", "float", "float", "uint"], &body);
    let abi = abi("butterfly", 64, &[F32, F32, F32, U32], &[]);
    let k = compile(&src, &abi);
    let x: Vec<f32> = (0..64).map(|i| i as f32).collect();
    let mut bx = f32_bytes(&x);
    let (mut sums, mut shifted, mut scans) = (vec![0u8; 256], vec![0u8; 256], vec![0u8; 256]);
    run(
        &k,
        [1, 1, 1],
        &mut scalars(&abi, &[]),
        &mut [&mut bx, &mut sums, &mut shifted, &mut scans],
        true,
    )
    .unwrap();
    let (sums, shifted, scans) = (f32s(&sums), f32s(&shifted), u32s(&scans));
    for t in 0..64usize {
        let sg = t / 32 * 32;
        let want: f32 = x[sg..sg + 32].iter().sum();
        assert_eq!(sums[t], want, "butterfly sum, thread {t}");
        let lane = t % 32;
        let down = if lane + 1 < 32 { x[t + 1] } else { x[t] };
        let up = if lane >= 2 { x[t - 2] } else { x[t] };
        assert_eq!(shifted[t], down + up * 100.0, "shuffles, thread {t}");
        let excl: u32 = (0..lane as u32).sum();
        assert_eq!(
            scans[t],
            excl + 1000 * (lane as u32 + 1) + 100000,
            "scans, thread {t}"
        );
    }
}

#[test]
fn simd_reductions_of_each_kind() {
    let body = format!(
        "{PROLOGUE}
  uint lane = tm_tid % 32;
  b0[tm_tid * 4 + 0] = simd_max(int(lane) - 7);
  b0[tm_tid * 4 + 1] = simd_min(int(lane) - 7);
  b0[tm_tid * 4 + 2] = int(simd_or(1u << lane) == 0xffffffffu) + 2 * int(simd_all(lane < 32)) + 4 * int(simd_any(lane == 5));
  b0[tm_tid * 4 + 3] = int(simd_sum(float(lane)));"
    );
    let src = msl("simd_kinds", &["int"], &body);
    let abi = abi("simd_kinds", 32, &[I32], &[]);
    let k = compile(&src, &abi);
    let mut out = vec![0u8; 32 * 16];
    run(
        &k,
        [1, 1, 1],
        &mut scalars(&abi, &[]),
        &mut [&mut out],
        true,
    )
    .unwrap();
    let out = i32s(&out);
    for t in 0..32 {
        assert_eq!(&out[t * 4..t * 4 + 4], &[24, -7, 7, 496], "thread {t}");
    }
}

#[test]
fn atomics_on_device_and_threadgroup_memory() {
    let body = format!(
        "{PROLOGUE}
  threadgroup atomic_int local_count;
  if (tm_tid == 0) atomic_store_explicit(&local_count, 0, memory_order_relaxed);
  threadgroup_barrier(mem_flags::mem_threadgroup);
  atomic_fetch_add_explicit(&local_count, int(tm_tid), memory_order_relaxed);
  atomic_fetch_add_explicit((device atomic_int *)&b0[0], 1, memory_order_relaxed);
  atomic_fetch_max_explicit((device atomic_int *)&b0[1], int(pid * 1000 + tm_tid), memory_order_relaxed);
  atomic_fetch_min_explicit((device atomic_int *)&b0[2], -int(tm_tid), memory_order_relaxed);
  atomic_fetch_or_explicit((device atomic_uint *)&b1[0], 1u << (tm_tid % 32), memory_order_relaxed);
  atomic_fetch_add_explicit((device atomic_float *)&b2[pid], 0.5f, memory_order_relaxed);
  int expected = 0;
  while (!atomic_compare_exchange_weak_explicit((device atomic_int *)&b0[3], &expected, expected + 2,
                                               memory_order_relaxed, memory_order_relaxed)) {{}}
  threadgroup_barrier(mem_flags::mem_threadgroup);
  if (tm_tid == 0) b0[4 + pid] = atomic_load_explicit(&local_count, memory_order_relaxed);"
    );
    let src = msl("atomics", &["int", "uint", "float"], &body);
    let abi = abi("atomics", 64, &[I32, U32, F32], &[]);
    let k = compile(&src, &abi);
    let groups = 3usize;
    let mut ints = vec![0u8; (4 + groups) * 4];
    let (mut bits, mut floats) = (vec![0u8; 4], vec![0u8; groups * 4]);
    run(
        &k,
        [groups as u32, 1, 1],
        &mut scalars(&abi, &[]),
        &mut [&mut ints, &mut bits, &mut floats],
        true,
    )
    .unwrap();
    let ints = i32s(&ints);
    assert_eq!(ints[0], 64 * groups as i32);
    assert_eq!(ints[1], 2063);
    assert_eq!(ints[2], -63);
    assert_eq!(ints[3], 2 * 64 * groups as i32);
    assert_eq!(&ints[4..], &[2016, 2016, 2016]);
    assert_eq!(u32s(&bits), [u32::MAX]);
    assert_eq!(f32s(&floats), [32.0, 32.0, 32.0]);
}

#[test]
fn grids_past_65535_programs_fold_over_dimensions() {
    let body = format!(
        "{PROLOGUE}
  uint pid1 = (linear / gx) % gy;
  if (tm_tid == 0) b0[pid1 * gx + pid] = linear + 1;"
    );
    let src = msl("big_grid", &["uint"], &body);
    let abi = abi("big_grid", 32, &[U32], &[]);
    let k = compile(&src, &abi);
    let (gx, gy) = (70_000u32, 2u32);
    let mut out = vec![0u8; (gx * gy) as usize * 4];
    let mut s = scalars(&abi, &[]);
    run(&k, [gx, gy, 1], &mut s, &mut [&mut out], false).unwrap();
    let out = u32s(&out);
    for (i, v) in out.iter().enumerate() {
        assert_eq!(*v, i as u32 + 1, "program {i}");
    }
    assert_eq!(u32s(&s[..16]), [gx, gy, 1, 65535]);
}

#[test]
fn math_functions_follow_libm() {
    let body = format!(
        "{PROLOGUE}
  float x = b0[tm_tid];
  b1[tm_tid * 8 + 0] = exp(x);
  b1[tm_tid * 8 + 1] = fast::log2(x + 2.0f);
  b1[tm_tid * 8 + 2] = precise::sqrt(x + 2.0f) * rsqrt(x + 2.0f);
  b1[tm_tid * 8 + 3] = tanh(x);
  b1[tm_tid * 8 + 4] = max(x, 0.25f) + min(x, -0.25f);
  b1[tm_tid * 8 + 5] = clamp(x, -0.5f, 0.5f);
  b1[tm_tid * 8 + 6] = select(1.0f, 2.0f, isnan(x / 0.0f));
  b1[tm_tid * 8 + 7] = as_type<float>(as_type<uint>(x) ^ 0x80000000u) + float(exp(half(x)));"
    );
    let src = msl("mathfns", &["float", "float"], &body);
    let abi = abi("mathfns", 32, &[F32, F32], &[]);
    let k = compile(&src, &abi);
    let x: Vec<f32> = (0..32).map(|i| i as f32 / 16.0 - 1.0).collect();
    let (mut bx, mut out) = (f32_bytes(&x), vec![0u8; 32 * 32]);
    run(
        &k,
        [1, 1, 1],
        &mut scalars(&abi, &[]),
        &mut [&mut bx, &mut out],
        true,
    )
    .unwrap();
    let out = f32s(&out);
    for (t, &v) in x.iter().enumerate() {
        let o = &out[t * 8..t * 8 + 8];
        assert_eq!(o[0], v.exp());
        assert_eq!(o[1], (v + 2.0).log2());
        assert!((o[2] - 1.0).abs() < 1e-6);
        assert_eq!(o[3], v.tanh());
        assert_eq!(o[4], v.max(0.25) + v.min(-0.25));
        assert_eq!(o[5], v.clamp(-0.5, 0.5));
        assert_eq!(o[6], if v == 0.0 { 2.0 } else { 1.0 }, "x = {v}");
        let h = half::f16::from_f32(half::f16::from_f32(v).to_f32().exp()).to_f32();
        assert_eq!(o[7], -v + h);
    }
}

#[test]
fn compiled_kernels_are_cached_on_disk() {
    // A cache directory of its own: the shared one gains files from tests running beside
    // this one. Whether the second compile ran clang is read from the files, not a clock.
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("msl-emu-cache-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let emu = tm_msl_emu::Emulator::with_cache_dir(&dir).expect("clang-19 is installed");
    let src = msl(
        "cached",
        &["float"],
        &format!("{PROLOGUE}\n  b0[tm_tid] = 7.0f; // unique: cache test"),
    );
    let abi = abi("cached", 32, &[F32], &[]);
    let objects = || {
        let mut v: Vec<(std::path::PathBuf, std::time::SystemTime)> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "so"))
            .map(|p| {
                let t = std::fs::metadata(&p).unwrap().modified().unwrap();
                (p, t)
            })
            .collect();
        v.sort();
        v
    };
    emu.compile(&src, &abi).unwrap();
    let before = objects();
    assert!(!before.is_empty(), "nothing cached in {}", dir.display());
    let k = emu.compile(&src, &abi).unwrap();
    assert_eq!(
        objects(),
        before,
        "the second compile rebuilt or added objects"
    );
    let mut out = vec![0u8; 128];
    run(
        &k,
        [1, 1, 1],
        &mut scalars(&abi, &[]),
        &mut [&mut out],
        true,
    )
    .unwrap();
    assert_eq!(f32s(&out), vec![7.0; 32]);
    drop(k);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn two_level_reduction_over_1024_threads() {
    // The lowering's reduction: simd_sum within each simdgroup, the 32 partials through
    // threadgroup memory, a final simd_sum by the first simdgroup.
    let body = format!(
        "{PROLOGUE}
  threadgroup float partials[32];
  float v = metal::simd_sum(b0[pid * 1024 + tm_tid]);
  if (tm_tid % 32 == 0) partials[tm_tid / 32] = v;
  metal::threadgroup_barrier(mem_flags::mem_threadgroup | mem_flags::mem_device);
  if (tm_tid < 32) {{
    float total = metal::simd_sum(partials[tm_tid]);
    if (tm_tid == 0) b1[pid] = total;
  }}"
    );
    let src = msl("reduce_1024", &["float", "float"], &body);
    let abi = abi("reduce_1024", 1024, &[F32, F32], &[]);
    let k = compile(&src, &abi);
    let x: Vec<f32> = (0..2048).map(|i| (i % 13) as f32).collect();
    let (mut bx, mut out) = (f32_bytes(&x), vec![0u8; 8]);
    run(
        &k,
        [2, 1, 1],
        &mut scalars(&abi, &[]),
        &mut [&mut bx, &mut out],
        true,
    )
    .unwrap();
    let out = f32s(&out);
    for g in 0..2 {
        let want: f32 = x[g * 1024..(g + 1) * 1024].iter().sum();
        assert_eq!(out[g], want, "group {g}");
    }
}
