//! tl.dot: f32, f16 and i8 inputs, 2-D and batched 3-D, the FMA path (WGSL, and Apple
//! where the matrix path does not apply) and the simdgroup-matrix path (Apple / emulator).

use crate::build::{dims, Tile};
use crate::harness::{as_f32, as_i32, f32s, i32s, i8s, parse, run_msl, run_wgsl, Arg};
use tm_core::Target;
use tm_simt::{lower, Stmt};

/// out = acc + a @ b, a: [B?, M, K], b: [B?, K, N], all row-major; acc read from `%c`.
pub(crate) fn dot_kernel(
    batch: Option<u32>,
    m: u32,
    n: u32,
    k: u32,
    in_ty: &str,
    acc_ty: &str,
) -> String {
    let params = format!(
        "%a: ptr<{in_ty}> {{arg=0, div16}}, %b: ptr<{in_ty}> {{arg=1, div16}}, \
         %c: ptr<{acc_ty}> {{arg=2, div16}}, %o: ptr<{acc_ty}> {{arg=3, div16}}"
    );
    let mut t = Tile::new("dot", &params);
    let (sa, sb, sc) = match batch {
        Some(bt) => (vec![bt, m, k], vec![bt, k, n], vec![bt, m, n]),
        None => (vec![m, k], vec![k, n], vec![m, n]),
    };
    let ptr = |t: &mut Tile, base: &str, s: &[u32], ty: &str| {
        if s.len() == 3 {
            t.ptr3d(base, [s[0], s[1], s[2]], ty)
        } else {
            t.ptr2d(base, s[0], s[1], ty)
        }
    };
    let pa = ptr(&mut t, "%a", &sa, in_ty);
    let pb = ptr(&mut t, "%b", &sb, in_ty);
    let pc = ptr(&mut t, "%c", &sc, acc_ty);
    let po = ptr(&mut t, "%o", &sc, acc_ty);
    let a = t.v(&format!("load {pa} : tensor<{}x{in_ty}>", dims(&sa)));
    let b = t.v(&format!("load {pb} : tensor<{}x{in_ty}>", dims(&sb)));
    let c = t.v(&format!("load {pc} : tensor<{}x{acc_ty}>", dims(&sc)));
    let d = t.v(&format!(
        "dot {{precision=ieee, max_num_imprecise_acc=0}} {a}, {b}, {c} : tensor<{}x{acc_ty}>",
        dims(&sc)
    ));
    t.raw(&format!("store {po}, {d}"));
    t.finish()
}

pub(crate) fn reference(
    batch: usize,
    m: usize,
    n: usize,
    k: usize,
    a: &[f64],
    b: &[f64],
    c: &[f64],
) -> Vec<f64> {
    let mut out = c.to_vec();
    for bt in 0..batch {
        for i in 0..m {
            for j in 0..n {
                let mut s = 0.0;
                for kk in 0..k {
                    s += a[bt * m * k + i * k + kk] * b[bt * k * n + kk * n + j];
                }
                out[bt * m * n + i * n + j] += s;
            }
        }
    }
    out
}

/// Small integers (and halves) so every sum is exact in f32 in any order.
pub(crate) fn vals(len: usize, seed: usize) -> Vec<f64> {
    (0..len)
        .map(|i| (((i * 7 + seed * 13) % 9) as f64 - 4.0) * 0.5)
        .collect()
}

pub(crate) fn f16_bits(x: f64) -> u16 {
    // The values used are halves of small integers: exact in f16.
    let f = x as f32;
    if f == 0.0 {
        return 0;
    }
    let bits = f.to_bits();
    let sign = ((bits >> 16) & 0x8000) as u16;
    let exp = ((bits >> 23) & 0xff) as i32 - 127 + 15;
    let mant = ((bits >> 13) & 0x3ff) as u16;
    sign | ((exp as u16) << 10) | mant
}

fn check_float(in_ty: &str, batch: Option<u32>, m: u32, n: u32, k: u32, warps: u32) {
    let bt = batch.unwrap_or(1) as usize;
    let (mu, nu, ku) = (m as usize, n as usize, k as usize);
    let a = vals(bt * mu * ku, 1);
    let b = vals(bt * ku * nu, 2);
    let c = vals(bt * mu * nu, 3);
    let want: Vec<f32> = reference(bt, mu, nu, ku, &a, &b, &c)
        .iter()
        .map(|&x| x as f32)
        .collect();
    let enc = |v: &[f64]| -> Arg {
        if in_ty == "f16" {
            Arg::Buf(v.iter().flat_map(|&x| f16_bits(x).to_le_bytes()).collect())
        } else {
            f32s(&v.iter().map(|&x| x as f32).collect::<Vec<_>>())
        }
    };
    let c32: Vec<f32> = c.iter().map(|&x| x as f32).collect();
    let args = [enc(&a), enc(&b), f32s(&c32), f32s(&vec![0.0; c.len()])];
    let f = parse(&dot_kernel(batch, m, n, k, in_ty, "f32"));
    let what = format!("{in_ty} {batch:?}x{m}x{n}x{k} warps={warps}");
    let out = run_msl(&f, [1, 1, 1], warps, &args);
    assert_eq!(as_f32(&out[3]), want, "msl-emu {what}");
    if let Some(out) = run_wgsl(&f, [1, 1, 1], warps, &args) {
        assert_eq!(as_f32(&out[3]), want, "wgpu {what}");
    }
}

#[test]
fn dot_f32_2d() {
    check_float("f32", None, 16, 16, 16, 4);
    check_float("f32", None, 32, 64, 16, 4);
    check_float("f32", None, 64, 32, 32, 2);
}

#[test]
fn dot_f16_2d() {
    check_float("f16", None, 32, 32, 32, 4);
}

#[test]
fn dot_batched_3d() {
    check_float("f32", Some(2), 16, 32, 16, 4);
    check_float("f16", Some(4), 16, 16, 32, 2);
}

#[test]
fn dot_large_k_is_chunked_through_threadgroup_memory() {
    // 32x32 operands of f32 with K = 256: 64 KiB of inputs, more than any target's
    // threadgroup memory, so K is processed in chunks.
    check_float("f32", None, 32, 32, 256, 4);
}

#[test]
fn dot_i8_accumulates_in_i32() {
    let (m, n, k) = (32usize, 16usize, 64usize);
    let a: Vec<i8> = (0..m * k).map(|i| ((i * 37) % 255) as i32 as i8).collect();
    let b: Vec<i8> = (0..k * n)
        .map(|i| ((i * 91 + 5) % 255) as i32 as i8)
        .collect();
    let c: Vec<i32> = (0..m * n).map(|i| i as i32 - 100).collect();
    let mut want = c.clone();
    for i in 0..m {
        for j in 0..n {
            for kk in 0..k {
                want[i * n + j] += a[i * k + kk] as i32 * b[kk * n + j] as i32;
            }
        }
    }
    let f = parse(&dot_kernel(None, m as u32, n as u32, k as u32, "i8", "i32"));
    let args = [i8s(&a), i8s(&b), i32s(&c), i32s(&vec![0; m * n])];
    let out = run_msl(&f, [1, 1, 1], 4, &args);
    assert_eq!(as_i32(&out[3]), want, "msl-emu");
    if let Some(out) = run_wgsl(&f, [1, 1, 1], 4, &args) {
        assert_eq!(as_i32(&out[3]), want, "wgpu");
    }
}

pub(crate) fn walk(body: &[Stmt], out: &mut Vec<Stmt>) {
    for s in body {
        out.push(s.clone());
        match s {
            Stmt::If {
                then_body,
                else_body,
                ..
            } => {
                walk(then_body, out);
                walk(else_body, out);
            }
            Stmt::For { body, .. } | Stmt::Loop { body } => walk(body, out),
            _ => {}
        }
    }
}

#[test]
fn apple_uses_simdgroup_matrices_and_wgsl_the_fma_path() {
    let f = parse(&dot_kernel(None, 32, 32, 32, "f16", "f32"));
    let mut apple = Vec::new();
    walk(&lower(&f, &Target::apple(), 4).unwrap().body, &mut apple);
    let mma = apple
        .iter()
        .filter(|s| matches!(s, Stmt::MatrixMulAcc { .. }))
        .count();
    // 16 tiles of 8x8 over 4 simdgroups, 4 steps of K each: 16 per simdgroup.
    assert_eq!(mma, 16);
    let mut lp = Vec::new();
    walk(&lower(&f, &Target::lavapipe(), 4).unwrap().body, &mut lp);
    assert!(lp.iter().all(|s| !matches!(s, Stmt::MatrixMulAcc { .. })));
    assert!(lp.iter().any(|s| matches!(s, Stmt::For { .. })));
}
