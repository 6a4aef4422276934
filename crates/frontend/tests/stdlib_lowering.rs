//! Kernels that call standard-library functions lower through the frontend, each function
//! bound the way the registry hands it out (its own globals, inlined at the call).

mod common;

use common::*;
use tm_core::{ScalarType, ScalarType::*, SourceFile};
use tm_frontend::stdlib;
use tm_frontend::{ArgSpec, Binding, FunctionSource};

/// `src` with every name of `uses` bound to its standard-library function.
fn kernel_using(src: &str, uses: &[&str]) -> FunctionSource {
    let mut globals = tl_globals();
    for u in uses {
        let f = stdlib::lookup(u)
            .unwrap_or_else(|| panic!("no stdlib function {u}"))
            .function_source()
            .unwrap_or_else(|e| panic!("{u}: {e}"));
        globals.insert(u.to_string(), Binding::JitFunction(f));
    }
    FunctionSource {
        file: SourceFile::new("kernel.py", src, 1),
        name: "k".to_string(),
        globals,
    }
}

/// A kernel over a block of 64 elements `x` (also viewed as `x2`, 8 x 8) and a scalar
/// `seed`; `body` computes `out` (any shape of 64 elements), which is stored.
fn case_kernel(body: &str) -> String {
    format!(
        r#"
@triton.jit
def k(x_ptr, y_ptr, seed, BLOCK: tl.constexpr):
    offs = tl.arange(0, BLOCK)
    x = tl.load(x_ptr + offs)
{body}
    tl.store(y_ptr + offs, out)
"#
    )
}

fn args(elem: ScalarType, out: ScalarType) -> Vec<ArgSpec> {
    vec![ptr(elem), ptr(out), scalar(I32), cint(64)]
}

fn lower_case(body: &str, uses: &[&str], elem: ScalarType, out: ScalarType) -> String {
    let k = kernel_using(&case_kernel(body), uses);
    lower_ok(&k, &args(elem, out)).1
}

#[test]
fn sigmoid_is_inlined_from_the_stdlib_file() {
    let text = lower_case("    out = sigmoid(x)\n", &["sigmoid"], F32, F32);
    assert!(text.contains("exp "), "{text}");
    assert!(text.contains("div "), "{text}");
    // The inlined ops carry locations in the stdlib's own file.
    assert!(
        text.contains("\"triton_metal/language/standard.py\""),
        "{text}"
    );
}

#[test]
fn cdiv_rounds_up_in_integers() {
    let text = lower_case("    out = cdiv(x, 4)\n", &["cdiv"], I32, I32);
    assert!(text.contains("add ") && text.contains("sub "), "{text}");
    assert!(text.contains("div "), "{text}");
}

#[test]
fn cumprod_is_a_scan_with_a_multiply() {
    let text = lower_case("    out = cumprod(x)\n", &["cumprod"], F32, F32);
    assert!(text.contains("scan {axis=0}"), "{text}");
    assert!(text.contains("mul "), "{text}");
}

#[test]
fn zeros_like_keeps_shape_and_dtype() {
    let text = lower_case("    out = zeros_like(x)\n", &["zeros_like"], F16, F16);
    assert!(
        text.contains("constant {value=0.0} : tensor<64xf16>"),
        "{text}"
    );
}

#[test]
fn swizzle2d_returns_a_pair() {
    let body = "    i, j = swizzle2d(offs // 8, offs % 8, 8, 8, 2)\n    out = i * 8 + j\n";
    let text = lower_case(body, &["swizzle2d"], I32, I32);
    assert!(text.contains("min") || text.contains("select"), "{text}");
}

/// One kernel per public function: (functions bound, body, input dtype, output dtype).
const ALL_CASES: &[(&[&str], &str, ScalarType, ScalarType)] = &[
    (&["cdiv"], "    out = cdiv(x, 3)\n", I32, I32),
    (&["sigmoid"], "    out = sigmoid(x)\n", F32, F32),
    (&["softmax"], "    out = softmax(x)\n", F32, F32),
    (&["ravel"], "    out = ravel(tl.reshape(x, (8, 8)))\n", F32, F32),
    (
        &["swizzle2d"],
        "    i, j = swizzle2d(offs // 8, offs % 8, 8, 8, 3)\n    out = i * 8 + j\n",
        I32,
        I32,
    ),
    (&["zeros"], "    out = x + zeros((BLOCK,), tl.float32)\n", F32, F32),
    (&["zeros_like"], "    out = zeros_like(x)\n", F32, F32),
    (&["max"], "    out = x * 0 + max(x, 0)\n", F16, F32),
    (
        &["max"],
        "    v, i = max(tl.reshape(x, (8, 8)), 1, return_indices=True)\n    out = tl.reshape(tl.broadcast_to(i[:, None], (8, 8)), (64,))\n",
        F32,
        I32,
    ),
    (&["argmax"], "    out = offs * 0 + argmax(x, 0)\n", F32, I32),
    (&["argmax"], "    out = offs * 0 + argmax(x, None)\n", F32, I32),
    (&["min"], "    out = x * 0 + min(x)\n", I8, I32),
    (&["argmin"], "    out = offs * 0 + argmin(x, 0, tie_break_left=False)\n", F32, I32),
    (&["sum"], "    out = offs * 0 + sum(x)\n", I8, I32),
    (&["sum"], "    out = x * 0 + sum(x, 0, dtype=tl.float32)\n", F16, F32),
    (&["xor_sum"], "    out = x * 0 + xor_sum(x, 0)\n", I32, I32),
    (&["reduce_or"], "    out = x * 0 + reduce_or(x, 0)\n", U8, U8),
    (&["cumsum"], "    out = cumsum(x)\n", I1, U32),
    (&["cumsum"], "    out = cumsum(x, 0, reverse=True)\n", F32, F32),
    (&["cumprod"], "    out = cumprod(x, 0, True)\n", F32, F32),
    (&["sort"], "    out = sort(x)\n", F32, F32),
    (&["sort"], "    out = tl.reshape(sort(tl.reshape(x, (8, 8)), descending=True), (64,))\n", I16, I16),
    (
        &["topk"],
        "    t = topk(tl.reshape(x, (4, 16)), 4)\n    out = tl.reshape(tl.broadcast_to(t[:, :, None], (4, 4, 4)), (64,))\n",
        F32,
        F32,
    ),
    (
        &["bitonic_merge"],
        "    out = tl.reshape(bitonic_merge(tl.reshape(x, (4, 16))), (64,))\n",
        F32,
        F32,
    ),
    (&["flip"], "    out = flip(x)\n", F32, F32),
    (
        &["flip"],
        "    out = tl.reshape(flip(tl.reshape(x, (8, 8)), 0), (64,))\n",
        U8,
        U8,
    ),
    (
        &["interleave"],
        "    a = tl.reshape(x, (2, 32))\n    out = tl.sum(interleave(a, a), 0)\n",
        F32,
        F32,
    ),
    (&["randint"], "    out = randint(seed, offs)\n", F32, U32),
    (&["randint"], "    out = randint(42, offs, 7)\n", F32, U32),
    (&["randint4x"], "    a, b, c, d = randint4x(seed, offs)\n    out = a ^ b ^ c ^ d\n", F32, U32),
    (&["rand"], "    out = rand(seed, offs)\n", F32, F32),
    (&["rand4x"], "    a, b, c, d = rand4x(seed, offs)\n    out = a + b + c + d\n", F32, F32),
    (&["randn"], "    out = randn(seed, offs)\n", F32, F32),
    (&["randn4x"], "    a, b, c, d = randn4x(seed, offs)\n    out = a + b + c + d\n", F32, F32),
    (&["randint"], "    out = randint(seed, offs.to(tl.int64)).to(tl.uint32)\n", F32, U32),
    (
        &["philox"],
        "    a, b, c, d = philox(seed, offs, offs, 0, 0)\n    out = a\n",
        F32,
        U32,
    ),
    (
        &["philox_impl"],
        "    u = offs.to(tl.uint32)\n    a, b, c, d = philox_impl(u, u, u, u, u, u)\n    out = a\n",
        F32,
        U32,
    ),
    (
        &["uint_to_uniform_float"],
        "    out = uint_to_uniform_float(offs.to(tl.uint32) * 2654435761)\n",
        F32,
        F32,
    ),
    (
        &["pair_uniform_to_normal"],
        "    a, b = pair_uniform_to_normal(x, x)\n    out = a + b\n",
        F32,
        F32,
    ),
];

/// Every public function lowers in a kernel, and the Tile IR verifier accepts the result.
#[test]
fn every_public_function_lowers() {
    let mut failures = Vec::new();
    for (uses, body, elem, out) in ALL_CASES {
        let k = kernel_using(&case_kernel(body), uses);
        match tm_frontend::lower(&k, &args(*elem, *out)) {
            Ok(f) => {
                if let Err(e) = tm_tile::verify(&f) {
                    failures.push(format!("{uses:?}:\n{body}verifier: {e:?}\n"));
                }
            }
            Err(e) => failures.push(format!("{uses:?}:\n{body}{e}\n")),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_public_function_has_a_lowering_case() {
    for f in stdlib::all().filter(|f| f.module != stdlib::StdlibModule::Libdevice) {
        assert!(
            ALL_CASES.iter().any(|(uses, ..)| uses.contains(&f.name)),
            "no case for {}",
            f.name
        );
    }
}

/// `libdevice.<name>` calls of the functions written in the Triton language: (name, call,
/// input dtype, output dtype).
const LIBDEVICE_CASES: &[(&str, &str, ScalarType, ScalarType)] = &[
    ("signbit", "signbit(x)", F32, I32),
    ("isfinitef", "isfinitef(x)", F32, I32),
    ("copysign", "copysign(x, -x)", F32, F32),
    ("fdim", "fdim(x, x * 0.5)", F32, F32),
    ("saturatef", "saturatef(x)", F32, F32),
    ("round", "round(x)", F32, F32),
    ("nearbyint", "nearbyint(x)", F32, F32),
    ("fmod", "fmod(x, x + 1.0)", F32, F32),
    ("rcp_rn", "rcp_rn(x)", F32, F32),
    ("fast_dividef", "fast_dividef(x, x + 1.0)", F32, F32),
    ("fast_expf", "fast_expf(x)", F32, F32),
    ("fast_logf", "fast_logf(x)", F32, F32),
    ("fast_log2f", "fast_log2f(x)", F32, F32),
    ("fast_log10f", "fast_log10f(x)", F32, F32),
    ("fast_exp10f", "fast_exp10f(x)", F32, F32),
    ("fast_powf", "fast_powf(x, x)", F32, F32),
    ("fast_sinf", "fast_sinf(x)", F32, F32),
    ("fast_cosf", "fast_cosf(x)", F32, F32),
    ("fast_tanf", "fast_tanf(x)", F32, F32),
    ("exp10", "exp10(x)", F32, F32),
    ("log10", "log10(x)", F32, F32),
    ("log1p", "log1p(x)", F32, F32),
    ("expm1", "expm1(x)", F32, F32),
    ("cbrt", "cbrt(x)", F32, F32),
    ("ldexp", "ldexp(x, offs)", F32, F32),
    ("hypot", "hypot(x, x + 1.0)", F32, F32),
    ("asinh", "asinh(x)", F32, F32),
    ("acosh", "acosh(x)", F32, F32),
    ("atanh", "atanh(x)", F32, F32),
    ("erfc", "erfc(x)", F32, F32),
    ("normcdf", "normcdf(x)", F32, F32),
    ("sinpi", "sinpi(x)", F32, F32),
    ("cospi", "cospi(x)", F32, F32),
    ("mulhi", "mulhi(x, x)", I32, I32),
    ("popc", "popc(x)", U32, I32),
    ("clz", "clz(x)", I32, I32),
    ("brev", "brev(x)", U32, U32),
    ("ffs", "ffs(x)", I32, I32),
];

/// Every libdevice function of the Triton-language file lowers through `libdevice.<name>`
/// (found after the builtins), and each has a case here.
#[test]
fn every_libdevice_function_lowers() {
    let mut failures = Vec::new();
    for (_, call, elem, out) in LIBDEVICE_CASES {
        let mut globals = tl_globals();
        globals.insert(
            "libdevice".to_string(),
            Binding::Module(tm_frontend::ModuleKind::Libdevice),
        );
        let k = FunctionSource {
            file: SourceFile::new(
                "kernel.py",
                case_kernel(&format!("    out = libdevice.{call}\n")),
                1,
            ),
            name: "k".to_string(),
            globals,
        };
        match tm_frontend::lower(&k, &args(*elem, *out)) {
            Ok(f) => {
                if let Err(e) = tm_tile::verify(&f) {
                    failures.push(format!("{call}: verifier: {e:?}"));
                }
            }
            Err(e) => failures.push(format!("{call}: {e}")),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    for f in stdlib::all().filter(|f| f.module == stdlib::StdlibModule::Libdevice) {
        assert!(
            LIBDEVICE_CASES.iter().any(|c| c.0 == f.name),
            "no case for libdevice.{}",
            f.name
        );
    }
}
