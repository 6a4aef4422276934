//! Layout math, checked exhaustively on generated shapes, SIMD widths and warp counts.

use std::collections::HashMap;

use proptest::prelude::*;
use tm_simt::{coalesced, resolve, Layout, TensorMap};

fn shape_strategy() -> impl Strategy<Value = Vec<u32>> {
    prop::collection::vec((0u32..9).prop_map(|e| 1 << e), 1..=3)
}

fn simd_strategy() -> impl Strategy<Value = u32> {
    prop::sample::select(vec![8u32, 32, 64])
}

fn warps_strategy() -> impl Strategy<Value = u32> {
    prop::sample::select(vec![1u32, 2, 4, 8])
}

/// (thread, register) pairs per element, row-major.
fn cover(m: &TensorMap) -> Vec<u64> {
    let strides = m.strides();
    let mut count = vec![0u64; m.numel() as usize];
    for t in 0..m.num_threads() {
        for r in 0..m.num_regs() {
            let c = m.coord(t, r);
            for (d, &x) in c.iter().enumerate() {
                assert!(x < m.shape[d], "coordinate {c:?} outside {:?}", m.shape);
            }
            let lin: u32 = c.iter().zip(&strides).map(|(a, b)| a * b).sum();
            count[lin as usize] += 1;
        }
    }
    count
}

/// Runs the reduction scheme of `lower/reduce.rs` on the CPU: registers along the axis in
/// the thread, xor butterflies over the distinct lanes, then a threadgroup array indexed by
/// the distinct simdgroup position. Returns, per thread and output register, the sum and
/// the output element's row-major index.
fn simulate_reduce(parent: &Layout, shape: &[u32], axis: usize) -> Vec<Vec<(u64, u32)>> {
    let im = resolve(parent, shape).unwrap();
    let mut out_shape = shape.to_vec();
    out_shape.remove(axis);
    let om = resolve(&Layout::slice(axis as u32, parent.clone()), &out_shape).unwrap();
    let in_strides = im.strides();
    let value = |t: u32, r: usize| -> u64 {
        let c = im.coord(t, r);
        c.iter()
            .zip(&in_strides)
            .map(|(a, b)| (a * b) as u64)
            .sum::<u64>()
            + 1
    };
    let threads = im.num_threads();
    let dim = &im.dims[axis];
    let mut acc: Vec<Vec<u64>> = (0..threads)
        .map(|t| {
            (0..om.num_regs())
                .map(|ro| {
                    let mut multi = om.reg_multi(ro);
                    multi.insert(axis, 0);
                    (0..dim.regs)
                        .map(|i| {
                            multi[axis] = i;
                            value(t, im.reg_index(&multi))
                        })
                        .sum()
                })
                .collect()
        })
        .collect();
    for m in dim.distinct_lane_masks() {
        assert!(m < im.simd_width);
        acc = (0..threads)
            .map(|t| {
                let o = t ^ m;
                acc[t as usize]
                    .iter()
                    .zip(&acc[o as usize])
                    .map(|(a, b)| a + b)
                    .collect()
            })
            .collect();
    }
    let wd = dim.distinct_warps();
    let numel_out = om.numel() as u32;
    let out_strides = om.strides();
    let out_lin = |t: u32, ro: usize| -> u32 {
        om.coord(t, ro)
            .iter()
            .zip(&out_strides)
            .map(|(a, b)| a * b)
            .sum()
    };
    let mut shared: HashMap<u32, u64> = HashMap::new();
    for t in 0..threads {
        let warp = t / im.simd_width;
        let slot = (dim.warp_index(warp) & (wd - 1)) * numel_out;
        for ro in 0..om.num_regs() {
            let idx = slot + out_lin(t, ro);
            let v = acc[t as usize][ro];
            if let Some(&old) = shared.get(&idx) {
                assert_eq!(old, v, "copies disagree at slot {idx}");
            }
            shared.insert(idx, v);
        }
    }
    (0..threads)
        .map(|t| {
            (0..om.num_regs())
                .map(|ro| {
                    let at = out_lin(t, ro);
                    let s = (0..wd).map(|w| shared[&(w * numel_out + at)]).sum();
                    (s, at)
                })
                .collect()
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(100))]

    #[test]
    fn coalesced_layout_spans_the_hardware(
        shape in shape_strategy(), simd in simd_strategy(), warps in warps_strategy(),
        bytes in prop::sample::select(vec![1u32, 2, 4, 8]),
    ) {
        let Layout::Blocked(b) = coalesced(&shape, bytes, simd, warps) else { panic!() };
        prop_assert_eq!(b.simd_width(), simd);
        prop_assert_eq!(b.num_warps(), warps);
        prop_assert!(b.size_per_thread.last().unwrap() * bytes <= 16.max(bytes));
    }

    #[test]
    fn every_element_is_held_equally_often(
        shape in shape_strategy(), simd in simd_strategy(), warps in warps_strategy(),
        bytes in prop::sample::select(vec![1u32, 2, 4, 8]),
    ) {
        let l = coalesced(&shape, bytes, simd, warps);
        let m = resolve(&l, &shape).unwrap();
        let count = cover(&m);
        let rep = m.replication();
        prop_assert!(count.iter().all(|&c| c == rep), "uneven cover {:?}", count);
        let numel: u64 = shape.iter().map(|&d| d as u64).product();
        if numel >= (simd * warps) as u64 {
            // Big enough tensors are never replicated: each element exactly once.
            prop_assert_eq!(rep, 1);
        }
    }

    #[test]
    fn slices_cover_the_remaining_dimensions(
        shape in shape_strategy(), simd in simd_strategy(), warps in warps_strategy(),
        dim_pick in 0usize..3,
    ) {
        let dim = dim_pick % shape.len();
        let mut parent_shape = shape.clone();
        parent_shape.insert(dim, 8);
        let parent = coalesced(&parent_shape, 4, simd, warps);
        let m = resolve(&Layout::slice(dim as u32, parent), &shape).unwrap();
        let count = cover(&m);
        let rep = m.replication();
        prop_assert!(count.iter().all(|&c| c == rep));
    }

    #[test]
    fn reductions_count_each_element_once(
        shape in prop::collection::vec((0u32..8).prop_map(|e| 1 << e), 1..=3),
        simd in simd_strategy(), warps in warps_strategy(), axis_pick in 0usize..3,
        bytes in prop::sample::select(vec![1u32, 4]),
    ) {
        let axis = axis_pick % shape.len();
        let parent = coalesced(&shape, bytes, simd, warps);
        let got = simulate_reduce(&parent, &shape, axis);
        // Expected: sum over the axis of (row-major index + 1).
        let strides = resolve(&parent, &shape).unwrap().strides();
        let mut out_shape = shape.clone();
        out_shape.remove(axis);
        let out_strides: Vec<u32> = {
            let mut s = vec![1u32; out_shape.len()];
            for d in (0..out_shape.len().saturating_sub(1)).rev() {
                s[d] = s[d + 1] * out_shape[d + 1];
            }
            s
        };
        for per_thread in got {
            for (sum, at) in per_thread {
                let mut rest = at;
                let mut base = 0u64;
                let mut k = 0;
                for d in 0..shape.len() {
                    if d == axis { continue; }
                    let c = rest / out_strides[k];
                    rest %= out_strides[k];
                    base += (c * strides[d]) as u64;
                    k += 1;
                }
                let want: u64 = (0..shape[axis] as u64)
                    .map(|i| base + i * strides[axis] as u64 + 1)
                    .sum();
                prop_assert_eq!(sum, want);
            }
        }
    }
}

#[test]
fn replicated_layouts_are_detected() {
    // 16 elements over 128 threads: 8 copies of each, and the reduction sees only 16 lanes.
    let l = coalesced(&[16], 4, 32, 4);
    let m = resolve(&l, &[16]).unwrap();
    assert_eq!(m.replication(), 8);
    assert!(cover(&m).iter().all(|&c| c == 8));
    let got = simulate_reduce(&l, &[16], 0);
    assert!(got.iter().all(|t| t[0].0 == (1..=16).sum::<u64>()));
}
