//! The interpreter against a direct Rust evaluation of random elementwise kernels
//! (`cargo test -p tm-interp --features gen`). Set TM_PROPTEST_SEED to replay a run; the
//! seed is printed on failure, with the shrunk kernel and its Tile IR.

use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestRng, TestRunner};
use tm_interp::gen::{kernel, Arg, Kernel};
use tm_interp::{ArgValue, RunOptions, ScalarValue};

fn run_kernel(k: &Kernel) -> Result<(), TestCaseError> {
    let f = k.build();
    tm_tile::verify(&f).map_err(|e| {
        TestCaseError::fail(format!(
            "generator made ill-typed IR: {e}\n{}",
            tm_tile::print(&f)
        ))
    })?;
    let mut args = k.args();
    let out_index = k.inputs.len();
    let mut values: Vec<ArgValue> = args
        .iter_mut()
        .map(|a| match a {
            Arg::Buffer(st, data) => ArgValue::Buffer { data, elem: *st },
            Arg::I32(x) => ArgValue::Scalar(ScalarValue::I32(*x)),
            Arg::F32(x) => ArgValue::Scalar(ScalarValue::F32(*x)),
        })
        .collect();
    let opts = RunOptions { echo_prints: false };
    tm_interp::run(&f, k.grid(), &mut values, &opts)
        .map_err(|e| TestCaseError::fail(format!("interpreter error: {e}")))?;
    drop(values);
    let Arg::Buffer(_, out) = &args[out_index] else {
        return Err(TestCaseError::fail("output is not a buffer"));
    };
    k.check(out, 0)
        .map_err(|e| TestCaseError::fail(format!("{e}\n{}", tm_tile::print(&f))))
}

#[test]
fn interpreter_matches_reference_on_random_kernels() {
    let seed: u64 = std::env::var("TM_PROPTEST_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(1)
        });
    let cases = std::env::var("TM_PROPTEST_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(200);
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&seed.to_le_bytes());
    let config = Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    };
    let mut runner =
        TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &bytes));
    if let Err(e) = runner.run(&kernel(), |k| run_kernel(&k)) {
        panic!("differential test failed (replay with TM_PROPTEST_SEED={seed}): {e}");
    }
}
