//! Lowering of Tile IR kernels (tests/kernels/*.tile) to SIMT IR for the Apple (SIMD 32)
//! and lavapipe (SIMD 8, not byte addressable) targets: snapshots of the layout assignment
//! and the SIMT text, plus checks of the facts the snapshots would hide.

use tm_core::{ScalarType, Target};
use tm_simt::{assign_for, lower, print, print_assignment, Expr, Kernel, SimdOp, Stmt};

fn load(name: &str) -> tm_tile::Function {
    let path = format!("{}/tests/kernels/{name}.tile", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).expect("kernel file");
    tm_tile::parse(&text).unwrap_or_else(|e| panic!("{name}: {e:?}"))
}

fn lower_ok(name: &str, target: &Target) -> Kernel {
    let f = load(name);
    lower(&f, target, 4).unwrap_or_else(|e| panic!("{name} on {}: {e}", target.name))
}

fn walk<'a>(body: &'a [Stmt], out: &mut Vec<&'a Stmt>) {
    for s in body {
        out.push(s);
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

fn stmts(k: &Kernel) -> Vec<&Stmt> {
    let mut v = Vec::new();
    walk(&k.body, &mut v);
    v
}

fn exprs(k: &Kernel) -> Vec<&Expr> {
    stmts(k)
        .into_iter()
        .filter_map(|s| match s {
            Stmt::Assign { expr, .. } => Some(expr),
            _ => None,
        })
        .collect()
}

const KERNELS: &[&str] = &[
    "vector_add",
    "vector_add_aligned",
    "copy2d",
    "for_carried",
    "if_else",
    "while",
    "argmax",
    "sum2d",
    "bytes",
    "grid3d",
    "shapes",
    "atomics",
    "dot",
    "dot_loop",
    "scan",
];

#[test]
fn snapshots() {
    for name in KERNELS {
        let f = load(name);
        for target in [Target::apple(), Target::lavapipe()] {
            let a = assign_for(&f, &target, 4).unwrap();
            let k = lower(&f, &target, 4).unwrap_or_else(|e| panic!("{name}: {e}"));
            let text = format!("{}\n{}", print_assignment(&f, &a), print(&k));
            let short = if target.simd_width == 8 {
                "lavapipe"
            } else {
                "apple"
            };
            insta::assert_snapshot!(format!("{name}_{short}"), text);
        }
    }
}

#[test]
fn aligned_masked_loads_are_vectorized() {
    let k = lower_ok("vector_add_aligned", &Target::apple());
    let vec_loads = exprs(&k)
        .iter()
        .filter(|e| matches!(e, Expr::Load { lanes: 4, .. }))
        .count();
    // 1024 f32 over 128 threads: 8 registers each, two float4 loads per input.
    assert_eq!(vec_loads, 4);
    let vec_stores = stmts(&k)
        .iter()
        .filter(|s| matches!(s, Stmt::Store { .. }))
        .count();
    assert_eq!(vec_stores, 2);
}

#[test]
fn unaligned_masks_keep_scalar_accesses_under_ifs() {
    let k = lower_ok("vector_add", &Target::apple());
    assert!(exprs(&k)
        .iter()
        .all(|e| !matches!(e, Expr::Load { lanes, .. } if *lanes > 1)));
    // Every load and store sits inside an `if` on its mask.
    for s in &k.body {
        assert!(!matches!(s, Stmt::Store { .. }));
        if let Stmt::Assign { expr, .. } = s {
            assert!(!matches!(expr, Expr::Load { .. }));
        }
    }
    let guarded_loads = stmts(&k)
        .iter()
        .filter(|s| matches!(s, Stmt::If { then_body, .. } if then_body.iter().any(|t| matches!(t, Stmt::Assign { expr: Expr::Load { .. }, .. }))))
        .count();
    assert_eq!(guarded_loads, 16);
}

#[test]
fn prologue_unfolds_the_grid() {
    let k = lower_ok("grid3d", &Target::lavapipe());
    let headers: Vec<u8> = exprs(&k)
        .iter()
        .filter_map(|e| match e {
            Expr::GridHeader(i) => Some(*i),
            _ => None,
        })
        .collect();
    assert!(headers.contains(&3), "dispatch width read from the header");
    assert!(
        matches!(&k.body.iter().find(|s| matches!(s, Stmt::If { .. })),
        Some(Stmt::If { then_body, .. }) if then_body == &vec![Stmt::Return])
    );
    let text = print(&k);
    assert!(text.contains("mul 65535:u32"), "{text}");
    assert!(text.contains("%pid1") && text.contains("%pid2"));
}

#[test]
fn reductions_use_only_distinct_lanes_and_threadgroup_memory_across_warps() {
    for (target, masks) in [
        (Target::apple(), vec![1, 2, 4, 8, 16]),
        (Target::lavapipe(), vec![1, 2, 4]),
    ] {
        let k = lower_ok("argmax", &target);
        let mut seen: Vec<i64> = exprs(&k)
            .iter()
            .filter_map(|e| match e {
                Expr::Simd(
                    SimdOp::ShuffleXor,
                    _,
                    Some(tm_simt::Operand::Const(tm_simt::Literal::Int(m), _)),
                ) => Some(*m),
                _ => None,
            })
            .collect();
        seen.dedup();
        assert_eq!(seen, masks, "{}", target.name);
        // argmax reduces two values (f32 and i32): one threadgroup array each.
        assert_eq!(k.shared.len(), 2);
        // A top-level reduction exchanges through threadgroup memory alone, and its arrays
        // are its own: one threadgroup-only barrier, none after the reads.
        let barriers: Vec<_> = stmts(&k)
            .into_iter()
            .filter(|s| matches!(s, Stmt::Barrier | Stmt::SharedBarrier))
            .collect();
        assert!(
            matches!(barriers[..], [Stmt::SharedBarrier]),
            "{}: {barriers:?}",
            target.name
        );
    }
}

#[test]
fn small_tensors_do_not_shuffle_over_copies() {
    // A 16-wide tensor on 32-lane simdgroups is held twice per simdgroup: lane bit 4 only
    // reaches copies and must not be combined.
    let text = "tt.func @s(%x: ptr<f32> {arg=0}, %o: ptr<f32> {arg=1}) {
  %0 = make_range {start=0, end=16} : tensor<16xi32>
  %1 = splat %x : tensor<16xptr<f32>>
  %2 = addptr %1, %0 : tensor<16xptr<f32>>
  %3 = load %2 : tensor<16xf32>
  %4 = reduce {axis=0} %3 : f32 {
    ^bb(%5: f32, %6: f32):
    %7 = add %5, %6 : f32
    yield %7
  }
  store %o, %4
  return
}";
    let f = tm_tile::parse(text).unwrap();
    let k = lower(&f, &Target::apple(), 4).unwrap();
    let masks: Vec<i64> = exprs(&k)
        .iter()
        .filter_map(|e| match e {
            Expr::Simd(
                SimdOp::ShuffleXor,
                _,
                Some(tm_simt::Operand::Const(tm_simt::Literal::Int(m), _)),
            ) => Some(*m),
            _ => None,
        })
        .collect();
    assert_eq!(masks, vec![1, 2, 4, 8]);
    assert!(
        k.shared.is_empty(),
        "all simdgroups hold the same 16 elements"
    );
}

#[test]
fn sub_word_data_goes_through_words_on_wgsl() {
    let k = lower_ok("bytes", &Target::lavapipe());
    assert_eq!(k.buffers[0].elem, ScalarType::U32);
    assert!(!k.buffers[0].atomic, "only read");
    assert!(k.buffers[1].atomic && k.buffers[1].writes);
    assert!(k.buffers[2].atomic, "i1 stored as bytes in words");
    let ops: Vec<tm_tile::AtomicOp> = stmts(&k)
        .iter()
        .filter_map(|s| match s {
            Stmt::AtomicRmw { op, .. } => Some(*op),
            _ => None,
        })
        .collect();
    // Two buffers × 8 registers × (and, or).
    assert_eq!(ops.len(), 32);
    assert!(ops
        .iter()
        .all(|o| matches!(o, tm_tile::AtomicOp::And | tm_tile::AtomicOp::Or)));
    // The f16 scalar is read as its slot's word.
    assert_eq!(k.scalars[1].ty, ScalarType::U32);

    let k = lower_ok("bytes", &Target::apple());
    assert_eq!(k.buffers[0].elem, ScalarType::I8);
    assert_eq!(k.buffers[2].elem, ScalarType::U8);
    assert!(k.buffers.iter().all(|b| !b.atomic));
    assert!(!stmts(&k)
        .iter()
        .any(|s| matches!(s, Stmt::AtomicRmw { .. })));
    assert_eq!(k.scalars[1].ty, ScalarType::F16);
}

#[test]
fn abi_lists_buffers_and_packs_scalars() {
    let k = lower_ok("bytes", &Target::apple());
    let abi = &k.abi;
    assert_eq!(abi.threads_per_group, 128);
    let b: Vec<(usize, u32, bool, bool)> = abi
        .buffers
        .iter()
        .map(|b| (b.arg_index, b.binding, b.reads, b.writes))
        .collect();
    assert_eq!(
        b,
        vec![
            (0, 1, true, false),
            (1, 2, false, true),
            (2, 3, false, true)
        ]
    );
    let s: Vec<(usize, u32, ScalarType)> = abi
        .scalars
        .iter()
        .map(|s| (s.arg_index, s.offset, s.ty))
        .collect();
    assert_eq!(s, vec![(3, 16, ScalarType::I32), (4, 20, ScalarType::F16)]);
    assert_eq!(abi.scalar_bytes, 32);
    assert_eq!(k.scalars[1].offset, 20);
    let k = lower_ok("argmax", &Target::apple());
    assert_eq!(k.abi.shared_bytes, 2 * 4 * 4);
}

#[test]
fn num_warps_and_simd_width_shape_the_group() {
    let f = load("vector_add");
    let k = lower(&f, &Target::lavapipe(), 8).unwrap();
    assert_eq!(k.threads_per_group, 64);
    assert_eq!(k.simd_width, 8);
    let k = lower(&f, &Target::apple(), 1).unwrap();
    assert_eq!(k.threads_per_group, 32);
    let err = lower(&f, &Target::apple(), 64).unwrap_err();
    assert!(err.message.contains("threads per group"), "{err}");
    assert!(lower(&f, &Target::apple(), 3).is_err());
}

#[test]
fn pointers_into_two_buffers_are_refused_with_a_location() {
    let f = load("bad_select");
    let err = lower(&f, &Target::apple(), 4).unwrap_err();
    assert!(err.message.contains("two different buffers"), "{err}");
    assert_eq!((err.loc.line, err.loc.col), (3, 8));
}

#[test]
fn unsupported_ops_and_types_are_errors() {
    let dot = "tt.func @d(%o: ptr<f32> {arg=0}) {
  %0 = constant {value=1} : tensor<16x16xi64>
  %1 = dot {precision=ieee, max_num_imprecise_acc=0} %0, %0, %0 : tensor<16x16xi64> loc(0:4:9)
  return
}";
    let err = lower(&tm_tile::parse(dot).unwrap(), &Target::apple(), 4).unwrap_err();
    assert!(err.message.contains("dot"), "{err}");
    assert_eq!(err.loc.line, 4);

    let i64k = "tt.func @w(%o: ptr<i64> {arg=0}, %v: i64 {arg=1}) {
  store %o, %v
  return
}";
    let f = tm_tile::parse(i64k).unwrap();
    assert!(lower(&f, &Target::apple(), 4).is_ok());
    let no_i64 = Target {
        has_i64: false,
        ..Target::lavapipe()
    };
    let err = lower(&f, &no_i64, 4).unwrap_err();
    assert!(err.message.contains("64-bit"), "{err}");
}

#[test]
fn device_print_and_assert_write_debug_records() {
    use tm_core::debug::{DebugSiteKind, DEBUG_BUFFER_BYTES};
    use tm_core::{ScratchBinding, ScratchKind};
    let k = "tt.func @p(%o: ptr<f32> {arg=0}, %v: f32 {arg=1}) {
  %0 = cmp {pred=gt} %v, %v : i1
  assert {message=\"never\"} %0 loc(0:3:5)
  print {prefix=\"v\"} %v loc(0:4:5)
  store %o, %v
  return
}";
    let f = tm_tile::parse(k).unwrap();
    for target in [Target::apple(), Target::lavapipe()] {
        let kernel = lower(&f, &target, 4).unwrap();
        // The records go to a launcher-supplied buffer after the argument buffer.
        assert_eq!(
            kernel.abi.scratch,
            [ScratchBinding {
                kind: ScratchKind::Debug,
                binding: 2,
                bytes: DEBUG_BUFFER_BYTES,
            }]
        );
        assert_eq!(kernel.buffers.len(), 2);
        assert!(kernel.buffers[1].atomic && kernel.buffers[1].writes);
        let info = kernel.abi.debug.as_ref().expect("two debug sites");
        assert_eq!(info.kernel, "p");
        assert_eq!(info.sites.len(), 2);
        match &info.sites[0].kind {
            DebugSiteKind::Assert { message, .. } => assert_eq!(message, "never"),
            other => panic!("site 0 is {other:?}"),
        }
        assert_eq!(info.sites[0].operands[0].elem, ScalarType::I1);
        match &info.sites[1].kind {
            DebugSiteKind::Print { prefix, hex } => {
                assert_eq!((prefix.as_str(), *hex), ("v", false))
            }
            other => panic!("site 1 is {other:?}"),
        }
        assert_eq!(info.sites[1].operands[0].elem, ScalarType::F32);
        assert!(info.sites[1].operands[0].shape.is_empty());
        // One reservation per site and thread, on the counter word.
        let text = tm_simt::print(&kernel);
        assert_eq!(text.matches("atomic_add").count(), 2, "{text}");
    }
}

#[test]
fn every_op_kind_lowers_or_errors_without_panicking() {
    // misc.tile holds one of nearly every op (dot, scan, reshape, atomics, bf16...).
    let f = load("misc");
    for target in [Target::apple(), Target::lavapipe()] {
        let err = lower(&f, &target, 4).unwrap_err();
        assert!(!err.message.is_empty());
    }
}

#[test]
fn invalid_tile_ir_is_an_error() {
    let mut f = tm_tile::Function::new("broken");
    let i32t = tm_tile::Type::scalar(ScalarType::I32);
    let x = f.add_param("x", i32t.clone(), 0, false);
    // An add with one operand: the verifier must catch it before lowering indexes it.
    f.push(
        f.body,
        tm_tile::OpKind::Binary(tm_tile::BinaryOp::Add),
        vec![x],
        i32t,
        tm_core::Loc::UNKNOWN,
    );
    let err = lower(&f, &Target::apple(), 4).unwrap_err();
    assert!(err.message.starts_with("invalid Tile IR"), "{err}");
}

/// `acc = tl.dot(a, b, acc)` in a loop keeps the accumulator in matrix registers: inside the
/// loop nothing is stored from a matrix and only the staged f16 operands are loaded into
/// matrices, with one barrier per iteration (operands staged; the staging alternates two
/// buffers); the accumulator crosses threadgroup memory once before the loop and once
/// after it.
#[test]
fn loop_carried_dot_accumulator_stays_in_matrix_registers() {
    let f = load("dot_loop");
    let target = Target::apple();
    let a = assign_for(&f, &target, 4).unwrap();
    let text = print_assignment(&f, &a);
    assert!(text.contains("= matrix<tile=8, wpg=4, rank=2>"), "{text}");
    assert!(text.contains("= dot : tensor<32x32xf32> #3"), "{text}");
    let k = lower_ok("dot_loop", &target);
    let body = k
        .body
        .iter()
        .find_map(|s| match s {
            Stmt::For { body, .. } => Some(body),
            _ => None,
        })
        .expect("the K loop");
    let mut inner = Vec::new();
    walk(body, &mut inner);
    let f32_arrays: Vec<u32> = (0..k.shared.len() as u32)
        .filter(|&i| k.shared[i as usize].elem == ScalarType::F32)
        .collect();
    assert!(!inner.iter().any(|s| matches!(s, Stmt::MatrixStore { .. })));
    for s in &inner {
        if let Stmt::MatrixLoad { arr, .. } = s {
            assert!(
                !f32_arrays.contains(arr),
                "accumulator reloaded in the loop"
            );
        }
    }
    let barriers = inner
        .iter()
        .filter(|s| matches!(s, Stmt::Barrier | Stmt::SharedBarrier))
        .count();
    assert_eq!(barriers, 1);
    let staged: Vec<u32> = inner
        .iter()
        .filter_map(|s| match s {
            Stmt::MatrixLoad { arr, .. } => Some(*arr),
            _ => None,
        })
        .collect();
    for arr in staged {
        // Two buffers of 32 rows of 32 + 8 (padding) f16.
        assert_eq!(k.shared[arr as usize].len, 2 * 32 * 40);
    }
    let mma = inner
        .iter()
        .filter(|s| matches!(s, Stmt::MatrixMulAcc { .. }))
        .count();
    // 16 tiles of 8x8 over 4 simdgroups, 4 steps of 8 along K.
    assert_eq!(mma, 16);
    let all = stmts(&k);
    let stores = all
        .iter()
        .filter(|s| matches!(s, Stmt::MatrixStore { .. }))
        .count();
    assert_eq!(
        stores, 4,
        "one conversion out of the matrices, after the loop"
    );
    // The next iteration's operands are loaded at the top of the body, under `iv + 1 < n`
    // (pipeline.rs), before this iteration's are staged.
    let first_if = body.iter().position(|s| matches!(s, Stmt::If { .. }));
    let first_barrier = body
        .iter()
        .position(|s| matches!(s, Stmt::Barrier | Stmt::SharedBarrier));
    assert!(
        first_if < first_barrier,
        "prefetch before the staging barrier"
    );
    let Some(Stmt::If { then_body, .. }) = first_if.map(|i| &body[i]) else {
        panic!("no prefetch")
    };
    let prefetched = then_body
        .iter()
        .filter(|s| {
            matches!(
                s,
                Stmt::Assign {
                    expr: Expr::Load { .. },
                    ..
                }
            )
        })
        .count();
    assert_eq!(prefetched, 16, "8 f16 of a and 8 of b per thread");
    // Without a matrix unit the same kernel keeps the FMA path.
    let k = lower_ok("dot_loop", &Target::lavapipe());
    assert!(k.matrices.is_empty());
}

#[test]
fn accumulating_with_plus_equals_reaches_the_matrix_registers_after_the_default_pipeline() {
    // `acc += tl.dot(a, b)`: the dot accumulates into zeros and an add follows. The default
    // pipeline folds the add into the dot, after which the loop is `dot_loop` again.
    let text = std::fs::read_to_string(format!(
        "{}/tests/kernels/dot_loop.tile",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("kernel file")
    .replace(
        "%20, %22, %15 : tensor<32x32xf32>\n    yield %23",
        "%20, %22, %10 : tensor<32x32xf32>\n    %30 = add %15, %23 : tensor<32x32xf32>\n    yield %30",
    );
    let mut f = tm_tile::parse(&text).unwrap_or_else(|e| panic!("{e:?}"));
    let target = Target::apple();
    let before = print_assignment(&f, &assign_for(&f, &target, 4).unwrap());
    assert!(!before.contains("matrix<"), "{before}");
    tm_tile::run_default_pipeline(&mut f);
    let after = print_assignment(&f, &assign_for(&f, &target, 4).unwrap());
    assert!(after.contains("= matrix<tile=8, wpg=4, rank=2>"), "{after}");
}

#[test]
fn a_reduction_in_a_loop_ends_in_a_barrier_and_a_top_level_one_does_not() {
    // In a loop the next iteration's store to the exchange array may overtake a slower
    // thread's reads of this one, so those reads must be fenced off; at top level the
    // array is the reduction's own and is written once.
    let text = "tt.func @l(%x: ptr<f32> {arg=0}, %o: ptr<f32> {arg=1}, %n: i32 {arg=2}) {
  %0 = constant {value=0.0} : f32
  %1 = constant {value=0} : i32
  %2 = constant {value=1} : i32
  %3 = make_range {start=0, end=1024} : tensor<1024xi32>
  %4 = splat %x : tensor<1024xptr<f32>>
  %5 = addptr %4, %3 : tensor<1024xptr<f32>>
  %6 = load %5 : tensor<1024xf32>
  %7 = for %1, %n, %2, %0 : f32 {
    ^bb(%8: i32, %9: f32):
    %10 = reduce {axis=0} %6 : f32 {
      ^bb(%11: f32, %12: f32):
      %13 = add %11, %12 : f32
      yield %13
    }
    %14 = add %9, %10 : f32
    yield %14
  }
  %15 = reduce {axis=0} %6 : f32 {
    ^bb(%16: f32, %17: f32):
    %18 = max %16, %17 : f32
    yield %18
  }
  %19 = add %7, %15 : f32
  store %o, %19
  return
}";
    let f = tm_tile::parse(text).unwrap();
    let k = lower(&f, &Target::apple(), 4).unwrap();
    let in_loop: Vec<&Stmt> = k
        .body
        .iter()
        .filter_map(|s| match s {
            Stmt::For { body, .. } => Some(body),
            _ => None,
        })
        .flat_map(|b| b.iter())
        .filter(|s| matches!(s, Stmt::Barrier | Stmt::SharedBarrier))
        .collect();
    assert!(
        matches!(in_loop[..], [Stmt::SharedBarrier, Stmt::SharedBarrier]),
        "{in_loop:?}"
    );
    let top: Vec<&Stmt> = k
        .body
        .iter()
        .filter(|s| matches!(s, Stmt::Barrier | Stmt::SharedBarrier))
        .collect();
    assert!(matches!(top[..], [Stmt::SharedBarrier]), "{top:?}");
}
