//! A reference Philox, checked against Random123's published known-answer vectors, and the
//! constants of the Triton-language `random.py` checked against it: the stdlib's Philox is
//! the published Philox4x32-10 (and 4x64-10), keyed and counted the way Triton does.

use ruff_python_ast::{Expr, Number, Stmt};
use tm_frontend::stdlib::StdlibModule;

// Random123's constants (philox.h): round multipliers and Weyl key increments.
const M4X32: [u32; 2] = [0xD251_1F53, 0xCD9E_8D57];
const W32: [u32; 2] = [0x9E37_79B9, 0xBB67_AE85];
const M4X64: [u64; 2] = [0xD2E7_470E_E14C_6C93, 0xCA5A_8263_9512_1157];
const W64: [u64; 2] = [0x9E37_79B9_7F4A_7C15, 0xBB67_AE85_84CA_A73B];

fn mulhilo32(a: u32, b: u32) -> (u32, u32) {
    let p = u64::from(a) * u64::from(b);
    ((p >> 32) as u32, p as u32)
}

fn mulhilo64(a: u64, b: u64) -> (u64, u64) {
    let p = u128::from(a) * u128::from(b);
    ((p >> 64) as u64, p as u64)
}

/// Philox4x32 as Random123 defines it: the key is bumped before every round but the first.
fn philox4x32(ctr: [u32; 4], key: [u32; 2], rounds: u32) -> [u32; 4] {
    let (mut c, mut k) = (ctr, key);
    for r in 0..rounds {
        if r > 0 {
            k = [k[0].wrapping_add(W32[0]), k[1].wrapping_add(W32[1])];
        }
        let (hi0, lo0) = mulhilo32(M4X32[0], c[0]);
        let (hi1, lo1) = mulhilo32(M4X32[1], c[2]);
        c = [hi1 ^ c[1] ^ k[0], lo1, hi0 ^ c[3] ^ k[1], lo0];
    }
    c
}

fn philox4x64(ctr: [u64; 4], key: [u64; 2], rounds: u32) -> [u64; 4] {
    let (mut c, mut k) = (ctr, key);
    for r in 0..rounds {
        if r > 0 {
            k = [k[0].wrapping_add(W64[0]), k[1].wrapping_add(W64[1])];
        }
        let (hi0, lo0) = mulhilo64(M4X64[0], c[0]);
        let (hi1, lo1) = mulhilo64(M4X64[1], c[2]);
        c = [hi1 ^ c[1] ^ k[0], lo1, hi0 ^ c[3] ^ k[1], lo0];
    }
    c
}

/// The loop of the stdlib's `philox_impl` transcribed: A is the first multiplier (applied
/// to c0), B the second (applied to c2); the key is bumped after every round.
fn triton_philox_impl(c: [u32; 4], k: [u32; 2], n_rounds: u32) -> [u32; 4] {
    let (a, b) = (M4X32[0], M4X32[1]);
    let ([mut c0, mut c1, mut c2, mut c3], [mut k0, mut k1]) = (c, k);
    for _ in 0..n_rounds {
        let (_c0, _c2) = (c0, c2);
        c0 = mulhilo32(b, _c2).0 ^ c1 ^ k0;
        c2 = mulhilo32(a, _c0).0 ^ c3 ^ k1;
        c1 = b.wrapping_mul(_c2);
        c3 = a.wrapping_mul(_c0);
        k0 = k0.wrapping_add(W32[0]);
        k1 = k1.wrapping_add(W32[1]);
    }
    [c0, c1, c2, c3]
}

/// `tl.randint4x(seed, offset)` for a 32-bit offset: counter (offset, 0, 0, 0), key the
/// halves of the seed sign-extended to 64 bits.
fn randint4x(seed: i64, offset: i32) -> [u32; 4] {
    let s = seed as u64;
    triton_philox_impl([offset as u32, 0, 0, 0], [s as u32, (s >> 32) as u32], 10)
}

/// `tl.uint_to_uniform_float` of a 32-bit word, in f32 arithmetic as the kernel does it.
fn uint_to_uniform_float(x: u32) -> f32 {
    let x = x as i32;
    let x = if x < 0 {
        x.wrapping_neg().wrapping_sub(1)
    } else {
        x
    };
    x as f32 * 4.656_612_734_2e-10_f64 as f32
}

fn hex4(s: &str) -> [u32; 4] {
    let v: Vec<u32> = s
        .split_whitespace()
        .map(|w| u32::from_str_radix(w, 16).unwrap())
        .collect();
    [v[0], v[1], v[2], v[3]]
}

fn hex4_64(s: &str) -> [u64; 4] {
    let v: Vec<u64> = s
        .split_whitespace()
        .map(|w| u64::from_str_radix(w, 16).unwrap())
        .collect();
    [v[0], v[1], v[2], v[3]]
}

/// Random123 `tests/kat_vectors`: rounds, counter, key, expected output.
const KAT_4X32: &[(u32, &str, [u32; 2], &str)] = &[
    (
        7,
        "00000000 00000000 00000000 00000000",
        [0x0000_0000, 0x0000_0000],
        "5f6fb709 0d893f64 4f121f81 4f730a48",
    ),
    (
        7,
        "ffffffff ffffffff ffffffff ffffffff",
        [0xffff_ffff, 0xffff_ffff],
        "5207ddc2 45165e59 4d8ee751 8c52f662",
    ),
    (
        7,
        "243f6a88 85a308d3 13198a2e 03707344",
        [0xa409_3822, 0x299f_31d0],
        "4dfccaba 190a87f0 c47362ba b6b5242a",
    ),
    (
        10,
        "00000000 00000000 00000000 00000000",
        [0x0000_0000, 0x0000_0000],
        "6627e8d5 e169c58d bc57ac4c 9b00dbd8",
    ),
    (
        10,
        "ffffffff ffffffff ffffffff ffffffff",
        [0xffff_ffff, 0xffff_ffff],
        "408f276d 41c83b0e a20bc7c6 6d5451fd",
    ),
    (
        10,
        "243f6a88 85a308d3 13198a2e 03707344",
        [0xa409_3822, 0x299f_31d0],
        "d16cfe09 94fdcceb 5001e420 24126ea1",
    ),
];

const KAT_4X64_10: &[(&str, [u64; 2], &str)] = &[
    (
        "0000000000000000 0000000000000000 0000000000000000 0000000000000000",
        [0, 0],
        "16554d9eca36314c db20fe9d672d0fdc d7e772cee186176b 7e68b68aec7ba23b",
    ),
    (
        "ffffffffffffffff ffffffffffffffff ffffffffffffffff ffffffffffffffff",
        [u64::MAX, u64::MAX],
        "87b092c3013fe90b 438c3c67be8d0224 9cc7d7c69cd777b6 a09caebf594f0ba0",
    ),
    (
        "243f6a8885a308d3 13198a2e03707344 a4093822299f31d0 082efa98ec4e6c89",
        [0x4528_21e6_38d0_1377, 0xbe54_66cf_34e9_0c6c],
        "a528f45403e61d95 38c72dbd566e9788 a5a1610e72fd18b5 57bd43b5e52b7fe6",
    ),
];

#[test]
fn reference_philox4x32_matches_random123_known_answers() {
    for (rounds, ctr, key, want) in KAT_4X32 {
        assert_eq!(
            philox4x32(hex4(ctr), *key, *rounds),
            hex4(want),
            "philox4x32-{rounds} {ctr}"
        );
    }
}

#[test]
fn reference_philox4x64_matches_random123_known_answers() {
    for (ctr, key, want) in KAT_4X64_10 {
        assert_eq!(
            philox4x64(hex4_64(ctr), *key, 10),
            hex4_64(want),
            "philox4x64-10 {ctr}"
        );
    }
}

#[test]
fn tritons_round_order_is_random123s() {
    // Triton bumps the key after the last round too and names the multipliers by the
    // counter word they hit: the same function.
    for (rounds, ctr, key, want) in KAT_4X32 {
        assert_eq!(triton_philox_impl(hex4(ctr), *key, *rounds), hex4(want));
    }
    let mut x: u32 = 0x1234_5678;
    let mut next = || {
        // xorshift32: any spread of inputs will do.
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        x
    };
    for _ in 0..1000 {
        let c = [next(), next(), next(), next()];
        let k = [next(), next()];
        assert_eq!(triton_philox_impl(c, k, 10), philox4x32(c, k, 10));
    }
}

#[test]
fn randint_keys_with_the_sign_extended_seed() {
    // Negative 32-bit seeds set the high key word: seed -1 is key (ffffffff, ffffffff).
    assert_eq!(
        randint4x(-1, -1),
        philox4x32([u32::MAX, 0, 0, 0], [u32::MAX, u32::MAX], 10)
    );
    assert_ne!(
        randint4x(-1, 5),
        philox4x32([5, 0, 0, 0], [u32::MAX, 0], 10)
    );
    assert_eq!(randint4x(0, 0), hex4("6627e8d5 e169c58d bc57ac4c 9b00dbd8"));
    // Seeds above 32 bits reach the high word.
    let s: i64 = 0x299f_31d0_a409_3822;
    assert_eq!(
        randint4x(s, 7),
        philox4x32([7, 0, 0, 0], [0xa409_3822, 0x299f_31d0], 10)
    );
}

#[test]
fn uniform_floats_stay_in_the_unit_interval() {
    assert_eq!(uniform_bits(0), 0.0);
    // Both words that fold to i32::MAX give the largest value, still below 1.
    let top = uniform_bits(0x7fff_ffff);
    assert!(top < 1.0, "{top}");
    assert_eq!(uniform_bits(0x8000_0000), top);
    assert_eq!(uniform_bits(u32::MAX), 0.0);
    for w in [1u32, 0x1234_5678, 0x8765_4321, 0xdead_beef] {
        let u = uniform_bits(w);
        assert!((0.0..1.0).contains(&u), "{w:#x} -> {u}");
    }
}

fn uniform_bits(w: u32) -> f32 {
    uint_to_uniform_float(w)
}

/// Integer literal of an expression, `None` otherwise.
fn int_literal(e: &Expr) -> Option<u64> {
    match e {
        Expr::NumberLiteral(n) => match &n.value {
            Number::Int(i) => i.as_u64(),
            _ => None,
        },
        _ => None,
    }
}

fn body_of<'a>(m: &'a ruff_python_ast::ModModule, name: &str) -> &'a [Stmt] {
    m.body
        .iter()
        .find_map(|s| match s {
            Stmt::FunctionDef(f) if f.name.as_str() == name => Some(&f.body[..]),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no def {name}"))
}

#[test]
fn stdlib_philox_constants_are_the_reference_constants() {
    let m = ruff_python_parser::parse_module(StdlibModule::Random.text())
        .unwrap()
        .into_syntax();
    let Stmt::If(branch) = &body_of(&m, "philox_impl")[0] else {
        panic!("philox_impl must start with the dtype branch");
    };
    let mut u32s = std::collections::BTreeMap::new();
    for s in &branch.body {
        if let Stmt::AnnAssign(a) = s {
            let (Expr::Name(n), Some(v)) = (&*a.target, &a.value) else {
                continue;
            };
            u32s.insert(n.id.to_string(), int_literal(v).unwrap());
        }
    }
    let mut u64s = std::collections::BTreeMap::new();
    for s in &branch.elif_else_clauses[0].body {
        if let Stmt::Assign(a) = s {
            let (Expr::Name(n), Expr::Call(c)) = (&a.targets[0], &*a.value) else {
                continue;
            };
            let hi = int_literal(&c.arguments.args[0]).unwrap();
            let lo = int_literal(&c.arguments.args[1]).unwrap();
            u64s.insert(n.id.to_string(), (hi << 32) | lo);
        }
    }
    let want32 = [
        ("PHILOX_KEY_A", u64::from(W32[0])),
        ("PHILOX_KEY_B", u64::from(W32[1])),
        ("PHILOX_ROUND_A", u64::from(M4X32[0])),
        ("PHILOX_ROUND_B", u64::from(M4X32[1])),
    ];
    let want64 = [
        ("PHILOX_KEY_A", W64[0]),
        ("PHILOX_KEY_B", W64[1]),
        ("PHILOX_ROUND_A", M4X64[0]),
        ("PHILOX_ROUND_B", M4X64[1]),
    ];
    for (name, v) in want32 {
        assert_eq!(u32s.get(name), Some(&v), "32-bit {name}");
    }
    for (name, v) in want64 {
        assert_eq!(u64s.get(name), Some(&v), "64-bit {name}");
    }
    // ROUND_A multiplies c0 and feeds c2, ROUND_B multiplies c2 and feeds c0, as in the
    // transcription above.
    let text = StdlibModule::Random.text();
    for line in [
        "c0 = tl.umulhi(B, _c2) ^ c1 ^ k0",
        "c2 = tl.umulhi(A, _c0) ^ c3 ^ k1",
        "c1 = B * _c2",
        "c3 = A * _c0",
        "A = PHILOX_ROUND_A",
        "B = PHILOX_ROUND_B",
        "k0 = k0 + PHILOX_KEY_A",
        "k1 = k1 + PHILOX_KEY_B",
        "scale = 4.6566127342e-10",
    ] {
        assert!(
            text.lines().any(|l| l.trim() == line),
            "random.py lacks `{line}`"
        );
    }
}
