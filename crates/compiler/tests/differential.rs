//! Differential property test across engines: random well-typed Tile IR kernels
//! (`tm_interp::gen`) run on the interpreter, on WGSL through wgpu (lavapipe in CI) and on
//! MSL through the emulator, and every engine must agree with the generator's own Rust
//! reference (ints exactly, floats within the error the approximate ops allow), hence with
//! each other.
//!
//! - `TM_PROPTEST_CASES` (default 48): kernels per run.
//! - `TM_PROPTEST_SEED`: replays a run; the seed is printed on failure with the shrunk
//!   kernel, its inputs and every engine's output.
//! - `TM_EMU_EVERY` (default 2): the emulator compiles every kernel with clang (about a
//!   second), so it runs on every Nth case only, and on every case once a failure is being
//!   shrunk.
//! - Without a wgpu adapter or clang-19 that engine is skipped with a printed reason, unless
//!   `TRITON_METAL_REQUIRE_GPU=1`.

mod engines;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;

use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestError, TestRng, TestRunner};
use tm_interp::gen::{kernel, Dt, Kernel, Node, Tolerance, Val};

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

struct Harness {
    emu_every: usize,
    cases_run: AtomicUsize,
    /// Set at the first failure: from then on (shrinking) every engine runs on every case,
    /// so that the failure cannot vanish because an engine was sampled out.
    failing: AtomicBool,
    unsupported: Mutex<BTreeMap<String, usize>>,
}

impl Harness {
    fn run_case(&self, k: &Kernel) -> Result<(), TestCaseError> {
        let n = self.cases_run.fetch_add(1, Ordering::Relaxed);
        let with_emu =
            self.failing.load(Ordering::Relaxed) || n.is_multiple_of(self.emu_every.max(1));
        let r = self.check_kernel(k, with_emu);
        if r.is_err() {
            self.failing.store(true, Ordering::Relaxed);
        }
        r.map_err(|f| TestCaseError::fail(f.text))
    }

    fn check_kernel(&self, k: &Kernel, with_emu: bool) -> Result<(), Failure> {
        let f = k.build();
        let text = tm_tile::print(&f);
        tm_tile::verify(&f).map_err(|e| Failure {
            text: format!("generator made ill-typed IR: {e}\n{text}"),
            at: None,
        })?;
        let args = k.args();
        let out = k.inputs.len();
        let grid = k.grid();
        let mut results: Vec<(&str, Result<Vec<u8>, String>)> = Vec::new();
        let pick = |r: Result<engines::Buffers, String>| {
            r.and_then(|mut b| {
                b.get_mut(out)
                    .map(std::mem::take)
                    .ok_or_else(|| "no output buffer".to_string())
            })
        };
        results.push(("interpreter", pick(engines::run_interp(&f, grid, &args))));
        if let Some(dev) = engines::device().filter(|d| supports(d.target(), k)) {
            results.push((
                "wgpu",
                pick(engines::run_wgpu(dev, &f, k.num_warps, grid, &args)),
            ));
        }
        if with_emu {
            if let Some(emu) = engines::emulator() {
                let mut r = pick(engines::run_emu(emu, &f, k.num_warps, grid, &args, true));
                if let Some(test) = r.as_ref().err().and_then(|e| known_race(k, e)) {
                    // Still check the values of a run without the race check.
                    let mut u = self.unsupported.lock().unwrap_or_else(|p| p.into_inner());
                    *u.entry(format!("msl-emu: known bug, {test}")).or_default() += 1;
                    r = pick(engines::run_emu(emu, &f, k.num_warps, grid, &args, false));
                }
                results.push(("msl-emu", r));
            }
        }
        let mut problems = Vec::new();
        let mut at = None;
        for (name, r) in &results {
            match r {
                // A construct the target cannot express is a documented limit, not a wrong
                // answer: counted and listed at the end.
                Err(e) if known_issue(name, e).is_some() => {
                    let mut u = self.unsupported.lock().unwrap_or_else(|p| p.into_inner());
                    let what = known_issue(name, e).unwrap_or_default();
                    *u.entry(format!("{name}: known bug, {what}")).or_default() += 1;
                }
                Err(e) if e.starts_with("lowering: unsupported by the target") => {
                    let mut u = self.unsupported.lock().unwrap_or_else(|p| p.into_inner());
                    *u.entry(format!("{name}: {e}")).or_default() += 1;
                }
                Err(e) => problems.push(format!("{name} failed: {e}")),
                Ok(buf) => {
                    let tol = match *name {
                        "interpreter" => Tolerance::EXACT,
                        "wgpu" => Tolerance::WGSL,
                        _ => Tolerance::GPU,
                    };
                    if let Err(e) = k.check_with(buf, &tol) {
                        problems.push(format!("{name} disagrees with the reference {e}"));
                        let oc = k.out_shape().1 as usize;
                        at = at.or(k.mismatch(buf, &tol).map(|i| (i / oc, i % oc)));
                    }
                }
            }
        }
        if problems.is_empty() {
            return Ok(());
        }
        let mut msg = problems.join("\n");
        msg.push_str(&format!(
            "\nnum_warps {}, grid {grid:?}, block {}x{}, problem {}x{}, reduce {:?}\n{text}\n{}",
            k.num_warps,
            k.rows,
            k.cols,
            k.n_rows,
            k.n_cols,
            k.reduce,
            k.describe_inputs()
        ));
        msg.push_str(&format!("reference: {}\n", k.describe_reference()));
        for (name, r) in &results {
            if let Ok(buf) = r {
                msg.push_str(&format!("{name}: {}\n", k.describe_output(buf)));
            }
        }
        Err(Failure { text: msg, at })
    }

    /// Greedy reduction of a failing kernel beyond what proptest's shrinking reached: one
    /// lane of the problem, one warp, smaller blocks, an earlier node as the output, zeroed
    /// inputs. Every candidate runs on every engine; the last one that still fails wins.
    fn minimize(&self, mut k: Kernel) -> (Kernel, Failure) {
        let Err(mut last) = self.check_kernel(&k, true) else {
            let text = "the shrunk kernel passes when run again (flaky engine?)".to_string();
            return (k, Failure { text, at: None });
        };
        for _round in 0..40 {
            let mut cands: Vec<Kernel> = Vec::new();
            if let Some((r, c)) = last.at {
                cands.extend(k.single_lane(r, c).filter(|s| *s != k));
            }
            if k.num_warps > 1 {
                cands.push(Kernel {
                    num_warps: 1,
                    ..k.clone()
                });
            }
            if k.rows > 1 {
                cands.push(Kernel {
                    rows: k.rows / 2,
                    ..k.clone()
                });
            }
            if k.cols > 1 {
                cands.push(Kernel {
                    cols: k.cols / 2,
                    ..k.clone()
                });
            }
            for n in 1..k.nodes.len() {
                let mut c = k.clone();
                c.nodes.truncate(n);
                c.prune();
                cands.push(c);
            }
            for (i, inp) in k.inputs.iter().enumerate() {
                let zero = if inp.dt.is_float() {
                    Val::F(0.0)
                } else {
                    Val::I(0)
                };
                if inp.data.iter().any(|&v| v != zero) {
                    let mut c = k.clone();
                    c.inputs[i].data.iter_mut().for_each(|v| *v = zero);
                    cands.push(c);
                }
            }
            match cands
                .into_iter()
                .find_map(|c| self.check_kernel(&c, true).err().map(|f| (c, f)))
            {
                Some((c, f)) => {
                    k = c;
                    last = f;
                }
                None => break,
            }
        }
        (k, last)
    }
}

struct Failure {
    text: String,
    /// The first output element some engine got wrong.
    at: Option<(usize, usize)>,
}

/// Engine failures already reduced to a test in regressions.rs (ignored there until the
/// owner fixes them): counted and listed instead of failing every run. Remove an entry when
/// its regression test passes.
const KNOWN_ISSUES: &[(&str, &str, &str)] = &[(
    "wgpu",
    "Cannot cast scalar components of expression",
    "regressions::wgsl_cast_of_i64_constant_compiles",
)];

/// The emulator's race check fails float reductions whose replicated lanes end with
/// different bits: the butterfly combines (mine, partner) on one lane and (partner, mine) on
/// the other, so max(+0, -0), min, or a sum of two NaNs differ in sign between replicas that
/// all store to one threadgroup slot (regressions::msl_max_of_signed_zeros_is_deterministic).
/// The values are still checked, on a run without the race check.
fn known_race(k: &Kernel, error: &str) -> Option<&'static str> {
    let inner = k
        .nodes
        .iter()
        .enumerate()
        .any(|(i, n)| matches!(n, Node::ReduceBroadcast(..)) && k.dt(i).is_float());
    let last = k.reduce.is_some() && k.out_dt().is_float();
    (error.contains("data race") && (inner || last))
        .then_some("regressions::msl_max_of_signed_zeros_is_deterministic")
}

fn known_issue(engine: &str, error: &str) -> Option<&'static str> {
    KNOWN_ISSUES
        .iter()
        .find(|(e, text, _)| *e == engine && error.contains(text))
        .map(|(_, _, test)| *test)
}

/// Whether the target has every type the kernel uses (lavapipe may lack f16 or i64).
fn supports(t: &tm_core::Target, k: &Kernel) -> bool {
    (t.has_f16 || !k.uses(Dt::F16)) && (t.has_i64 || !k.uses(Dt::I64))
}

#[test]
fn engines_agree_on_random_kernels() {
    let seed: u64 = env_or("TM_PROPTEST_SEED", 0).max(1);
    let seed = if std::env::var("TM_PROPTEST_SEED").is_ok() {
        seed
    } else {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1)
    };
    let cases: u32 = env_or("TM_PROPTEST_CASES", 48);
    let harness = Harness {
        emu_every: env_or("TM_EMU_EVERY", 2),
        cases_run: AtomicUsize::new(0),
        failing: AtomicBool::new(false),
        unsupported: Mutex::new(BTreeMap::new()),
    };
    // Open both engines before the first case, so their skip messages come first.
    engines::device();
    engines::emulator();
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&seed.to_le_bytes());
    let config = Config {
        cases,
        failure_persistence: None,
        // Every shrink step may call clang: bound the time shrinking may take.
        max_shrink_iters: env_or("TM_PROPTEST_SHRINK_ITERS", 400),
        max_shrink_time: 120_000,
        ..Config::default()
    };
    let mut runner =
        TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &bytes));
    eprintln!("differential test: {cases} cases, TM_PROPTEST_SEED={seed}");
    let result = runner.run(&kernel(), |k| harness.run_case(&k));
    let unsupported = harness
        .unsupported
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    for (what, n) in unsupported.iter() {
        eprintln!("skipped {n} case(s) an engine does not support: {what}");
    }
    match result {
        Ok(()) => {}
        Err(TestError::Fail(_, k)) => {
            let (k, f) = harness.minimize(k);
            panic!(
                "engines disagree (replay with TM_PROPTEST_SEED={seed}); minimized:\n{}\n{k:?}",
                f.text
            );
        }
        Err(e) => panic!("differential test aborted (TM_PROPTEST_SEED={seed}): {e}"),
    }
}

/// The comparison has teeth: one wrong element of a correct interpreter output is caught,
/// and it is located.
#[test]
fn a_wrong_element_is_reported() {
    use tm_interp::gen::{Input, Layout};
    let k = Kernel {
        rows: 2,
        cols: 4,
        n_rows: 3,
        n_cols: 5,
        num_warps: 1,
        inputs: vec![Input {
            dt: Dt::I32,
            layout: Layout::Full,
            data: (0..15).map(|i| Val::I(i - 7)).collect(),
        }],
        nodes: vec![
            Node::Input(0),
            Node::Const(Val::I(0), Dt::I32),
            Node::Binary(tm_tile::BinaryOp::Div, 0, 1),
        ],
        reduce: None,
    };
    let f = k.build();
    let mut out =
        engines::run_interp(&f, k.grid(), &k.args()).expect("interpreter runs")[1].clone();
    // x / 0 is all ones.
    assert_eq!(k.check_with(&out, &Tolerance::EXACT), Ok(()));
    assert!(out.chunks(4).all(|c| c == [0xff; 4]));
    out[7 * 4] = 0;
    assert_eq!(k.mismatch(&out, &Tolerance::GPU), Some(7));
    let err = k.check_with(&out, &Tolerance::GPU).unwrap_err();
    assert!(err.starts_with("at (1, 2)"), "{err}");
}
