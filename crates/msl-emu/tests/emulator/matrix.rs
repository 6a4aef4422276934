use half::{bf16, f16};
use tm_core::ScalarType::{self, BF16, F16, F32};

use crate::common::*;

/// D = A * B (+ B transposed for the second product) + C for `tiles` random 8x8 tiles, through
/// device memory for A and C and through threadgroup memory (a 16-wide row, at an origin) for B.
fn mma_msl(name: &str, t: &str) -> String {
    let body = format!(
        "{PROLOGUE}
  threadgroup {t} staged[8 * 16];
  for (uint i = tm_tid; i < 64; i += 32) staged[(i / 8) * 16 + 8 + i % 8] = b1[pid * 64 + i];
  threadgroup_barrier(mem_flags::mem_threadgroup);
  simdgroup_{t}8x8 a, b, bt, c, d;
  simdgroup_load(a, b0 + pid * 64, 8);
  simdgroup_load(b, staged, 16, ulong2(8, 0));
  simdgroup_load(bt, staged, 16, ulong2(8, 0), true);
  simdgroup_load(c, b2 + pid * 64);
  simdgroup_multiply_accumulate(d, a, b, c);
  simdgroup_store(d, b3 + pid * 128, 8);
  simdgroup_multiply(d, a, bt);
  simdgroup_store(d, b3 + pid * 128 + 64, 8);"
    );
    msl(name, &[t, t, t, t], &body)
}

fn reference(a: &[f32], b: &[f32], c: &[f32], transpose_b: bool) -> Vec<f32> {
    let mut d = vec![0.0f32; 64];
    for r in 0..8 {
        for col in 0..8 {
            let mut acc = 0.0f32;
            for k in 0..8 {
                let bv = if transpose_b {
                    b[col * 8 + k]
                } else {
                    b[k * 8 + col]
                };
                acc += a[r * 8 + k] * bv;
            }
            d[r * 8 + col] = acc + c[r * 8 + col];
        }
    }
    d
}

/// Element codec of one matrix type: to bytes (rounding) and back.
struct Codec {
    dtype: ScalarType,
    msl: &'static str,
    size: usize,
    encode: fn(f32) -> Vec<u8>,
    decode: fn(&[u8]) -> f32,
    tolerance: f32,
}

const CODECS: [Codec; 3] = [
    Codec {
        dtype: F32,
        msl: "float",
        size: 4,
        encode: |x| x.to_le_bytes().to_vec(),
        decode: |b| f32::from_le_bytes(b.try_into().unwrap()),
        tolerance: 1e-5,
    },
    Codec {
        dtype: F16,
        msl: "half",
        size: 2,
        encode: |x| f16::from_f32(x).to_le_bytes().to_vec(),
        decode: |b| f16::from_le_bytes(b.try_into().unwrap()).to_f32(),
        tolerance: 4e-3,
    },
    Codec {
        dtype: BF16,
        msl: "bfloat",
        size: 2,
        encode: |x| bf16::from_f32(x).to_le_bytes().to_vec(),
        decode: |b| bf16::from_le_bytes(b.try_into().unwrap()).to_f32(),
        tolerance: 3e-2,
    },
];

fn check_mma(codec: &Codec) {
    let name = format!("mma_{}", codec.msl);
    let src = mma_msl(&name, codec.msl);
    let abi = abi(&name, 32, &[codec.dtype; 4], &[]);
    let k = compile(&src, &abi);
    let tiles = 3;
    let mut rng = Rng(0x9e3779b97f4a7c15 ^ codec.size as u64);
    let mut gen = |n: usize| -> Vec<f32> {
        // Round through the element type so the reference sees what the kernel sees.
        (0..n)
            .map(|_| (codec.decode)(&(codec.encode)(rng.unit())))
            .collect()
    };
    let (a, b, c) = (gen(64 * tiles), gen(64 * tiles), gen(64 * tiles));
    let enc = |v: &[f32]| -> Vec<u8> { v.iter().flat_map(|&x| (codec.encode)(x)).collect() };
    let (mut ba, mut bb, mut bc) = (enc(&a), enc(&b), enc(&c));
    let mut bd = vec![0u8; 128 * tiles * codec.size];
    run(
        &k,
        [tiles as u32, 1, 1],
        &mut scalars(&abi, &[]),
        &mut [&mut ba, &mut bb, &mut bc, &mut bd],
        true,
    )
    .unwrap();
    let d: Vec<f32> = bd.chunks_exact(codec.size).map(codec.decode).collect();
    for t in 0..tiles {
        let s = t * 64..(t + 1) * 64;
        let want = reference(&a[s.clone()], &b[s.clone()], &c[s.clone()], false);
        let want_t = reference(&a[s.clone()], &b[s.clone()], &[0.0; 64], true);
        for i in 0..64 {
            let got = d[t * 128 + i];
            let tol = codec.tolerance * want[i].abs().max(1.0);
            assert!(
                (got - want[i]).abs() <= tol,
                "{} tile {t} element {i}: {got} vs {}",
                codec.msl,
                want[i]
            );
            let got_t = d[t * 128 + 64 + i];
            let tol = codec.tolerance * want_t[i].abs().max(1.0);
            assert!(
                (got_t - want_t[i]).abs() <= tol,
                "{} transposed, tile {t} element {i}: {got_t} vs {}",
                codec.msl,
                want_t[i]
            );
        }
    }
}

#[test]
fn simdgroup_multiply_accumulate_f32_matches_reference() {
    check_mma(&CODECS[0]);
}

#[test]
fn simdgroup_multiply_accumulate_f16_matches_reference() {
    check_mma(&CODECS[1]);
}

#[test]
fn simdgroup_multiply_accumulate_bf16_matches_reference() {
    check_mma(&CODECS[2]);
}

#[test]
fn thread_elements_follow_the_apple_lane_layout_and_feed_back() {
    // Every lane reads its two elements of a loaded matrix, then doubles them in place; the
    // stored matrix must be the doubled input, and the elements read must be those of the
    // Apple layout (row (lane/4 & 4) + (lane/2 % 4), columns (lane/4 & 2)*2 + (lane%2)*2 + 0,1).
    let body = format!(
        "{PROLOGUE}
  simdgroup_float8x8 m;
  simdgroup_load(m, b0);
  float2 e = m.thread_elements();
  b1[tm_tid * 2] = e.x;
  b1[tm_tid * 2 + 1] = e.y;
  m.thread_elements() = e * 2.0f;
  simdgroup_store(m, b2);"
    );
    let src = msl("thread_elems", &["float", "float", "float"], &body);
    let abi = abi("thread_elems", 32, &[F32, F32, F32], &[]);
    let k = compile(&src, &abi);
    let x: Vec<f32> = (0..64).map(|i| i as f32).collect();
    let (mut bx, mut owned, mut doubled) = (f32_bytes(&x), vec![0u8; 256], vec![0u8; 256]);
    run(
        &k,
        [1, 1, 1],
        &mut scalars(&abi, &[]),
        &mut [&mut bx, &mut owned, &mut doubled],
        true,
    )
    .unwrap();
    let owned = f32s(&owned);
    for lane in 0..32usize {
        let row = ((lane / 4) & 4) + (lane / 2) % 4;
        let col = ((lane / 4) & 2) * 2 + (lane % 2) * 2;
        assert_eq!(owned[lane * 2], (row * 8 + col) as f32, "lane {lane}");
        assert_eq!(
            owned[lane * 2 + 1],
            (row * 8 + col + 1) as f32,
            "lane {lane}"
        );
    }
    let doubled = f32s(&doubled);
    let want: Vec<f32> = x.iter().map(|v| v * 2.0).collect();
    assert_eq!(doubled, want);
}
