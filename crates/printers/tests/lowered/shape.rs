//! reshape, permute (trans), join and split.

use crate::build::Tile;
use crate::harness::{as_f32, f32s, run_both};

fn data(n: usize) -> Vec<f32> {
    (0..n).map(|i| i as f32 * 0.5 - 7.0).collect()
}

const IO: &str = "%x: ptr<f32> {arg=0, div16}, %y: ptr<f32> {arg=1, div16}";

#[test]
fn permute_2d_transposes() {
    for (m, n, warps) in [(16u32, 32u32, 4u32), (64, 8, 2), (4, 4, 1)] {
        let mut t = Tile::new("trans", IO);
        let p = t.ptr2d("%x", m, n, "f32");
        let x = t.v(&format!("load {p} : tensor<{m}x{n}xf32>"));
        let tr = t.v(&format!(
            "permute {{perm=[1, 0]}} {x} : tensor<{n}x{m}xf32>"
        ));
        let q = t.ptr2d("%y", n, m, "f32");
        t.raw(&format!("store {q}, {tr}"));
        let input = data((m * n) as usize);
        let mut want = vec![0f32; input.len()];
        for i in 0..m as usize {
            for j in 0..n as usize {
                want[j * m as usize + i] = input[i * n as usize + j];
            }
        }
        let args = [f32s(&input), f32s(&vec![0.0; input.len()])];
        run_both(&t.finish(), [1, 1, 1], warps, &args, |engine, out| {
            assert_eq!(as_f32(&out[1]), want, "{engine} {m}x{n}");
        });
    }
}

#[test]
fn permute_3d() {
    let d = [4u32, 8, 16];
    let mut t = Tile::new("perm3", IO);
    let p = t.ptr3d("%x", d, "f32");
    let x = t.v(&format!("load {p} : tensor<4x8x16xf32>"));
    // Result dimension i is operand dimension perm[i]: shape [16, 4, 8].
    let r = t.v(&format!(
        "permute {{perm=[2, 0, 1]}} {x} : tensor<16x4x8xf32>"
    ));
    let q = t.ptr3d("%y", [16, 4, 8], "f32");
    t.raw(&format!("store {q}, {r}"));
    let input = data(512);
    let mut want = vec![0f32; 512];
    for a in 0..4 {
        for b in 0..8 {
            for c in 0..16 {
                want[c * 32 + a * 8 + b] = input[a * 128 + b * 16 + c];
            }
        }
    }
    let args = [f32s(&input), f32s(&[0.0; 512])];
    run_both(&t.finish(), [1, 1, 1], 4, &args, |engine, out| {
        assert_eq!(as_f32(&out[1]), want, "{engine}");
    });
}

#[test]
fn reshape_keeps_row_major_order() {
    // [16, 32] -> [32, 16] and [512] -> [8, 64]: every element stays at its linear index.
    let mut t = Tile::new("reshape", IO);
    let p = t.ptr2d("%x", 16, 32, "f32");
    let x = t.v(&format!("load {p} : tensor<16x32xf32>"));
    let r = t.v(&format!("reshape {x} : tensor<32x16xf32>"));
    let neg = t.v(&format!("neg {r} : tensor<32x16xf32>"));
    let q = t.ptr2d("%y", 32, 16, "f32");
    t.raw(&format!("store {q}, {neg}"));
    let input = data(512);
    let want: Vec<f32> = input.iter().map(|v| -v).collect();
    let args = [f32s(&input), f32s(&[0.0; 512])];
    run_both(&t.finish(), [1, 1, 1], 4, &args, |engine, out| {
        assert_eq!(as_f32(&out[1]), want, "{engine}");
    });

    let mut t = Tile::new("reshape1d", IO);
    let p = t.ptr1d("%x", 512, "f32");
    let x = t.v(&format!("load {p} : tensor<512xf32>"));
    let r = t.v(&format!("reshape {x} : tensor<8x64xf32>"));
    let tr = t.v(&format!("permute {{perm=[1, 0]}} {r} : tensor<64x8xf32>"));
    let q = t.ptr2d("%y", 64, 8, "f32");
    t.raw(&format!("store {q}, {tr}"));
    let mut want = vec![0f32; 512];
    for i in 0..8 {
        for j in 0..64 {
            want[j * 8 + i] = input[i * 64 + j];
        }
    }
    run_both(&t.finish(), [1, 1, 1], 4, &args, |engine, out| {
        assert_eq!(as_f32(&out[1]), want, "{engine} 1d");
    });
}

#[test]
fn join_interleaves_and_split_undoes_it() {
    let params = "%x: ptr<f32> {arg=0, div16}, %y: ptr<f32> {arg=1, div16}, \
                  %o: ptr<f32> {arg=2, div16}, %a: ptr<f32> {arg=3, div16}, \
                  %b: ptr<f32> {arg=4, div16}";
    for (n, warps) in [(256u32, 4u32), (16, 2)] {
        let mut t = Tile::new("join_split", params);
        let px = t.ptr1d("%x", n, "f32");
        let py = t.ptr1d("%y", n, "f32");
        let x = t.v(&format!("load {px} : tensor<{n}xf32>"));
        let y = t.v(&format!("load {py} : tensor<{n}xf32>"));
        let j = t.v(&format!("join {x}, {y} : tensor<{n}x2xf32>"));
        let po = t.ptr2d("%o", n, 2, "f32");
        t.raw(&format!("store {po}, {j}"));
        // Split something computed from the join, so it is not the join's operands again.
        let twice = t.v(&format!("add {j}, {j} : tensor<{n}x2xf32>"));
        let (a, b) = t.v2(&format!("split {twice} : tensor<{n}xf32>, tensor<{n}xf32>"));
        let pa = t.ptr1d("%a", n, "f32");
        let pb = t.ptr1d("%b", n, "f32");
        t.raw(&format!("store {pa}, {a}"));
        t.raw(&format!("store {pb}, {b}"));
        let xs = data(n as usize);
        let ys: Vec<f32> = xs.iter().map(|v| v * 3.0 + 1.0).collect();
        let joined: Vec<f32> = xs.iter().zip(&ys).flat_map(|(&a, &b)| [a, b]).collect();
        let z = vec![0f32; n as usize];
        let args = [
            f32s(&xs),
            f32s(&ys),
            f32s(&vec![0.0; 2 * n as usize]),
            f32s(&z),
            f32s(&z),
        ];
        run_both(&t.finish(), [1, 1, 1], warps, &args, |engine, out| {
            assert_eq!(as_f32(&out[2]), joined, "{engine} join {n}");
            let a2: Vec<f32> = xs.iter().map(|v| v * 2.0).collect();
            let b2: Vec<f32> = ys.iter().map(|v| v * 2.0).collect();
            assert_eq!(as_f32(&out[3]), a2, "{engine} split a {n}");
            assert_eq!(as_f32(&out[4]), b2, "{engine} split b {n}");
        });
    }
}
