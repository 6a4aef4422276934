//! 64-bit integer atomics: native `atomic<i64>` on lavapipe (SHADER_INT64_ATOMIC_ALL_OPS),
//! a lock table in MSL (tm-simt's `lower::atomic64`), refused on WGSL targets without the
//! feature. Values are chosen so that every update changes both 32-bit halves and signed
//! and unsigned orders differ: an emulation that handled one word, or compared signed
//! where it should not, gives other results.

use crate::build::Tile;
use crate::harness::{parse, run_both_opts, Arg};
use tm_core::{ScratchKind, Target};
use tm_simt::ir::{FenceScope, Space};
use tm_simt::Stmt;

fn i64s(v: &[i64]) -> Arg {
    Arg::Buf(v.iter().flat_map(|x| x.to_le_bytes()).collect())
}

fn as_i64(b: &[u8]) -> Vec<i64> {
    b.chunks_exact(8)
        .map(|c| i64::from_le_bytes(c.try_into().unwrap()))
        .collect()
}

/// Program p: `old[p*n + i] = atomic_op(out[i % bins], x[i])` for i < n (or only even i
/// when masked).
fn rmw_kernel(op: &str, ty: &str, n: u32, bins: u32, masked: bool) -> String {
    let params = format!(
        "%x: ptr<{ty}> {{arg=0, div16}}, %out: ptr<{ty}> {{arg=1, div16}}, \
         %old: ptr<{ty}> {{arg=2, div16}}"
    );
    let mut t = Tile::new("rmw64", &params);
    let r = t.v(&format!(
        "make_range {{start=0, end={n}}} : tensor<{n}xi32>"
    ));
    let px = t.ptr1d("%x", n, ty);
    let x = t.v(&format!("load {px} : tensor<{n}x{ty}>"));
    let b = t.v(&format!("constant {{value={bins}}} : tensor<{n}xi32>"));
    let bin = t.v(&format!("rem {r}, {b} : tensor<{n}xi32>"));
    let po = t.v(&format!("splat %out : tensor<{n}xptr<{ty}>>"));
    let po = t.v(&format!("addptr {po}, {bin} : tensor<{n}xptr<{ty}>>"));
    let old = if masked {
        let two = t.v(&format!("constant {{value=2}} : tensor<{n}xi32>"));
        let par = t.v(&format!("rem {r}, {two} : tensor<{n}xi32>"));
        let z = t.v(&format!("constant {{value=0}} : tensor<{n}xi32>"));
        let m = t.v(&format!("cmp {{pred=eq}} {par}, {z} : tensor<{n}xi1>"));
        t.v(&format!(
            "atomic_rmw {{op={op}, mask, sem=acq_rel, scope=gpu}} {po}, {x}, {m} : tensor<{n}x{ty}>"
        ))
    } else {
        t.v(&format!(
            "atomic_rmw {{op={op}, sem=relaxed, scope=gpu}} {po}, {x} : tensor<{n}x{ty}>"
        ))
    };
    let pid = t.v("program_id {axis=0} : i32");
    let nn = t.v(&format!("constant {{value={n}}} : i32"));
    let base = t.v(&format!("mul {pid}, {nn} : i32"));
    let base = t.v(&format!("splat {base} : tensor<{n}xi32>"));
    let off = t.v(&format!("add {r}, {base} : tensor<{n}xi32>"));
    let pold = t.v(&format!("splat %old : tensor<{n}xptr<{ty}>>"));
    let pold = t.v(&format!("addptr {pold}, {off} : tensor<{n}xptr<{ty}>>"));
    t.raw(&format!("store {pold}, {old}"));
    t.finish()
}

fn apply(op: &str, unsigned: bool, a: i64, b: i64) -> i64 {
    let (ua, ub) = (a as u64, b as u64);
    match op {
        "add" => a.wrapping_add(b),
        "max" if unsigned => ua.max(ub) as i64,
        "min" if unsigned => ua.min(ub) as i64,
        "max" => a.max(b),
        "min" => a.min(b),
        "and" => a & b,
        "or" => a | b,
        "xor" => a ^ b,
        "xchg" => b,
        _ => unreachable!(),
    }
}

/// Spread over all 64 bits, both signs, high words that differ and low words that differ.
fn spread(i: usize, salt: u64) -> i64 {
    let bits = (i as u64 + 1)
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .rotate_left((i % 61) as u32)
        ^ salt;
    bits as i64
}

#[test]
fn rmw_ops_on_i64_and_u64_update_whole_words_once() {
    for ty in ["i64", "u64"] {
        for op in ["add", "max", "min", "and", "or", "xor", "xchg"] {
            for masked in [false, true] {
                let n = 64u32;
                let x: Vec<i64> = (0..n as usize).map(|i| spread(i, 0x5555)).collect();
                let init: Vec<i64> = (0..n as usize)
                    .map(|i| spread(i + 100, 0xFFFF_0000_0000))
                    .collect();
                let mut want = init.clone();
                for i in 0..n as usize {
                    if !masked || i % 2 == 0 {
                        want[i] = apply(op, ty == "u64", init[i], x[i]);
                    }
                }
                let args = [i64s(&x), i64s(&init), i64s(&vec![0; n as usize])];
                let k = rmw_kernel(op, ty, n, n, masked);
                run_both_opts(&k, [1, 1, 1], 4, &args, true, |e, out| {
                    assert_eq!(as_i64(&out[1]), want, "{e} {ty} {op} masked={masked}");
                    let old = as_i64(&out[2]);
                    for i in (0..n as usize).filter(|i| !masked || i % 2 == 0) {
                        assert_eq!(old[i], init[i], "{e} {ty} {op} old[{i}]");
                    }
                });
            }
        }
    }
}

#[test]
fn contended_i64_add_carries_between_halves_and_hands_out_distinct_olds() {
    // 8 programs × 128 elements into 4 counters: 256 adds each of 2^32 - 1, so every add
    // changes both words. The old values of a counter are exactly k * (2^32 - 1).
    let (programs, n, bins) = (8u32, 128u32, 4u32);
    let step = 0xFFFF_FFFFi64;
    let total = (programs * n) as usize;
    let args = [
        i64s(&vec![step; n as usize]),
        i64s(&vec![0; bins as usize]),
        i64s(&vec![-1; total]),
    ];
    let per_bin = (programs * n / bins) as i64;
    run_both_opts(
        &rmw_kernel("add", "i64", n, bins, false),
        [programs, 1, 1],
        4,
        &args,
        false,
        |e, out| {
            assert_eq!(as_i64(&out[1]), vec![per_bin * step; bins as usize], "{e}");
            let old = as_i64(&out[2]);
            for b in 0..bins as usize {
                let mut seen: Vec<i64> = (0..total)
                    .filter(|i| (i % n as usize) % bins as usize == b)
                    .map(|i| old[i])
                    .collect();
                seen.sort();
                let want: Vec<i64> = (0..per_bin).map(|k| k * step).collect();
                assert_eq!(seen, want, "{e} counter {b}");
            }
        },
    );
}

#[test]
fn i64_compare_and_swap_compares_both_halves() {
    let n = 64u32;
    let mut t = Tile::new(
        "cas64",
        "%p: ptr<i64> {arg=0, div16}, %cmp: ptr<i64> {arg=1, div16}, \
         %val: ptr<i64> {arg=2, div16}, %old: ptr<i64> {arg=3, div16}",
    );
    let pp = t.ptr1d("%p", n, "i64");
    let pc = t.ptr1d("%cmp", n, "i64");
    let c = t.v(&format!("load {pc} : tensor<{n}xi64>"));
    let pv = t.ptr1d("%val", n, "i64");
    let v = t.v(&format!("load {pv} : tensor<{n}xi64>"));
    let old = t.v(&format!(
        "atomic_cas {{sem=acq_rel, scope=gpu}} {pp}, {c}, {v} : tensor<{n}xi64>"
    ));
    let po = t.ptr1d("%old", n, "i64");
    t.raw(&format!("store {po}, {old}"));
    let init: Vec<i64> = (0..n as usize).map(|i| spread(i, 7)).collect();
    // A third equal, a third differing only in the high word, a third only in the low.
    let cmp: Vec<i64> = (0..n as usize)
        .map(|i| match i % 3 {
            0 => init[i],
            1 => init[i] ^ (1 << 40),
            _ => init[i] ^ 1,
        })
        .collect();
    let val: Vec<i64> = (0..n as usize).map(|i| spread(i + 500, 3)).collect();
    let want: Vec<i64> = (0..n as usize)
        .map(|i| if i % 3 == 0 { val[i] } else { init[i] })
        .collect();
    let args = [
        i64s(&init),
        i64s(&cmp),
        i64s(&val),
        i64s(&vec![0; n as usize]),
    ];
    run_both_opts(&t.finish(), [1, 1, 1], 4, &args, true, |e, out| {
        assert_eq!(as_i64(&out[0]), want, "{e}");
        assert_eq!(as_i64(&out[3]), init, "{e} old");
    });
}

const SCALAR_ADD: &str =
    "tt.func @add64(%p: ptr<i64> {arg=0}, %old: ptr<i64> {arg=1}, %v: i64 {arg=2}) {
  %0 = atomic_rmw {op=add, sem=acq_rel, scope=gpu} %p, %v : i64
  store %old, %0
  return
}";

fn flatten<'a>(body: &'a [Stmt], out: &mut Vec<&'a Stmt>) {
    for s in body {
        out.push(s);
        match s {
            Stmt::If {
                then_body,
                else_body,
                ..
            } => {
                flatten(then_body, out);
                flatten(else_body, out);
            }
            Stmt::For { body, .. } | Stmt::Loop { body } => flatten(body, out),
            _ => {}
        }
    }
}

#[test]
fn msl_emulation_takes_a_lock_with_the_critical_section_inside_the_acquire_branch() {
    let f = parse(SCALAR_ADD);
    let k = tm_simt::lower(&f, &Target::apple(), 2).expect("lowers");
    // The lock words are the launcher's buffer, bound after the two arguments.
    assert_eq!(k.abi.buffers.len(), 2);
    assert_eq!(k.abi.scratch.len(), 1);
    let locks = &k.abi.scratch[0];
    assert_eq!(
        (locks.kind, locks.binding, locks.bytes),
        (ScratchKind::Locks, 3, 16384)
    );
    assert_eq!(k.buffers.len(), 3);
    let mut all = Vec::new();
    flatten(&k.body, &mut all);
    let spin = all
        .iter()
        .find_map(|s| match s {
            Stmt::Loop { body } => Some(body),
            _ => None,
        })
        .expect("a spin loop");
    // loop { seen = cas(lock, 0, 1); got = seen == 0; if got { ... break } } and nothing
    // after the branch: a critical section after the loop would never run on SIMT hardware.
    assert!(matches!(
        spin.first(),
        Some(Stmt::AtomicCas {
            space: Space::Device,
            array: 2,
            ..
        })
    ));
    let Some(Stmt::If {
        then_body,
        else_body,
        ..
    }) = spin.last()
    else {
        panic!("the spin loop ends in the acquire branch: {spin:?}")
    };
    assert!(else_body.is_empty());
    assert!(matches!(
        then_body.first(),
        Some(Stmt::Fence {
            scope: FenceScope::Device,
            divergent: true
        })
    ));
    let n = then_body.len();
    assert!(matches!(then_body[n - 1], Stmt::Break));
    assert!(
        matches!(
            then_body[n - 2],
            Stmt::AtomicRmw {
                op: tm_tile::AtomicOp::Xchg,
                space: Space::Device,
                array: 2,
                ..
            }
        ),
        "the release is the last thing before leaving"
    );
    assert!(matches!(
        then_body[n - 3],
        Stmt::Fence {
            divergent: true,
            ..
        }
    ));
    let words = then_body
        .iter()
        .filter(|s| {
            matches!(
                s,
                Stmt::AtomicRmw {
                    space: Space::DeviceWords,
                    array: 0,
                    ..
                }
            )
        })
        .count();
    assert_eq!(words, 4, "two word reads and two word writes");

    let msl = tm_printers::print_msl(&k).expect("prints");
    for want in [
        "device uint *b2 [[buffer(3)]], // tm_locks",
        "(device atomic_uint *)((device uint *)b0 + ",
        "metal::atomic_compare_exchange_weak_explicit((device atomic_uint *)&b2[",
        "thread_scope_device);",
        "#error \"this kernel emulates 64-bit atomics with locks",
    ] {
        assert!(msl.contains(want), "{want}\n{msl}");
    }
    assert!(!msl.contains("atomic_long"), "{msl}");
}

#[test]
fn wgsl_uses_native_i64_atomics_that_naga_validates() {
    use naga::valid::{Capabilities, ValidationFlags, Validator};
    let cas = "tt.func @cas64(%p: ptr<u64> {arg=0}, %c: u64 {arg=1}, %v: u64 {arg=2}) {
  %0 = atomic_cas {sem=acq_rel, scope=gpu} %p, %c, %v : u64
  store %p, %0
  return
}";
    for (src, call) in [
        (SCALAR_ADD, "atomicAdd(&b0["),
        (cas, "atomicCompareExchangeWeak(&b0["),
    ] {
        let k = tm_simt::lower(&parse(src), &Target::lavapipe(), 2).expect("lowers");
        assert!(
            k.abi.scratch.is_empty(),
            "no locks where atomics are native"
        );
        let wgsl = tm_printers::print_wgsl(&k).expect("prints");
        assert!(wgsl.contains(call), "{wgsl}");
        assert!(wgsl.contains("array<atomic<"), "{wgsl}");
        let module = naga::front::wgsl::parse_str(&wgsl).unwrap_or_else(|e| panic!("{e}\n{wgsl}"));
        let caps = Capabilities::SHADER_INT64
            | Capabilities::SHADER_INT64_ATOMIC_ALL_OPS
            | Capabilities::SUBGROUP
            | Capabilities::SHADER_FLOAT16;
        Validator::new(ValidationFlags::all(), caps)
            .validate(&module)
            .unwrap_or_else(|e| panic!("{}\n{wgsl}", e.emit_to_string(&wgsl)));
    }
}

#[test]
fn wgsl_without_the_feature_refuses_naming_it() {
    let e = tm_simt::lower(&parse(SCALAR_ADD), &Target::wgsl_generic(32), 2)
        .unwrap_err()
        .to_string();
    assert!(e.contains("SHADER_INT64_ATOMIC_ALL_OPS"), "{e}");
}

#[test]
fn the_lock_buffer_counts_against_the_buffer_limit() {
    let three = Target {
        max_buffers: 3,
        ..Target::apple()
    };
    let e = tm_simt::lower(&parse(SCALAR_ADD), &three, 2)
        .unwrap_err()
        .to_string();
    assert!(e.contains("lock"), "{e}");
    let four = Target {
        max_buffers: 4,
        ..Target::apple()
    };
    assert!(tm_simt::lower(&parse(SCALAR_ADD), &four, 2).is_ok());
    // Atomics on several buffers share the one table.
    let two = "tt.func @two(%p: ptr<i64> {arg=0}, %q: ptr<u64> {arg=1}, %v: i64 {arg=2}) {
  %0 = atomic_rmw {op=add, sem=relaxed, scope=gpu} %p, %v : i64
  %1 = cast %v : u64
  %2 = atomic_rmw {op=max, sem=relaxed, scope=gpu} %q, %1 : u64
  return
}";
    let k = tm_simt::lower(&parse(two), &four, 2).expect("lowers");
    assert_eq!(k.abi.scratch.len(), 1);
    assert_eq!(k.buffers.len(), 3);
}

/// Runs clang's preprocessor on a printed kernel (without its library include) as Metal's
/// compiler at `version` would: whether it passes, and its messages.
fn preprocess_msl(msl: &str, version: u32) -> (bool, String) {
    use std::io::Write;
    let body = msl.replace("#include <metal_stdlib>", "");
    let mut child = std::process::Command::new("clang-19")
        .args(["-E", "-x", "c++", "-o", "/dev/null", "-"])
        .arg(format!("-D__METAL_VERSION__={version}"))
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("clang-19 is installed in this workplace");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(body.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn metal_before_3_2_stops_at_a_clear_error_instead_of_running_unordered() {
    let k = tm_simt::lower(&parse(SCALAR_ADD), &Target::apple(), 2).expect("lowers");
    let msl = tm_printers::print_msl(&k).expect("prints");
    let (ok, err) = preprocess_msl(&msl, 310);
    assert!(
        !ok && err.contains("need the device memory fence of Metal 3.2"),
        "{err}"
    );
    let (ok, err) = preprocess_msl(&msl, 320);
    assert!(ok, "{err}");
    // 32-bit atomics need no lock: their fences fall back to barriers before 3.2.
    let k32 = SCALAR_ADD.replace("i64", "i32");
    let k = tm_simt::lower(&parse(&k32), &Target::apple(), 2).expect("lowers");
    assert!(k.abi.scratch.is_empty());
    let msl = tm_printers::print_msl(&k).expect("prints");
    let (ok, err) = preprocess_msl(&msl, 310);
    assert!(ok, "{err}");
}
