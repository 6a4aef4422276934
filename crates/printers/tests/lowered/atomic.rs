//! atomic_rmw and atomic_cas: tensor and scalar forms, masks, old values, replicated
//! layouts (each element updated once), float add/max/min (native or CAS loops).

use crate::build::Tile;
use crate::harness::{as_f32, as_i32, f32s, i32s, parse, run_both, run_both_opts, Arg};

/// `out[idx % bins] op= value` over `n` elements; old values stored to `%old`.
fn rmw_kernel(op: &str, ty: &str, n: u32, bins: u32, masked: bool) -> String {
    let params = format!(
        "%x: ptr<{ty}> {{arg=0, div16}}, %out: ptr<{ty}> {{arg=1, div16}}, \
         %old: ptr<{ty}> {{arg=2, div16}}"
    );
    let mut t = Tile::new("rmw", &params);
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
            "atomic_rmw {{op={op}, sem=acq_rel, scope=gpu}} {po}, {x} : tensor<{n}x{ty}>"
        ))
    };
    let pold = t.ptr1d("%old", n, ty);
    t.raw(&format!("store {pold}, {old}"));
    t.finish()
}

fn apply_i32(op: &str, a: i32, b: i32) -> i32 {
    match op {
        "add" => a.wrapping_add(b),
        "max" => a.max(b),
        "min" => a.min(b),
        "and" => a & b,
        "or" => a | b,
        "xor" => a ^ b,
        "xchg" => b,
        _ => unreachable!(),
    }
}

#[test]
fn integer_rmw_ops_update_each_element_once() {
    // 64 elements into 64 bins (no contention) with 4 warps of 32: copies on Apple (128
    // threads, 64 elements) must not apply the update twice.
    for op in ["add", "max", "min", "and", "or", "xor", "xchg"] {
        for masked in [false, true] {
            let n = 64u32;
            let x: Vec<i32> = (0..n as i32).map(|i| (i * 37 % 23) - 11).collect();
            let init: Vec<i32> = (0..n as i32).map(|i| (i * 13 % 17) - 8).collect();
            let mut want = init.clone();
            let mut want_old = vec![0i32; n as usize];
            for i in 0..n as usize {
                if !masked || i % 2 == 0 {
                    want_old[i] = init[i];
                    want[i] = apply_i32(op, init[i], x[i]);
                }
            }
            let args = [i32s(&x), i32s(&init), i32s(&vec![0; n as usize])];
            run_both(
                &rmw_kernel(op, "i32", n, n, masked),
                [1, 1, 1],
                4,
                &args,
                |e, out| {
                    assert_eq!(as_i32(&out[1]), want, "{e} {op} masked={masked}");
                    let old = as_i32(&out[2]);
                    for i in 0..n as usize {
                        if !masked || i % 2 == 0 {
                            assert_eq!(old[i], want_old[i], "{e} {op} old[{i}]");
                        }
                    }
                },
            );
        }
    }
}

#[test]
fn contended_integer_add_returns_distinct_old_values() {
    // 256 elements into 8 bins: every bin gets 32 increments; the old values a bin hands
    // out are exactly 0..32 in some order.
    let (n, bins) = (256u32, 8u32);
    let args = [
        i32s(&vec![1; n as usize]),
        i32s(&vec![0; bins as usize]),
        i32s(&vec![0; n as usize]),
    ];
    // Old values depend on the order of threads: no race check.
    run_both_opts(
        &rmw_kernel("add", "i32", n, bins, false),
        [1, 1, 1],
        4,
        &args,
        false,
        |e, out| {
            assert_eq!(as_i32(&out[1]), vec![32; bins as usize], "{e}");
            let old = as_i32(&out[2]);
            for b in 0..bins as usize {
                let mut seen: Vec<i32> = (0..n as usize)
                    .filter(|i| i % bins as usize == b)
                    .map(|i| old[i])
                    .collect();
                seen.sort();
                assert_eq!(seen, (0..32).collect::<Vec<_>>(), "{e} bin {b}");
            }
        },
    );
}

#[test]
fn float_add_max_min() {
    for op in ["add", "max", "min", "xchg"] {
        let n = 128u32;
        let bins = if op == "xchg" { n } else { 4 };
        let x: Vec<f32> = (0..n)
            .map(|i| ((i * 29 % 31) as f32 - 15.0) * 0.5)
            .collect();
        let init = vec![0.25f32, -3.0, 100.0, -100.0];
        let init: Vec<f32> = (0..bins as usize).map(|i| init[i % 4]).collect();
        let mut want = init.clone();
        for i in 0..n as usize {
            let b = i % bins as usize;
            want[b] = match op {
                "add" => want[b] + x[i],
                "max" => want[b].max(x[i]),
                "min" => want[b].min(x[i]),
                _ => x[i],
            };
        }
        let args = [f32s(&x), f32s(&init), f32s(&vec![0.0; n as usize])];
        let k = rmw_kernel(op, "f32", n, bins, false);
        run_both_opts(&k, [1, 1, 1], 4, &args, op == "xchg", |e, out| {
            // Halves of small integers: sums are exact in any order.
            assert_eq!(as_f32(&out[1]), want, "{e} {op}");
            if op == "xchg" {
                assert_eq!(as_f32(&out[2]), init, "{e} old");
            }
        });
    }
}

#[test]
fn scalar_atomic_is_done_once_per_program_and_broadcast() {
    // Every program adds pid+1 to one counter; the old value it got is stored by every
    // thread of the program to old[pid] (equal values), and compared with the others.
    let params = "%c: ptr<i32> {arg=0}, %old: ptr<i32> {arg=1}, %fc: ptr<f32> {arg=2}";
    let mut t = Tile::new("scalar_atomic", params);
    let pid = t.v("program_id {axis=0} : i32");
    let one = t.v("constant {value=1} : i32");
    let v = t.v(&format!("add {pid}, {one} : i32"));
    let old = t.v(&format!(
        "atomic_rmw {{op=add, sem=acq_rel, scope=gpu}} %c, {v} : i32"
    ));
    let po = t.v(&format!("addptr %old, {pid} : ptr<i32>"));
    t.raw(&format!("store {po}, {old}"));
    let fv = t.v(&format!("cast {v} : f32"));
    t.v(&format!(
        "atomic_rmw {{op=add, sem=acq_rel, scope=gpu}} %fc, {fv} : f32"
    ));
    let programs = 12u32;
    let args = [i32s(&[0]), i32s(&vec![-1; programs as usize]), f32s(&[0.0])];
    run_both(&t.finish(), [programs, 1, 1], 4, &args, |e, out| {
        let total: i32 = (1..=programs as i32).sum();
        assert_eq!(as_i32(&out[0]), vec![total], "{e}");
        assert_eq!(as_f32(&out[2]), vec![total as f32], "{e}");
        let mut olds = as_i32(&out[1]);
        // Each old value plus that program's increment is another's old value or the total.
        let mut ends: Vec<i32> = olds
            .iter()
            .enumerate()
            .map(|(p, &o)| o + p as i32 + 1)
            .collect();
        olds.sort();
        ends.sort();
        assert_eq!(olds[0], 0, "{e}");
        assert_eq!(&olds[1..], &ends[..ends.len() - 1], "{e}");
        assert_eq!(*ends.last().unwrap(), total, "{e}");
    });
}

#[test]
fn compare_and_swap_tensor_and_float() {
    let n = 64u32;
    let params = "%p: ptr<i32> {arg=0, div16}, %old: ptr<i32> {arg=1, div16}, \
                  %f: ptr<f32> {arg=2, div16}, %fold: ptr<f32> {arg=3, div16}";
    let mut t = Tile::new("cas", params);
    let r = t.v(&format!(
        "make_range {{start=0, end={n}}} : tensor<{n}xi32>"
    ));
    let pp = t.ptr1d("%p", n, "i32");
    let z = t.v(&format!("constant {{value=0}} : tensor<{n}xi32>"));
    let h = t.v(&format!("constant {{value=100}} : tensor<{n}xi32>"));
    let val = t.v(&format!("add {r}, {h} : tensor<{n}xi32>"));
    let old = t.v(&format!(
        "atomic_cas {{sem=acq_rel, scope=gpu}} {pp}, {z}, {val} : tensor<{n}xi32>"
    ));
    let po = t.ptr1d("%old", n, "i32");
    t.raw(&format!("store {po}, {old}"));
    let pf = t.ptr1d("%f", n, "f32");
    let fz = t.v(&format!("constant {{value=1.5}} : tensor<{n}xf32>"));
    let fv = t.v(&format!("cast {val} : tensor<{n}xf32>"));
    let fold = t.v(&format!(
        "atomic_cas {{sem=acq_rel, scope=gpu}} {pf}, {fz}, {fv} : tensor<{n}xf32>"
    ));
    let pfo = t.ptr1d("%fold", n, "f32");
    t.raw(&format!("store {pfo}, {fold}"));
    let init: Vec<i32> = (0..n as i32).map(|i| i % 3).collect();
    let finit: Vec<f32> = (0..n)
        .map(|i| if i % 4 == 0 { 1.5 } else { -2.0 })
        .collect();
    let args = [
        i32s(&init),
        i32s(&vec![0; n as usize]),
        f32s(&finit),
        f32s(&vec![0.0; n as usize]),
    ];
    run_both(&t.finish(), [1, 1, 1], 4, &args, |e, out| {
        let want: Vec<i32> = (0..n as i32)
            .map(|i| if i % 3 == 0 { 100 + i } else { i % 3 })
            .collect();
        assert_eq!(as_i32(&out[0]), want, "{e}");
        assert_eq!(as_i32(&out[1]), init, "{e} old");
        let fwant: Vec<f32> = (0..n)
            .map(|i| if i % 4 == 0 { 100.0 + i as f32 } else { -2.0 })
            .collect();
        assert_eq!(as_f32(&out[2]), fwant, "{e} float");
        assert_eq!(as_f32(&out[3]), finit, "{e} float old");
    });
}

#[test]
fn narrow_atomics_are_refused_by_name() {
    // 64-bit ones are lowered (or refused on WGSL without the feature): see atomic64.rs.
    for ty in ["i16", "f16"] {
        let text = format!(
            "tt.func @a(%p: ptr<{ty}> {{arg=0}}, %v: {ty} {{arg=1}}) {{
  %0 = atomic_rmw {{op=add, sem=acq_rel, scope=gpu}} %p, %v : {ty}
  return
}}"
        );
        let f = parse(&text);
        for target in [tm_core::Target::apple(), tm_core::Target::lavapipe()] {
            let e = tm_simt::lower(&f, &target, 4).unwrap_err().to_string();
            assert!(e.contains("atomics") && e.contains(ty), "{ty}: {e}");
        }
    }
    let _ = Arg::I32(0);
}
