//! Minimal kernels from failures the differential test (`differential.rs`) found, kept as
//! tests of their own. Each runs one engine and checks it against the generator's Rust
//! reference. Tests of engine bugs not fixed yet are `#[ignore]`d with the owner named.

mod engines;

use tm_interp::gen::{Dt, Input, Kernel, Layout, Node, ReduceOp, Reduction, Tolerance, Val};

fn one_input(dt: Dt, data: Vec<Val>, nodes: Vec<Node>) -> Kernel {
    let n = data.len() as u32;
    Kernel {
        rows: 1,
        cols: n.next_power_of_two(),
        n_rows: 1,
        n_cols: n,
        num_warps: 1,
        inputs: vec![Input {
            dt,
            layout: Layout::Full,
            data,
        }],
        nodes,
        reduce: None,
    }
}

/// Runs `k` on wgpu (None without a device) and checks the output with `tol`.
fn check_wgpu(k: &Kernel, tol: &Tolerance) -> Option<Result<(), String>> {
    let dev = engines::device()?;
    let f = k.build();
    let out = engines::run_wgpu(dev, &f, k.num_warps, k.grid(), &k.args())
        .map(|mut b| std::mem::take(&mut b[k.inputs.len()]));
    Some(out.and_then(|buf| {
        k.check_with(&buf, tol).map_err(|e| {
            format!(
                "{e}\n{}\nreference {}\nwgpu {}",
                tm_tile::print(&f),
                k.describe_reference(),
                k.describe_output(&buf)
            )
        })
    }))
}

fn check_emu(k: &Kernel, tol: &Tolerance) -> Option<Result<(), String>> {
    let emu = engines::emulator()?;
    let f = k.build();
    let out = engines::run_emu(emu, &f, k.num_warps, k.grid(), &k.args(), true)
        .map(|mut b| std::mem::take(&mut b[k.inputs.len()]));
    Some(out.and_then(|buf| k.check_with(&buf, tol)))
}

/// The WGSL printer's `tm_cvt_*` helpers tested `x != x` for NaN; lavapipe folds that test
/// away (WGSL lets it assume no NaN), so NaN converted to INT_MIN instead of 0. Testing the
/// bits fixes it.
#[test]
fn wgsl_nan_to_int_is_zero() {
    let k = one_input(
        Dt::F32,
        vec![Val::F(f64::NAN), Val::F(1.5), Val::F(-2.5), Val::F(1e10)],
        vec![Node::Input(0), Node::Cast(0, Dt::I32)],
    );
    if let Some(r) = check_wgpu(&k, &Tolerance::GPU) {
        r.unwrap();
    }
}

/// The same conversion on the emulator gives Triton's 0 for NaN: the bug is WGSL's.
#[test]
fn msl_nan_to_int_is_zero() {
    let k = one_input(
        Dt::F32,
        vec![Val::F(f64::NAN), Val::F(1.5), Val::F(-2.5), Val::F(1e10)],
        vec![Node::Input(0), Node::Cast(0, Dt::I32)],
    );
    assert_eq!(
        k.reference(),
        vec![Val::I(0), Val::I(1), Val::I(-2), Val::I(i32::MAX as i64)]
    );
    if let Some(r) = check_emu(&k, &Tolerance::GPU) {
        r.unwrap();
    }
}

/// A cast of an i64 constant to a 32-bit type is printed as `bitcast<u32>(i32((-91li)))`,
/// which naga 30 refuses ("Cannot cast scalar components of expression Literal(I64(-91)) to
/// type i32"): its constant evaluator does not convert i64 literals.
#[test]
fn wgsl_cast_of_i64_constant_compiles() {
    let k = Kernel {
        nodes: vec![
            Node::Input(0),
            Node::Const(Val::I(-91), Dt::I64),
            Node::Cast(1, Dt::U32),
            Node::Binary(tm_tile::BinaryOp::Add, 0, 2),
        ],
        ..one_input(Dt::U32, vec![Val::I(0), Val::I(100)], vec![])
    };
    assert_eq!(
        k.reference(),
        vec![Val::I((-91i32) as u32 as i64), Val::I(9)]
    );
    if let Some(r) = check_wgpu(&k, &Tolerance::GPU) {
        r.unwrap();
    }
}

/// A max reduction along axis 1 of a 2×2 f32 block holding +0 and -0. The butterfly step
/// is `v43 = fmax(v41, simd_shuffle_xor(v41, 1))`: lane 0 computes fmax(+0, -0), lane 1
/// fmax(-0, +0), and Metal's fmax may return either zero for each; all the replicas then
/// store their zero to one threadgroup slot (`s2[v33] = v43`), so the result depends on
/// which thread writes last and the emulator's race check fails. The same operand swap
/// makes a non-commutative `tl.reduce` combine give lane-dependent results, and a float sum
/// of two NaNs of different signs race the same way.
#[test]
fn msl_max_of_signed_zeros_is_deterministic() {
    let zeros = vec![Val::F(0.0), Val::F(-0.0), Val::F(0.0), Val::F(-0.0)];
    let k = Kernel {
        rows: 2,
        cols: 2,
        n_rows: 2,
        n_cols: 2,
        reduce: Some(Reduction {
            op: ReduceOp::Max,
            axis: 1,
        }),
        ..one_input(Dt::F32, zeros, vec![Node::Input(0)])
    };
    if let Some(r) = check_emu(&k, &Tolerance::GPU) {
        r.unwrap();
    }
}
