//! A spin lock as in Triton's tutorial 05 (layer-norm backward): programs take a lock with
//! `atomic_cas`, read a counter another program (or a thread of their own program) may
//! just have written, branch on it, and release the lock with `atomic_xchg`. Every thread
//! of a program must take the same path, or the barriers that publish scalar atomics'
//! old values are reached by some threads only.

use crate::harness::{as_f32, f32s, i32s, run_both_opts};

const N: u32 = 64;

/// `out = x` for the first program through the lock, `out += x` for the others.
fn lock_kernel() -> String {
    format!(
        "tt.func @lock_accumulate(%lock: ptr<i32> {{arg=0}}, %x: ptr<f32> {{arg=1, div16}}, %out: ptr<f32> {{arg=2, div16}}) {{
  %c0 = constant {{value=0}} : i32
  %c1 = constant {{value=1}} : i32
  %count = addptr %lock, %c1 : ptr<i32>
  %r = make_range {{start=0, end={N}}} : tensor<{N}xi32>
  %px0 = splat %x : tensor<{N}xptr<f32>>
  %px = addptr %px0, %r : tensor<{N}xptr<f32>>
  %xv = load %px : tensor<{N}xf32>
  %po0 = splat %out : tensor<{N}xptr<f32>>
  %po = addptr %po0, %r : tensor<{N}xptr<f32>>
  while {{
    %old = atomic_cas {{sem=acquire, scope=gpu}} %lock, %c0, %c1 : i32
    %spin = cmp {{pred=eq}} %old, %c1 : i1
    condition %spin
  }} {{
    yield
  }}
  %n = load %count : i32
  %first = cmp {{pred=eq}} %n, %c0 : i1
  if %first {{
    %o = atomic_rmw {{op=xchg, sem=acq_rel, scope=gpu}} %count, %c1 : i32
    store %po, %xv
    yield
  }} {{
    %prev = load %po : tensor<{N}xf32>
    %s = add %prev, %xv : tensor<{N}xf32>
    store %po, %s
    yield
  }}
  %o2 = atomic_rmw {{op=xchg, sem=release, scope=gpu}} %lock, %c0 : i32
  return
}}
"
    )
}

#[test]
fn spin_lock_with_counter_reaches_every_barrier_uniformly() {
    let programs = 6u32;
    let x: Vec<f32> = (0..N).map(|i| i as f32 * 0.5 - 3.0).collect();
    let tile = lock_kernel();
    for warps in [1, 4] {
        let args = [i32s(&[0, 0]), f32s(&x), f32s(&vec![-7.0; N as usize])];
        run_both_opts(
            &tile,
            [programs, 1, 1],
            warps,
            &args,
            false,
            |engine, out| {
                let got = as_f32(&out[2]);
                let want: Vec<f32> = x.iter().map(|v| v * programs as f32).collect();
                assert_eq!(got, want, "{engine}, {warps} warps");
                let lock = crate::harness::as_i32(&out[0]);
                assert_eq!(lock, vec![0, 1], "{engine}: lock released, counter set");
            },
        );
    }
}

/// The statements of `body` and of every nested body, in order.
fn flatten(body: &[tm_simt::Stmt], out: &mut Vec<tm_simt::Stmt>) {
    use tm_simt::Stmt;
    for s in body {
        out.push(s.clone());
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

fn atomic_kernel(sem: &str, scope: &str) -> String {
    format!(
        "tt.func @one(%c: ptr<i32> {{arg=0}}) {{
  %one = constant {{value=1}} : i32
  %o = atomic_rmw {{op=add, sem={sem}, scope={scope}}} %c, %one : i32
  return
}}
"
    )
}

#[test]
fn atomics_get_fences_for_their_sem_and_scope() {
    use tm_simt::ir::FenceScope;
    use tm_simt::Stmt;
    let target = tm_core::Target::msl_emulator();
    for (sem, before, after) in [
        ("relaxed", false, false),
        ("acquire", false, true),
        ("release", true, false),
        ("acq_rel", true, true),
    ] {
        for (scope, want) in [
            ("gpu", FenceScope::Device),
            ("cta", FenceScope::Threadgroup),
        ] {
            let f = crate::harness::parse(&atomic_kernel(sem, scope));
            let k = tm_simt::lower(&f, &target, 2).expect("lowers");
            let mut all = Vec::new();
            flatten(&k.body, &mut all);
            let at = all
                .iter()
                .position(|s| matches!(s, Stmt::AtomicRmw { .. }))
                .expect("an atomic");
            let fence = |s: &Stmt| matches!(s, Stmt::Fence { scope, .. } if *scope == want);
            assert_eq!(all[..at].iter().any(fence), before, "{sem} {scope}: before");
            assert_eq!(all[at..].iter().any(fence), after, "{sem} {scope}: after");
            let any = all.iter().any(|s| matches!(s, Stmt::Fence { .. }));
            assert_eq!(any, before || after, "{sem} {scope}");
            let msl = tm_printers::print_msl(&k).expect("prints");
            let scope_name = match want {
                FenceScope::Device => "thread_scope_device",
                FenceScope::Threadgroup => "thread_scope_threadgroup",
            };
            let printed = format!(
                "metal::atomic_thread_fence(mem_flags::mem_device | mem_flags::mem_threadgroup, memory_order_seq_cst, {scope_name});"
            );
            assert_eq!(
                msl.contains(&printed),
                before || after,
                "{sem} {scope}\n{msl}"
            );
        }
    }
}

#[test]
fn a_fence_prints_as_a_storage_barrier_in_wgsl() {
    let f = crate::harness::parse(&atomic_kernel("acq_rel", "gpu"));
    let k = tm_simt::lower(&f, &tm_core::Target::lavapipe(), 2).expect("lowers");
    let fences = {
        let mut all = Vec::new();
        flatten(&k.body, &mut all);
        all.iter()
            .filter(|s| matches!(s, tm_simt::Stmt::Fence { .. }))
            .count()
    };
    let barriers = {
        let mut all = Vec::new();
        flatten(&k.body, &mut all);
        all.iter()
            .filter(|s| matches!(s, tm_simt::Stmt::Barrier))
            .count()
    };
    let wgsl = tm_printers::print_wgsl(&k).expect("prints");
    // Barrier: workgroupBarrier + storageBarrier; Fence: storageBarrier alone.
    assert_eq!(fences, 2);
    assert_eq!(wgsl.matches("storageBarrier();").count(), fences + barriers);
    assert_eq!(wgsl.matches("workgroupBarrier();").count(), barriers);
}
