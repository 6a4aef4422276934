//! bf16 on both engines: ushort buffers on Metal, 16-bit halves of u32 words on WGSL;
//! arithmetic rounds every result to bf16 (nearest even), casts from f32 round to nearest
//! even (NaN stays NaN, overflow goes to infinity), casts to f32 are exact.

use crate::build::Tile;
use crate::harness::{as_f32, as_u16, f32s, run_both, u16s};

/// f32 → bf16 bits, round to nearest even; NaN → a quiet NaN of the same sign.
fn to_bf16(x: f32) -> u16 {
    let b = x.to_bits();
    if x.is_nan() {
        return ((b >> 16) | 0x40) as u16;
    }
    let lsb = (b >> 16) & 1;
    (b.wrapping_add(0x7fff + lsb) >> 16) as u16
}

fn from_bf16(h: u16) -> f32 {
    f32::from_bits((h as u32) << 16)
}

const N: u32 = 64;

fn kernel() -> String {
    let params = "%x: ptr<bf16> {arg=0, div16}, %y: ptr<bf16> {arg=1, div16}, \
                  %f: ptr<f32> {arg=2, div16}, %o: ptr<bf16> {arg=3, div16}, \
                  %of: ptr<f32> {arg=4, div16}, %oc: ptr<bf16> {arg=5, div16}";
    let mut t = Tile::new("bf16_ops", params);
    let px = t.ptr1d("%x", N, "bf16");
    let py = t.ptr1d("%y", N, "bf16");
    let pf = t.ptr1d("%f", N, "f32");
    let x = t.v(&format!("load {px} : tensor<{N}xbf16>"));
    let y = t.v(&format!("load {py} : tensor<{N}xbf16>"));
    let p = t.v(&format!("mul {x}, {y} : tensor<{N}xbf16>"));
    let s = t.v(&format!("add {p}, {x} : tensor<{N}xbf16>"));
    let po = t.ptr1d("%o", N, "bf16");
    t.raw(&format!("store {po}, {s}"));
    let sf = t.v(&format!("cast {s} : tensor<{N}xf32>"));
    let pof = t.ptr1d("%of", N, "f32");
    t.raw(&format!("store {pof}, {sf}"));
    let fv = t.v(&format!("load {pf} : tensor<{N}xf32>"));
    let c = t.v(&format!("cast {fv} : tensor<{N}xbf16>"));
    let poc = t.ptr1d("%oc", N, "bf16");
    t.raw(&format!("store {poc}, {c}"));
    t.finish()
}

#[test]
fn bf16_load_arithmetic_casts_and_store() {
    let x: Vec<u16> = (0..N).map(|i| to_bf16((i as f32 - 31.0) * 0.37)).collect();
    let y: Vec<u16> = (0..N).map(|i| to_bf16(1.0 + i as f32 / 7.0)).collect();
    // Ties (exactly half way between two bf16 values) both ways, NaN, infinities, signed
    // zeros, overflow to infinity, a subnormal, and ordinary values.
    let mut f: Vec<f32> = vec![
        1.0 + 1.0 / 256.0,
        1.0 + 3.0 / 256.0,
        -(1.0 + 1.0 / 256.0),
        f32::NAN,
        -f32::NAN,
        f32::INFINITY,
        f32::NEG_INFINITY,
        0.0,
        -0.0,
        f32::MAX,
        1.0e-40,
        std::f32::consts::PI,
    ];
    while f.len() < N as usize {
        f.push(f.len() as f32 * -1.618 + 0.001);
    }
    let want_s: Vec<u16> = x
        .iter()
        .zip(&y)
        .map(|(&a, &b)| {
            let p = to_bf16(from_bf16(a) * from_bf16(b));
            to_bf16(from_bf16(p) + from_bf16(a))
        })
        .collect();
    let want_c: Vec<u16> = f.iter().map(|&v| to_bf16(v)).collect();
    let z16 = vec![0u16; N as usize];
    let args = [
        u16s(&x),
        u16s(&y),
        f32s(&f),
        u16s(&z16),
        f32s(&vec![0.0; N as usize]),
        u16s(&z16),
    ];
    run_both(&kernel(), [1, 1, 1], 2, &args, |engine, out| {
        assert_eq!(as_u16(&out[3]), want_s, "{engine}: x * y + x in bf16");
        let sf: Vec<f32> = want_s.iter().map(|&h| from_bf16(h)).collect();
        assert_eq!(as_f32(&out[4]), sf, "{engine}: bf16 -> f32 is exact");
        let got = as_u16(&out[5]);
        for (i, (&g, &w)) in got.iter().zip(&want_c).enumerate() {
            if f[i].is_nan() {
                assert!(
                    from_bf16(g).is_nan(),
                    "{engine}: NaN stays NaN at {i}: {g:#x}"
                );
            } else {
                assert_eq!(g, w, "{engine}: f32 {} -> bf16 at {i}", f[i]);
            }
        }
    });
}

/// bf16 dot takes the FMA path (operands converted to f32) on both engines.
#[test]
fn bf16_dot_accumulates_in_f32() {
    use crate::lowered::dot::{dot_kernel, reference, vals};
    let (m, n, k) = (32u32, 16u32, 32u32);
    let (mu, nu, ku) = (m as usize, n as usize, k as usize);
    let a = vals(mu * ku, 1);
    let b = vals(ku * nu, 2);
    let c = vals(mu * nu, 3);
    // Halves of small integers: exact in bf16 and every partial sum exact in f32.
    let want: Vec<f32> = reference(1, mu, nu, ku, &a, &b, &c)
        .iter()
        .map(|&x| x as f32)
        .collect();
    let enc = |v: &[f64]| u16s(&v.iter().map(|&x| to_bf16(x as f32)).collect::<Vec<_>>());
    let c32: Vec<f32> = c.iter().map(|&x| x as f32).collect();
    let args = [enc(&a), enc(&b), f32s(&c32), f32s(&vec![0.0; c.len()])];
    run_both(
        &dot_kernel(None, m, n, k, "bf16", "f32"),
        [1, 1, 1],
        4,
        &args,
        |engine, out| assert_eq!(as_f32(&out[3]), want, "{engine}"),
    );
}

/// A bf16 sum (shuffles move bf16 through f32): small integers, so every partial sum is
/// exact in bf16 whatever the order of the tree.
#[test]
fn bf16_sum_reduction() {
    let params = "%x: ptr<bf16> {arg=0, div16}, %o: ptr<bf16> {arg=1}";
    let mut t = Tile::new("bf16_sum", params);
    let px = t.ptr1d("%x", N, "bf16");
    let x = t.v(&format!("load {px} : tensor<{N}xbf16>"));
    let r = t.v(&format!(
        "reduce {{axis=0}} {x} : bf16 {{\n    ^bb(%a: bf16, %b: bf16):\n    %c = add %a, %b : bf16\n    yield %c\n  }}"
    ));
    t.raw(&format!("store %o, {r}"));
    let src = t.finish();
    let xs: Vec<u16> = (0..N).map(|i| to_bf16((i % 4) as f32 - 1.0)).collect();
    let want: f32 = (0..N).map(|i| (i % 4) as f32 - 1.0).sum();
    for warps in [1, 2] {
        run_both(
            &src,
            [1, 1, 1],
            warps,
            &[u16s(&xs), u16s(&[0xffff, 0xffff])],
            |engine, out| {
                let got = as_u16(&out[1]);
                assert_eq!(from_bf16(got[0]), want, "{engine} warps={warps}");
                assert_eq!(got[1], 0xffff, "{engine}: the neighbour half is kept");
            },
        );
    }
}
