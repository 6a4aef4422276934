//! Dtype corners of the WGSL path, executed on both engines (MSL on the emulator, WGSL on
//! the wgpu device) against Rust references: 8/16-bit integers (32-bit registers on WGSL),
//! NaN in comparisons and conversions, 64-bit values through shuffles, and kernels named
//! like keywords of either language.

#[path = "exec/build.rs"]
mod build;
#[path = "exec/harness.rs"]
mod harness;

use build::Tile;
use harness::{as_f32, as_i32, as_u32, f32s, i32s, parse, run_both, Arg};
use tm_core::{Dialect, Target};

const N: u32 = 128;

/// One narrow integer type: its Tile IR name, byte size, and how its bytes read.
#[derive(Clone, Copy)]
struct Narrow {
    name: &'static str,
    bytes: usize,
    signed: bool,
}

const NARROW: [Narrow; 4] = [
    Narrow {
        name: "i8",
        bytes: 1,
        signed: true,
    },
    Narrow {
        name: "u8",
        bytes: 1,
        signed: false,
    },
    Narrow {
        name: "i16",
        bytes: 2,
        signed: true,
    },
    Narrow {
        name: "u16",
        bytes: 2,
        signed: false,
    },
];

impl Narrow {
    fn bits(self) -> u32 {
        self.bytes as u32 * 8
    }

    /// `v` wrapped to this type.
    fn wrap(self, v: i64) -> i64 {
        let s = 64 - self.bits();
        if self.signed {
            (v << s) >> s
        } else {
            ((v as u64) << s >> s) as i64
        }
    }

    fn encode(self, v: &[i64]) -> Arg {
        Arg::Buf(
            v.iter()
                .flat_map(|&x| x.to_le_bytes()[..self.bytes].to_vec())
                .collect(),
        )
    }

    fn decode(self, b: &[u8]) -> Vec<i64> {
        b.chunks_exact(self.bytes)
            .map(|c| {
                let mut w = [0u8; 8];
                w[..self.bytes].copy_from_slice(c);
                self.wrap(i64::from_le_bytes(w))
            })
            .collect()
    }

    fn min(self) -> i64 {
        if self.signed {
            -(1 << (self.bits() - 1))
        } else {
            0
        }
    }

    fn max(self) -> i64 {
        if self.signed {
            (1 << (self.bits() - 1)) - 1
        } else {
            (1 << self.bits()) - 1
        }
    }
}

/// Inputs that reach both ends of the type's range and overflow under add, sub and mul.
fn narrow_inputs(t: Narrow) -> (Vec<i64>, Vec<i64>) {
    let (lo, hi) = (t.min(), t.max());
    let picks = [lo, lo + 1, -1, 0, 1, 2, 3, 7, 100, hi - 1, hi, hi / 2 + 3];
    let x: Vec<i64> = (0..N as usize)
        .map(|i| t.wrap(picks[i % picks.len()] + (i / picks.len()) as i64 * 37))
        .collect();
    let y: Vec<i64> = (0..N as usize)
        .map(|i| t.wrap(picks[(i * 5 + 3) % picks.len()] - (i / 7) as i64 * 11))
        .collect();
    (x, y)
}

#[test]
fn narrow_integers_wrap_and_compare_as_their_type() {
    for t in NARROW {
        let ty = t.name;
        let params = format!(
            "%x: ptr<{ty}> {{arg=0, div16}}, %y: ptr<{ty}> {{arg=1, div16}}, \
             %o: ptr<{ty}> {{arg=2, div16}}, %w: ptr<i32> {{arg=3, div16}}"
        );
        let mut k = Tile::new("narrow_ops", &params);
        let tt = format!("tensor<{N}x{ty}>");
        let ti = format!("tensor<{N}xi32>");
        let px = k.ptr1d("%x", N, ty);
        let py = k.ptr1d("%y", N, ty);
        let x = k.v(&format!("load {px} : {tt}"));
        let y = k.v(&format!("load {py} : {tt}"));
        let three = k.v(&format!("constant {{value=3}} : {tt}"));
        // Row r of the outputs holds result r (narrow results in %o, widened ones in %w).
        let results = [
            k.v(&format!("add {x}, {y} : {tt}")),
            k.v(&format!("sub {x}, {y} : {tt}")),
            k.v(&format!("mul {x}, {y} : {tt}")),
            k.v(&format!("shl {x}, {three} : {tt}")),
            k.v(&format!("neg {x} : {tt}")),
            k.v(&format!("not {x} : {tt}")),
            k.v(&format!("shr {x}, {three} : {tt}")),
        ];
        let rows = results.len() as u32;
        let r = k.v(&format!("make_range {{start=0, end={N}}} : {ti}"));
        for (i, v) in results.iter().enumerate() {
            let off = k.v(&format!("constant {{value={}}} : {ti}", i as u32 * N));
            let idx = k.v(&format!("add {r}, {off} : {ti}"));
            let p = k.v(&format!("splat %o : tensor<{N}xptr<{ty}>>"));
            let p = k.v(&format!("addptr {p}, {idx} : tensor<{N}xptr<{ty}>>"));
            k.raw(&format!("store {p}, {v}"));
        }
        // Widened: the product cast to i32 (must be the wrapped narrow product), and a
        // comparison of an overflowing sum with x.
        let prod = k.v(&format!("cast {} : {ti}", results[2]));
        let lt = k.v(&format!(
            "cmp {{pred=lt}} {}, {x} : tensor<{N}xi1>",
            results[0]
        ));
        let lt = k.v(&format!("cast {lt} : {ti}"));
        for (i, v) in [prod, lt].iter().enumerate() {
            let off = k.v(&format!("constant {{value={}}} : {ti}", i as u32 * N));
            let idx = k.v(&format!("add {r}, {off} : {ti}"));
            let p = k.v(&format!("splat %w : tensor<{N}xptr<i32>>"));
            let p = k.v(&format!("addptr {p}, {idx} : tensor<{N}xptr<i32>>"));
            k.raw(&format!("store {p}, {v}"));
        }
        let (xs, ys) = narrow_inputs(t);
        let shr = |a: i64| {
            if t.signed {
                a >> 3
            } else {
                (a as u64 >> 3) as i64
            }
        };
        let want: Vec<Vec<i64>> = vec![
            xs.iter().zip(&ys).map(|(a, b)| t.wrap(a + b)).collect(),
            xs.iter().zip(&ys).map(|(a, b)| t.wrap(a - b)).collect(),
            xs.iter().zip(&ys).map(|(a, b)| t.wrap(a * b)).collect(),
            xs.iter().map(|a| t.wrap(a << 3)).collect(),
            xs.iter().map(|a| t.wrap(-a)).collect(),
            xs.iter().map(|a| t.wrap(!a)).collect(),
            xs.iter().map(|&a| shr(a)).collect(),
        ];
        let want_prod: Vec<i32> = want[2].iter().map(|&v| v as i32).collect();
        let want_lt: Vec<i32> = want[0]
            .iter()
            .zip(&xs)
            .map(|(s, a)| (s < a) as i32)
            .collect();
        let args = [
            t.encode(&xs),
            t.encode(&ys),
            t.encode(&vec![0; (rows * N) as usize]),
            i32s(&vec![0; 2 * N as usize]),
        ];
        run_both(&k.finish(), [1, 1, 1], 4, &args, |engine, out| {
            let got = t.decode(&out[2]);
            for (i, w) in want.iter().enumerate() {
                let row = &got[i * N as usize..(i + 1) * N as usize];
                assert_eq!(row, &w[..], "{engine} {ty} result {i}");
            }
            let wide = as_i32(&out[3]);
            assert_eq!(&wide[..N as usize], &want_prod[..], "{engine} {ty} cast");
            assert_eq!(&wide[N as usize..], &want_lt[..], "{engine} {ty} cmp");
        });
    }
}

#[test]
fn narrow_integer_reductions_wrap() {
    // Sums through simd shuffles and threadgroup memory, max and min: all in the narrow
    // type, so the sum wraps.
    for t in NARROW {
        let ty = t.name;
        let params = format!("%x: ptr<{ty}> {{arg=0, div16}}, %o: ptr<{ty}> {{arg=1, div16}}");
        let mut k = Tile::new("narrow_reduce", &params);
        let px = k.ptr1d("%x", N, ty);
        let x = k.v(&format!("load {px} : tensor<{N}x{ty}>"));
        let mut outs = Vec::new();
        for op in ["add", "max", "min"] {
            let (a, b, c) = (k.fresh(), k.fresh(), k.fresh());
            let r = k.v(&format!(
                "reduce {{axis=0}} {x} : {ty} {{\n    ^bb({a}: {ty}, {b}: {ty}):\n    {c} = {op} {a}, {b} : {ty}\n    yield {c}\n  }}"
            ));
            outs.push(r);
        }
        for (i, r) in outs.iter().enumerate() {
            let off = k.v(&format!("constant {{value={i}}} : i32"));
            let p = k.v(&format!("addptr %o, {off} : ptr<{ty}>"));
            k.raw(&format!("store {p}, {r}"));
        }
        let (xs, _) = narrow_inputs(t);
        let want = vec![
            t.wrap(xs.iter().sum()),
            *xs.iter().max().unwrap(),
            *xs.iter().min().unwrap(),
        ];
        let args = [t.encode(&xs), t.encode(&[0, 0, 0])];
        run_both(&k.finish(), [1, 1, 1], 4, &args, |engine, out| {
            assert_eq!(t.decode(&out[1]), want, "{engine} {ty}");
        });
    }
}

#[test]
fn casts_into_narrow_types_wrap_or_saturate() {
    // From i32: wrap. From f32: truncate, saturate, NaN -> 0. Between narrow types: resize
    // keeping the source's signedness, as on targets with 8/16-bit registers.
    let ints: Vec<i32> = (0..N as i32)
        .map(|i| i.wrapping_mul(0x0101_0123).wrapping_sub(1 << 30))
        .collect();
    let floats: Vec<f32> = (0..N as usize)
        .map(|i| match i % 8 {
            0 => f32::NAN,
            1 => f32::INFINITY,
            2 => f32::NEG_INFINITY,
            3 => -1.5,
            _ => (i as f32 - 64.0) * 613.37,
        })
        .collect();
    for t in NARROW {
        let ty = t.name;
        let params = format!(
            "%a: ptr<i32> {{arg=0, div16}}, %f: ptr<f32> {{arg=1, div16}}, \
             %o: ptr<{ty}> {{arg=2, div16}}, %p: ptr<{ty}> {{arg=3, div16}}, \
             %q: ptr<i32> {{arg=4, div16}}"
        );
        let mut k = Tile::new("narrow_casts", &params);
        let pa = k.ptr1d("%a", N, "i32");
        let pf = k.ptr1d("%f", N, "f32");
        let a = k.v(&format!("load {pa} : tensor<{N}xi32>"));
        let f = k.v(&format!("load {pf} : tensor<{N}xf32>"));
        let ca = k.v(&format!("cast {a} : tensor<{N}x{ty}>"));
        let cf = k.v(&format!("cast {f} : tensor<{N}x{ty}>"));
        // Through the other signedness of the same width and back out to i32.
        let other = if t.signed {
            ty.replace('i', "u")
        } else {
            ty.replace('u', "i")
        };
        let co = k.v(&format!("cast {ca} : tensor<{N}x{other}>"));
        let back = k.v(&format!("cast {co} : tensor<{N}xi32>"));
        let po = k.ptr1d("%o", N, ty);
        k.raw(&format!("store {po}, {ca}"));
        let pp = k.ptr1d("%p", N, ty);
        k.raw(&format!("store {pp}, {cf}"));
        let pq = k.ptr1d("%q", N, "i32");
        k.raw(&format!("store {pq}, {back}"));
        let want_a: Vec<i64> = ints.iter().map(|&v| t.wrap(v as i64)).collect();
        let want_f: Vec<i64> = floats
            .iter()
            .map(|&v| {
                if v.is_nan() {
                    0
                } else {
                    (v.trunc() as f64).clamp(t.min() as f64, t.max() as f64) as i64
                }
            })
            .collect();
        let o = Narrow {
            signed: !t.signed,
            ..t
        };
        let want_q: Vec<i32> = want_a.iter().map(|&v| o.wrap(v) as i32).collect();
        let args = [
            i32s(&ints),
            f32s(&floats),
            t.encode(&vec![0; N as usize]),
            t.encode(&vec![0; N as usize]),
            i32s(&vec![0; N as usize]),
        ];
        run_both(&k.finish(), [1, 1, 1], 4, &args, |engine, out| {
            assert_eq!(t.decode(&out[2]), want_a, "{engine} i32 -> {ty}");
            assert_eq!(t.decode(&out[3]), want_f, "{engine} f32 -> {ty}");
            assert_eq!(as_i32(&out[4]), want_q, "{engine} {ty} -> {other} -> i32");
        });
    }
}

#[test]
fn i16_and_f16_bitcast_both_ways() {
    // Every class of half: zero, subnormal, normal, infinity, NaN, both signs.
    let bits: Vec<u16> = (0..N as u16)
        .map(|i| match i % 8 {
            0 => 0x0000,
            1 => 0x8001,
            2 => 0x03ff,
            3 => 0x7c00,
            4 => 0xfc00,
            5 => 0x7e00,
            _ => i.wrapping_mul(0x1357),
        })
        // Signaling NaNs may come back quieted from a conversion: keep NaNs quiet.
        .map(|b| {
            if b & 0x7c00 == 0x7c00 && b & 0x3ff != 0 {
                b | 0x200
            } else {
                b
            }
        })
        .collect();
    let params = "%x: ptr<i16> {arg=0, div16}, %h: ptr<f16> {arg=1, div16}, \
                  %y: ptr<i16> {arg=2, div16}";
    let mut k = Tile::new("bits16", params);
    let px = k.ptr1d("%x", N, "i16");
    let x = k.v(&format!("load {px} : tensor<{N}xi16>"));
    let h = k.v(&format!("bitcast {x} : tensor<{N}xf16>"));
    let ph = k.ptr1d("%h", N, "f16");
    k.raw(&format!("store {ph}, {h}"));
    let y = k.v(&format!("bitcast {h} : tensor<{N}xi16>"));
    let py = k.ptr1d("%y", N, "i16");
    k.raw(&format!("store {py}, {y}"));
    let t = NARROW[2];
    let xs: Vec<i64> = bits.iter().map(|&b| b as i16 as i64).collect();
    let zeros = t.encode(&vec![0; N as usize]);
    let args = [t.encode(&xs), zeros.clone(), zeros];
    // WGSL can make an f16 from bits only through a float conversion, and lavapipe's
    // conversions canonicalize NaN payloads: there a NaN only has to stay a NaN.
    let is_nan = |b: i64| b & 0x7c00 == 0x7c00 && b & 0x3ff != 0;
    let same = |engine: &str, got: &[i64]| {
        got.iter().zip(&xs).all(|(&g, &w)| {
            g == w || (engine != "msl-emu" && is_nan(g) && is_nan(w) && (g < 0) == (w < 0))
        })
    };
    run_both(&k.finish(), [1, 1, 1], 4, &args, |engine, out| {
        let (h, y) = (t.decode(&out[1]), t.decode(&out[2]));
        assert!(same(engine, &h), "{engine} i16 -> f16: {h:?}");
        assert!(same(engine, &y), "{engine} i16 -> f16 -> i16: {y:?}");
    });
}

#[test]
fn nan_compares_unequal_and_is_found() {
    let xs: Vec<f32> = (0..N as usize)
        .map(|i| match i % 6 {
            0 => f32::NAN,
            1 => f32::INFINITY,
            2 => -f32::INFINITY,
            3 => 1.5,
            4 => -0.0,
            _ => i as f32,
        })
        .collect();
    let ys: Vec<f32> = (0..N as usize)
        .map(|i| if i % 5 == 0 { f32::NAN } else { 1.5 })
        .collect();
    let params = "%x: ptr<f32> {arg=0, div16}, %y: ptr<f32> {arg=1, div16}, \
                  %o: ptr<i32> {arg=2, div16}";
    let mut k = Tile::new("nan_cmp", params);
    let ti = format!("tensor<{N}xi32>");
    let tb = format!("tensor<{N}xi1>");
    let px = k.ptr1d("%x", N, "f32");
    let py = k.ptr1d("%y", N, "f32");
    let x = k.v(&format!("load {px} : tensor<{N}xf32>"));
    let y = k.v(&format!("load {py} : tensor<{N}xf32>"));
    let preds = ["eq", "ne", "lt", "le", "gt", "ge"];
    let mut flags = Vec::new();
    for p in preds {
        flags.push(k.v(&format!("cmp {{pred={p}}} {x}, {y} : {tb}")));
    }
    flags.push(k.v(&format!("isnan {x} : {tb}")));
    flags.push(k.v(&format!("isinf {x} : {tb}")));
    let mut acc = k.v(&format!("constant {{value=0}} : {ti}"));
    for (i, f) in flags.iter().enumerate() {
        let w = k.v(&format!("cast {f} : {ti}"));
        let bit = k.v(&format!("constant {{value={}}} : {ti}", 1 << i));
        let w = k.v(&format!("mul {w}, {bit} : {ti}"));
        acc = k.v(&format!("or {acc}, {w} : {ti}"));
    }
    // NaN -> int is 0; max/min ignore a NaN operand.
    let ci = k.v(&format!("cast {x} : {ti}"));
    let mx = k.v(&format!("max {x}, {y} : tensor<{N}xf32>"));
    let po = k.ptr1d("%o", N, "i32");
    k.raw(&format!("store {po}, {acc}"));
    let r = k.v(&format!("make_range {{start=0, end={N}}} : {ti}"));
    let off = k.v(&format!("constant {{value={N}}} : {ti}"));
    let i2 = k.v(&format!("add {r}, {off} : {ti}"));
    let p2 = k.v(&format!("splat %o : tensor<{N}xptr<i32>>"));
    let p2 = k.v(&format!("addptr {p2}, {i2} : tensor<{N}xptr<i32>>"));
    k.raw(&format!("store {p2}, {ci}"));
    let pm = k.v(&format!("splat %y : tensor<{N}xptr<f32>>"));
    let pm = k.v(&format!("addptr {pm}, {r} : tensor<{N}xptr<f32>>"));
    k.raw(&format!("store {pm}, {mx}"));
    let want: Vec<i32> = xs
        .iter()
        .zip(&ys)
        .map(|(&a, &b)| {
            let f = [
                a == b,
                a != b,
                a < b,
                a <= b,
                a > b,
                a >= b,
                a.is_nan(),
                a.is_infinite(),
            ];
            f.iter()
                .enumerate()
                .map(|(i, &v)| (v as i32) << i)
                .sum::<i32>()
        })
        .collect();
    let want_int: Vec<i32> = xs.iter().map(|&a| a as i32).collect();
    let want_max: Vec<u32> = xs
        .iter()
        .zip(&ys)
        .map(|(&a, &b)| a.max(b).to_bits())
        .collect();
    let args = [f32s(&xs), f32s(&ys), i32s(&vec![0; 2 * N as usize])];
    run_both(&k.finish(), [1, 1, 1], 4, &args, |engine, out| {
        let got = as_i32(&out[2]);
        assert_eq!(&got[..N as usize], &want[..], "{engine} predicates");
        assert_eq!(&got[N as usize..], &want_int[..], "{engine} f32 -> i32");
        let mx: Vec<u32> = as_f32(&out[1]).iter().map(|v| v.to_bits()).collect();
        assert_eq!(mx, want_max, "{engine} max");
    });
}

#[test]
fn i64_sums_shuffle_as_two_words() {
    // A reduction of 64-bit values moves them through shuffles as pairs of u32 words.
    let params = "%x: ptr<i64> {arg=0, div16}, %o: ptr<i64> {arg=1, div16}";
    let mut k = Tile::new("sum64", params);
    let px = k.ptr1d("%x", N, "i64");
    let x = k.v(&format!("load {px} : tensor<{N}xi64>"));
    let (a, b, c) = (k.fresh(), k.fresh(), k.fresh());
    let s = k.v(&format!(
        "reduce {{axis=0}} {x} : i64 {{\n    ^bb({a}: i64, {b}: i64):\n    {c} = add {a}, {b} : i64\n    yield {c}\n  }}"
    ));
    k.raw(&format!("store %o, {s}"));
    let xs: Vec<i64> = (0..N as i64)
        .map(|i| (i - 60) * 0x1_2345_6789 + (i << 40))
        .collect();
    let want: i64 = xs.iter().fold(0i64, |s, v| s.wrapping_add(*v));
    let bytes = |v: &[i64]| Arg::Buf(v.iter().flat_map(|x| x.to_le_bytes()).collect());
    let args = [bytes(&xs), bytes(&[0])];
    run_both(&k.finish(), [1, 1, 1], 4, &args, |engine, out| {
        let w = as_u32(&out[1]);
        let got = ((w[1] as u64) << 32 | w[0] as u64) as i64;
        assert_eq!(got, want, "{engine}");
    });
}

#[test]
fn kernels_named_like_keywords_run() {
    for name in ["kernel", "main", "float", "fn", "loop"] {
        let mut k = Tile::new(name, "%x: ptr<f32> {arg=0, div16}");
        let p = k.ptr1d("%x", N, "f32");
        let x = k.v(&format!("load {p} : tensor<{N}xf32>"));
        let y = k.v(&format!("add {x}, {x} : tensor<{N}xf32>"));
        k.raw(&format!("store {p}, {y}"));
        let src = k.finish();
        for (target, d) in [
            (Target::apple(), Dialect::Msl),
            (Target::lavapipe(), Dialect::Wgsl),
        ] {
            let lowered = tm_simt::lower(&parse(&src), &target, 4).expect("lowers");
            assert_eq!(lowered.abi.entry, d.entry_point(name));
            assert!(!d.reserved_words().contains(&lowered.abi.entry.as_str()));
        }
        let xs: Vec<f32> = (0..N).map(|i| i as f32).collect();
        run_both(&src, [1, 1, 1], 4, &[f32s(&xs)], |engine, out| {
            let want: Vec<f32> = xs.iter().map(|v| v * 2.0).collect();
            assert_eq!(as_f32(&out[0]), want, "{engine} {name}");
        });
    }
}

#[test]
fn u32_mulhi_keeps_its_top_bit_through_sign_tests() {
    // The high word of a u32 product often has its top bit set; reinterpreted as i32 it
    // must test negative. (tl.rand folds the sign of Philox words exactly this way; the
    // emulator once computed the product in signed 64 bits, whose overflow let clang drop
    // the bit.)
    let params = "%x: ptr<u32> {arg=0, div16}, %o: ptr<i32> {arg=1, div16}";
    let mut k = Tile::new("mulhi_sign", params);
    let tu = format!("tensor<{N}xu32>");
    let ti = format!("tensor<{N}xi32>");
    let px = k.ptr1d("%x", N, "u32");
    let x = k.v(&format!("load {px} : {tu}"));
    let c = k.v(&format!("constant {{value=3528531795}} : {tu}"));
    let h = k.v(&format!("mulhi {c}, {x} : {tu}"));
    let s = k.v(&format!("bitcast {h} : {ti}"));
    let zero = k.v(&format!("constant {{value=0}} : {ti}"));
    let neg = k.v(&format!("cmp {{pred=lt}} {s}, {zero} : tensor<{N}xi1>"));
    let flag = k.v(&format!("cast {neg} : {ti}"));
    let po = k.ptr1d("%o", N, "i32");
    k.raw(&format!("store {po}, {flag}"));
    let xs: Vec<u32> = (0..N)
        .map(|i| 0xffff_ffffu32.wrapping_sub(i.wrapping_mul(0x0123_4567)))
        .collect();
    let want: Vec<i32> = xs
        .iter()
        .map(|&x| ((((x as u64 * 3528531795u64) >> 32) as u32 as i32) < 0) as i32)
        .collect();
    assert!(want.contains(&1) && want.contains(&0));
    let args = [harness::u32s(&xs), i32s(&vec![0; N as usize])];
    run_both(&k.finish(), [1, 1, 1], 4, &args, |engine, out| {
        assert_eq!(as_i32(&out[1]), want, "{engine}");
    });
}

#[test]
fn asin_and_acos_are_accurate_on_both_engines() {
    // Tutorial 07 checks asin to 2e-6; lavapipe's own asin was off by ~4e-4.
    let params = "%x: ptr<f32> {arg=0, div16}, %o: ptr<f32> {arg=1, div16}";
    let mut k = Tile::new("inverse_trig", params);
    let tf = format!("tensor<{N}xf32>");
    let px = k.ptr1d("%x", N, "f32");
    let x = k.v(&format!("load {px} : {tf}"));
    let s = k.v(&format!("asin {x} : {tf}"));
    let c = k.v(&format!("acos {x} : {tf}"));
    let po = k.ptr1d("%o", N, "f32");
    k.raw(&format!("store {po}, {s}"));
    let ti = format!("tensor<{N}xi32>");
    let r = k.v(&format!("make_range {{start=0, end={N}}} : {ti}"));
    let off = k.v(&format!("constant {{value={N}}} : {ti}"));
    let i2 = k.v(&format!("add {r}, {off} : {ti}"));
    let p2 = k.v(&format!("splat %o : tensor<{N}xptr<f32>>"));
    let p2 = k.v(&format!("addptr {p2}, {i2} : tensor<{N}xptr<f32>>"));
    k.raw(&format!("store {p2}, {c}"));
    // Spread over [-1, 1], both ends included, plus one value outside (NaN expected).
    let mut xs: Vec<f32> = (0..N - 1)
        .map(|i| -1.0 + 2.0 * i as f32 / (N - 2) as f32)
        .collect();
    xs.push(1.5);
    let args = [f32s(&xs), f32s(&vec![0.0; 2 * N as usize])];
    run_both(&k.finish(), [1, 1, 1], 4, &args, |engine, out| {
        let got = as_f32(&out[1]);
        for (i, &x) in xs.iter().enumerate() {
            let (s, c) = (got[i], got[N as usize + i]);
            if x.abs() > 1.0 {
                assert!(
                    s.is_nan() && c.is_nan(),
                    "{engine}: asin/acos({x}) = {s}/{c}"
                );
                continue;
            }
            let (ws, wc) = ((x as f64).asin(), (x as f64).acos());
            assert!(
                (s as f64 - ws).abs() <= 2e-6,
                "{engine}: asin({x}) = {s}, want {ws}"
            );
            assert!(
                (c as f64 - wc).abs() <= 2e-6,
                "{engine}: acos({x}) = {c}, want {wc}"
            );
        }
    });
}
