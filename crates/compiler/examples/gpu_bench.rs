//! GPU timings of the tutorial kernels in `benchmarks/gpu/kernels.py`, compiled by us and run
//! through tm-runtime on device-resident buffers. `benchmarks/gpu/triton_side.py` times the
//! same source with real Triton; both print one JSON line per measurement.
//!
//! ```text
//! cargo run --release -p tm-compiler --example gpu_bench -- [KERNELS_PY] [--small]
//!     [--only add|softmax|matmul] [--warmup-ms N]
//! ```
//!
//! `GPU_BENCH_DUMP=FILE` appends the WGSL of every compiled case to FILE.
//! `GPU_BENCH_WGSL=DIR` runs `DIR/<kernel>.wgsl`, where present, instead of the compiled WGSL.
//!
//! Timing follows `triton.testing.do_bench` where a host can: warm up, then a median over
//! batches, each batch being launches followed by one `synchronize`, timed by the wall clock
//! and divided by its launch count. Python-level timing would measure our host copies
//! (the Python layer has no device-resident tensor yet), hence this program.
//!
//! Two methods per case:
//! - `rotate`: launches cycle through enough input/output sets that they do not fit in L2
//!   (256 MiB in all), as do_bench's cache flush intends. Launches on different buffers carry
//!   no barrier between them, so the GPU may overlap the tail of one with the next.
//! - `same`: every launch on one set. Each waits for the one before (the output is bound
//!   read-write), and a small set stays in L2.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tm_compiler::{compile, Compiled, Options};
use tm_core::{ScalarType, SourceFile};
use tm_frontend::{ArgSpec, Binding, ConstValue, FunctionSource, Globals, ModuleKind};
use tm_runtime::{GpuBuffer, GpuDevice, GpuPipeline, KernelCode};

// The launch parameters of kernels.py; both programs print them so a mismatch shows.
const ADD_BLOCK: i64 = 1024;
const ADD_WARPS: u32 = 4;
const SOFTMAX_BLOCK: i64 = 1024;
const SOFTMAX_WARPS: u32 = 4;
const MM_BLOCK: (i64, i64, i64) = (64, 64, 32);
const MM_GROUP_M: i64 = 8;
const MM_WARPS: u32 = 4;

/// Bytes the rotating sets should span at least: several times an H100's 50 MB of L2.
const ROTATE_BYTES: u64 = 256 << 20;
const MAX_SETS: usize = 64;
/// Warm-up before each method unless `--warmup-ms` says otherwise. do_bench uses 25 ms, and
/// so did the first recorded run, but on Vulkan the H100 stayed slow for up to ~0.5 s after
/// the host had left it idle (README, "what went wrong"): warm up for a second.
const WARMUP_MS: u64 = 1000;
const BATCH_TARGET: Duration = Duration::from_millis(5);
const BATCHES: usize = 25;

type Result<T> = std::result::Result<T, String>;

/// One argument of a call, in the kernel's signature order.
#[derive(Clone, Debug)]
enum Value {
    /// The n-th buffer of a set.
    Buffer(usize, ScalarType),
    Int(i64),
    Constexpr(i64),
}

impl Value {
    fn spec(&self) -> ArgSpec {
        match *self {
            Value::Buffer(_, elem) => ArgSpec::Pointer {
                elem,
                divisible_by_16: true,
            },
            // As Triton specializes integer arguments.
            Value::Int(v) => ArgSpec::Scalar {
                ty: ScalarType::I32,
                divisible_by_16: v % 16 == 0,
                equal_to_one: v == 1,
            },
            Value::Constexpr(v) => ArgSpec::Constexpr(ConstValue::Int(v)),
        }
    }
}

/// From a set's host inputs: reference values and the output indices they belong to.
type Reference = fn(&[Vec<u8>]) -> (Vec<f64>, Vec<usize>);

/// A benchmark case: which kernel, how it is called, and how to judge its output.
struct Case {
    kernel: &'static str,
    size: String,
    num_warps: u32,
    grid: [u32; 3],
    args: Vec<Value>,
    /// Element type and length of each buffer of a set; the last one is the output.
    buffers: Vec<(ScalarType, usize)>,
    /// Bytes a launch must move at least (inputs read once, output written once).
    bytes: f64,
    flops: f64,
    tolerance: f64,
    fill: fn(&mut Rng, usize) -> Vec<Vec<u8>>,
    reference: Reference,
    config: String,
}

struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        // splitmix64: enough for benchmark data, and no dependency.
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn normal(&mut self) -> f64 {
        let u = self.uniform().max(1e-300);
        let v = self.uniform();
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }
}

fn f32_bytes(v: impl Iterator<Item = f32>) -> Vec<u8> {
    v.flat_map(f32::to_le_bytes).collect()
}

fn f32s(b: &[u8]) -> Vec<f32> {
    b.chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

fn f16s(b: &[u8]) -> Vec<f32> {
    b.chunks_exact(2)
        .map(|c| half::f16::from_le_bytes([c[0], c[1]]).to_f32())
        .collect()
}

fn add_case(n: usize) -> Case {
    Case {
        kernel: "add_kernel",
        size: n.to_string(),
        num_warps: ADD_WARPS,
        grid: [n.div_ceil(ADD_BLOCK as usize) as u32, 1, 1],
        args: vec![
            Value::Buffer(0, ScalarType::F32),
            Value::Buffer(1, ScalarType::F32),
            Value::Buffer(2, ScalarType::F32),
            Value::Int(n as i64),
            Value::Constexpr(ADD_BLOCK),
        ],
        buffers: vec![(ScalarType::F32, n); 3],
        bytes: 12.0 * n as f64,
        flops: n as f64,
        tolerance: 1e-6,
        fill: |rng, n| {
            vec![
                f32_bytes((0..n).map(|_| rng.uniform() as f32)),
                f32_bytes((0..n).map(|_| rng.uniform() as f32)),
            ]
        },
        reference: |host| {
            let (x, y) = (f32s(&host[0]), f32s(&host[1]));
            let r = x
                .iter()
                .zip(&y)
                .map(|(a, b)| *a as f64 + *b as f64)
                .collect();
            (r, (0..x.len()).collect())
        },
        config: format!("BLOCK_SIZE={ADD_BLOCK} num_warps={ADD_WARPS}"),
    }
}

fn softmax_case(rows: usize, cols: usize) -> Case {
    // The reference functions are plain fn pointers: the row length travels in the data.
    assert_eq!(cols, 1024, "the reference below assumes 1024 columns");
    Case {
        kernel: "softmax_kernel",
        size: format!("{rows}x{cols}"),
        num_warps: SOFTMAX_WARPS,
        grid: [rows as u32, 1, 1],
        args: vec![
            Value::Buffer(1, ScalarType::F32),
            Value::Buffer(0, ScalarType::F32),
            Value::Int(cols as i64),
            Value::Int(cols as i64),
            Value::Int(cols as i64),
            Value::Constexpr(SOFTMAX_BLOCK),
        ],
        buffers: vec![(ScalarType::F32, rows * cols); 2],
        bytes: 8.0 * (rows * cols) as f64,
        flops: 5.0 * (rows * cols) as f64,
        tolerance: 1e-5,
        fill: |rng, n| vec![f32_bytes((0..n).map(|_| rng.normal() as f32))],
        reference: |host| {
            let x = f32s(&host[0]);
            let mut r = Vec::with_capacity(x.len());
            for row in x.chunks(1024) {
                let m = row.iter().fold(f64::NEG_INFINITY, |m, &v| m.max(v as f64));
                let e: Vec<f64> = row.iter().map(|&v| (v as f64 - m).exp()).collect();
                let s: f64 = e.iter().sum();
                r.extend(e.iter().map(|v| v / s));
            }
            let n = r.len();
            (r, (0..n).collect())
        },
        config: format!("BLOCK_SIZE={SOFTMAX_BLOCK} num_warps={SOFTMAX_WARPS}"),
    }
}

fn matmul_case(n: usize) -> Case {
    let (bm, bn, bk) = MM_BLOCK;
    let s = n as i64;
    let grid = (n.div_ceil(bm as usize) * n.div_ceil(bn as usize)) as u32;
    Case {
        kernel: "matmul_kernel",
        size: format!("{n}x{n}x{n}"),
        num_warps: MM_WARPS,
        grid: [grid, 1, 1],
        args: vec![
            Value::Buffer(0, ScalarType::F16),
            Value::Buffer(1, ScalarType::F16),
            Value::Buffer(2, ScalarType::F32),
            Value::Int(s),
            Value::Int(s),
            Value::Int(s),
            Value::Int(s),
            Value::Int(1),
            Value::Int(s),
            Value::Int(1),
            Value::Int(s),
            Value::Int(1),
            Value::Constexpr(bm),
            Value::Constexpr(bn),
            Value::Constexpr(bk),
            Value::Constexpr(MM_GROUP_M),
        ],
        buffers: vec![
            (ScalarType::F16, n * n),
            (ScalarType::F16, n * n),
            (ScalarType::F32, n * n),
        ],
        bytes: (2 * 2 * n * n + 4 * n * n) as f64,
        flops: 2.0 * (n as f64).powi(3),
        tolerance: 1e-4,
        fill: |rng, len| {
            let h = |rng: &mut Rng| -> Vec<u8> {
                (0..len)
                    .flat_map(|_| half::f16::from_f64(rng.normal()).to_le_bytes())
                    .collect()
            };
            vec![h(rng), h(rng)]
        },
        reference: |host| {
            // 64 rows spread over the matrix: a full f64 reference at 2048³ would take longer
            // on the host than the whole GPU run.
            let (a, b) = (f16s(&host[0]), f16s(&host[1]));
            let n = (a.len() as f64).sqrt().round() as usize;
            let rows: Vec<usize> = (0..64).map(|i| (i * 997 + 13) % n).collect();
            let mut r = Vec::with_capacity(rows.len() * n);
            let mut idx = Vec::with_capacity(rows.len() * n);
            for &i in &rows {
                let mut acc = vec![0f64; n];
                for k in 0..n {
                    let aik = a[i * n + k] as f64;
                    for (j, c) in acc.iter_mut().enumerate() {
                        *c += aik * b[k * n + j] as f64;
                    }
                }
                r.extend(acc);
                idx.extend((0..n).map(|j| i * n + j));
            }
            (r, idx)
        },
        config: format!(
            "BLOCK_M={bm} BLOCK_N={bn} BLOCK_K={bk} GROUP_M={MM_GROUP_M} num_warps={MM_WARPS}"
        ),
    }
}

fn json_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn kernel_source(file: &Arc<SourceFile>, name: &str) -> FunctionSource {
    let mut globals = Globals::new();
    globals.insert("tl".into(), Binding::Module(ModuleKind::Language));
    globals.insert("triton".into(), Binding::Module(ModuleKind::Triton));
    FunctionSource {
        file: file.clone(),
        name: name.into(),
        globals,
    }
}

fn elem_bytes(t: ScalarType) -> usize {
    t.size_bytes() as usize
}

/// The scalar buffer of one launch, laid out as the ABI says (header left to `launch`).
fn pack_scalars(c: &Compiled, args: &[Value]) -> Result<Vec<u8>> {
    let mut buf = vec![0u8; c.abi.scalar_bytes as usize];
    for slot in &c.abi.scalars {
        let v = match args.get(slot.arg_index) {
            Some(Value::Int(v)) => *v,
            other => return Err(format!("scalar slot {slot:?} is given {other:?}")),
        };
        let n = elem_bytes(slot.ty);
        let at = slot.offset as usize;
        buf.get_mut(at..at + n)
            .ok_or_else(|| format!("scalar slot {slot:?} outside the scalar buffer"))?
            .copy_from_slice(&v.to_le_bytes()[..n]);
    }
    Ok(buf)
}

struct Timing {
    median_us: f64,
    min_us: f64,
    launches_per_batch: usize,
}

/// do_bench's shape on a host clock: warm up, size a batch, median over batches.
fn time_launches(
    dev: &GpuDevice,
    warmup: Duration,
    mut launch: impl FnMut(usize) -> Result<()>,
) -> Result<Timing> {
    let sync = |dev: &GpuDevice| dev.synchronize().map_err(|e| format!("synchronize: {e}"));
    let mut i = 0usize;
    let start = Instant::now();
    let mut warm = 0;
    while start.elapsed() < warmup || warm < 5 {
        launch(i)?;
        i += 1;
        warm += 1;
        if warm % 8 == 0 {
            sync(dev)?;
        }
    }
    sync(dev)?;
    let t = Instant::now();
    for _ in 0..10 {
        launch(i)?;
        i += 1;
    }
    sync(dev)?;
    let each = t.elapsed().as_secs_f64() / 10.0;
    let k = ((BATCH_TARGET.as_secs_f64() / each).ceil() as usize).clamp(1, 2000);
    let mut per_launch = Vec::with_capacity(BATCHES);
    for _ in 0..BATCHES {
        let t = Instant::now();
        for _ in 0..k {
            launch(i)?;
            i += 1;
        }
        sync(dev)?;
        per_launch.push(t.elapsed().as_secs_f64() / k as f64);
    }
    per_launch.sort_by(f64::total_cmp);
    Ok(Timing {
        median_us: per_launch[BATCHES / 2] * 1e6,
        min_us: per_launch[0] * 1e6,
        launches_per_batch: k,
    })
}

struct Prepared {
    pipeline: GpuPipeline,
    scalars: Vec<u8>,
    /// Per set, the buffers in ABI binding order.
    sets: Vec<Vec<GpuBuffer>>,
    /// Host inputs of set 0, for the reference.
    host0: Vec<Vec<u8>>,
}

fn prepare(dev: &GpuDevice, file: &Arc<SourceFile>, case: &Case) -> Result<Prepared> {
    let specs: Vec<ArgSpec> = case.args.iter().map(Value::spec).collect();
    let opts = Options {
        num_warps: case.num_warps,
        ..Options::default()
    };
    let src = kernel_source(file, case.kernel);
    let c = compile(&src, &specs, &opts, dev.target()).map_err(|e| format!("compile: {e}"))?;
    if let Ok(path) = std::env::var("GPU_BENCH_DUMP") {
        // What the device compiled, to read its loads and loops next to the timings.
        use std::io::Write;
        let dumped = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .and_then(|mut f| writeln!(f, "// ==== {} {}\n{}", case.kernel, case.size, c.code));
        if let Err(e) = dumped {
            eprintln!("cannot write {path}: {e}");
        }
    }
    // `GPU_BENCH_WGSL=DIR`: run DIR/<kernel>.wgsl instead of what we compiled (same ABI),
    // to time a hand-edited variant before the compiler learns to print it.
    let code = match std::env::var("GPU_BENCH_WGSL") {
        Ok(dir) => {
            let path = std::path::Path::new(&dir).join(format!("{}.wgsl", case.kernel));
            match std::fs::read_to_string(&path) {
                Ok(text) => {
                    eprintln!("{}: WGSL from {}", case.kernel, path.display());
                    text
                }
                Err(_) => c.code.clone(),
            }
        }
        Err(_) => c.code.clone(),
    };
    let pipeline = dev
        .create_pipeline(&KernelCode::Wgsl(code), &c.abi)
        .map_err(|e| format!("pipeline: {e}"))?;
    let scalars = pack_scalars(&c, &case.args)?;
    // Which set buffer each ABI binding takes.
    let order: Vec<usize> = c
        .abi
        .buffers
        .iter()
        .map(|b| match case.args.get(b.arg_index) {
            Some(Value::Buffer(i, _)) => Ok(*i),
            other => Err(format!("ABI buffer {b:?} is given {other:?}")),
        })
        .collect::<Result<_>>()?;
    let set_bytes: usize = case.buffers.iter().map(|&(t, n)| elem_bytes(t) * n).sum();
    let n_sets = (ROTATE_BYTES.div_ceil(set_bytes as u64) as usize).clamp(1, MAX_SETS);
    let mut rng = Rng(0x5EED_0000 + case.size.len() as u64);
    let mut sets = Vec::with_capacity(n_sets);
    let mut host0 = Vec::new();
    for s in 0..n_sets {
        let inputs = (case.fill)(&mut rng, case.buffers[0].1);
        let mut bufs = Vec::with_capacity(case.buffers.len());
        for data in &inputs {
            bufs.push(dev.buffer_from_bytes(data).map_err(|e| e.to_string())?);
        }
        let &(out_t, out_n) = case.buffers.last().ok_or("a case without buffers")?;
        bufs.push(
            dev.create_buffer((elem_bytes(out_t) * out_n) as u64)
                .map_err(|e| e.to_string())?,
        );
        if s == 0 {
            host0 = inputs;
        }
        sets.push(order.iter().map(|&i| bufs[i].clone()).collect());
    }
    Ok(Prepared {
        pipeline,
        scalars,
        sets,
        host0,
    })
}

/// Poisons set 0's output with NaN, launches once and compares with the f64 reference:
/// ‖out − ref‖ / ‖ref‖, NaN (an unwritten element) failing.
fn verify(dev: &GpuDevice, case: &Case, p: &mut Prepared) -> Result<f64> {
    let out_index = case.buffers.len() - 1;
    // The output's position among the ABI-ordered buffers of a set.
    let abi_pos = p
        .pipeline
        .abi()
        .buffers
        .iter()
        .position(
            |b| matches!(case.args.get(b.arg_index), Some(Value::Buffer(i, _)) if *i == out_index),
        )
        .ok_or("the kernel does not bind its output")?;
    let out = p.sets[0][abi_pos].clone();
    let nan = f32_bytes(std::iter::repeat_n(f32::NAN, out.len() as usize / 4));
    dev.write_buffer(&out, &nan).map_err(|e| e.to_string())?;
    let refs: Vec<&GpuBuffer> = p.sets[0].iter().collect();
    dev.launch(&p.pipeline, case.grid, &mut p.scalars, &refs)
        .map_err(|e| format!("launch: {e}"))?;
    let mut bytes = vec![0u8; out.len() as usize];
    dev.read_buffer(&out, &mut bytes)
        .map_err(|e| format!("read back: {e}"))?;
    let got = f32s(&bytes);
    let (want, at) = (case.reference)(&p.host0);
    let (mut num, mut den) = (0f64, 0f64);
    for (w, &i) in want.iter().zip(&at) {
        let g = got[i] as f64;
        num += (g - w) * (g - w);
        den += w * w;
    }
    Ok((num / den).sqrt())
}

fn run_case(dev: &GpuDevice, file: &Arc<SourceFile>, case: &Case, device: &str, warmup: Duration) {
    let head = format!(
        "\"side\":\"ours\",\"kernel\":{},\"size\":{},\"config\":{},\"device\":{}",
        json_str(case.kernel),
        json_str(&case.size),
        json_str(&case.config),
        json_str(device)
    );
    let fail = |stage: &str, e: String| {
        println!(
            "{{{head},\"error\":{}}}",
            json_str(&format!("{stage}: {e}"))
        );
    };
    let mut p = match prepare(dev, file, case) {
        Ok(p) => p,
        Err(e) => return fail("prepare", e),
    };
    let rel = match verify(dev, case, &mut p) {
        Ok(r) => r,
        Err(e) => return fail("verify", e),
    };
    let ok = rel <= case.tolerance;
    for method in ["rotate", "same"] {
        let sets = if method == "rotate" { p.sets.len() } else { 1 };
        let (pipeline, grid) = (&p.pipeline, case.grid);
        let scalars = &mut p.scalars;
        let all = &p.sets;
        let timing = time_launches(dev, warmup, |i| {
            let refs: Vec<&GpuBuffer> = all[i % sets].iter().collect();
            dev.launch(pipeline, grid, scalars, &refs)
                .map_err(|e| format!("launch: {e}"))
        });
        match timing {
            Ok(t) => {
                let secs = t.median_us * 1e-6;
                println!(
                    "{{{head},\"method\":\"{method}\",\"sets\":{sets},\"median_us\":{:.3},\"min_us\":{:.3},\"launches_per_batch\":{},\"gbps\":{:.1},\"tflops\":{:.3},\"rel_err\":{:e},\"ok\":{ok}}}",
                    t.median_us,
                    t.min_us,
                    t.launches_per_batch,
                    case.bytes / secs / 1e9,
                    case.flops / secs / 1e12,
                    rel
                );
            }
            Err(e) => return fail(method, e),
        }
    }
}

fn main() {
    let mut path = "benchmarks/gpu/kernels.py".to_string();
    let mut small = false;
    let mut only: Option<String> = None;
    let mut warmup_ms = WARMUP_MS;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--small" => small = true,
            "--only" => only = args.next(),
            "--warmup-ms" => match args.next().and_then(|v| v.parse().ok()) {
                Some(ms) => warmup_ms = ms,
                None => {
                    eprintln!("--warmup-ms takes a number of milliseconds");
                    std::process::exit(2);
                }
            },
            "-h" | "--help" => {
                eprintln!(
                    "gpu_bench [KERNELS_PY] [--small] [--only add|softmax|matmul] [--warmup-ms N]"
                );
                return;
            }
            _ => path = a,
        }
    }
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("cannot read {path}: {e}");
            std::process::exit(2);
        }
    };
    let file = SourceFile::new(path.clone(), text, 1);
    let dev = match GpuDevice::open(std::env::var("TRITON_METAL_DEVICE").ok().as_deref()) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("no device: {e}");
            std::process::exit(1);
        }
    };
    let info = dev.adapter_info();
    let device = format!(
        "{} ({} {})",
        dev.description(),
        info.driver,
        info.driver_info
    );
    eprintln!("device: {device}");
    // --small: sizes a CPU Vulkan driver finishes quickly, for checking the program itself.
    let (adds, softmaxes, matmuls): (Vec<usize>, Vec<usize>, Vec<usize>) = if small {
        (vec![1 << 16, 1 << 18], vec![256], vec![128])
    } else {
        (
            vec![1 << 20, 1 << 24, 1 << 28],
            vec![4096, 16384],
            vec![512, 1024, 2048],
        )
    };
    let wanted = |k: &str| only.as_deref().is_none_or(|o| o == k);
    let mut cases = Vec::new();
    if wanted("add") {
        cases.extend(adds.into_iter().map(add_case));
    }
    if wanted("softmax") {
        cases.extend(softmaxes.into_iter().map(|r| softmax_case(r, 1024)));
    }
    if wanted("matmul") {
        cases.extend(matmuls.into_iter().map(matmul_case));
    }
    for case in &cases {
        run_case(&dev, &file, case, &device, Duration::from_millis(warmup_ms));
    }
}
