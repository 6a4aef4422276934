//! Differential property test across engines: random well-typed Tile IR kernels
//! (`tm_interp::gen`) run on the interpreter, on WGSL through wgpu (lavapipe in CI) and on
//! MSL through the emulator, and every engine must agree with the generator's own Rust
//! reference (ints exactly, floats within the error the approximate ops allow), hence with
//! each other.
//!
//! - `TM_PROPTEST_CASES` (default 48): kernels per run.
//! - `TM_PROPTEST_SEED`: replays a run; the seed is printed on failure with the shrunk
//!   kernel, its inputs and every engine's output.
//! - `TM_EMU_EVERY` (default 4): the emulator compiles every kernel with clang (about a
//!   second), so it runs on every Nth case only, and on every case once a failure is being
//!   shrunk.
//! - Without a wgpu adapter or clang-19 that engine is skipped with a printed reason, unless
//!   `TRITON_METAL_REQUIRE_GPU=1`.

mod engines;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;

use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestRng, TestRunner};
use tm_interp::gen::{kernel, Dt, Kernel, Tolerance};

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
        let with_emu = self.failing.load(Ordering::Relaxed) || n % self.emu_every.max(1) == 0;
        let r = self.check_kernel(k, with_emu);
        if r.is_err() {
            self.failing.store(true, Ordering::Relaxed);
        }
        r.map_err(TestCaseError::fail)
    }

    fn check_kernel(&self, k: &Kernel, with_emu: bool) -> Result<(), String> {
        let f = k.build();
        let text = tm_tile::print(&f);
        tm_tile::verify(&f).map_err(|e| format!("generator made ill-typed IR: {e}\n{text}"))?;
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
                results.push((
                    "msl-emu",
                    pick(engines::run_emu(emu, &f, k.num_warps, grid, &args)),
                ));
            }
        }
        let mut problems = Vec::new();
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
        Err(msg)
    }
}

/// Engine failures already reduced to a test in regressions.rs (ignored there until the
/// owner fixes them): counted and listed instead of failing every run. Remove an entry when
/// its regression test passes.
const KNOWN_ISSUES: &[(&str, &str, &str)] = &[(
    "wgpu",
    "Cannot cast scalar components of expression",
    "regressions::wgsl_cast_of_i64_constant_compiles",
)];

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
        emu_every: env_or("TM_EMU_EVERY", 4),
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
    if let Err(e) = result {
        panic!("engines disagree (replay with TM_PROPTEST_SEED={seed}): {e}");
    }
}
