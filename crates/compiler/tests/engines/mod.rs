//! The three engines a generated kernel runs on, behind one argument form (`gen::Arg`):
//! the interpreter, WGSL on the wgpu device (lavapipe in CI) and MSL on the emulator.
//! Each returns the buffers after the run, by argument index (scalars give empty vectors),
//! or a message saying what failed.
//!
//! The device and the emulator are opened once per test process. When one is missing the
//! engine is skipped with a printed reason, unless TRITON_METAL_REQUIRE_GPU=1 asks for a
//! failure instead.

#![allow(dead_code)]

use std::sync::OnceLock;

use tm_compiler::{lower_tile, Options};
use tm_core::{KernelAbi, Target};
use tm_interp::gen::Arg;
use tm_interp::{ArgValue, RunOptions, ScalarValue};
use tm_msl_emu::Emulator;
use tm_runtime::{GpuDevice, KernelCode};

pub type Buffers = Vec<Vec<u8>>;

fn require_gpu() -> bool {
    std::env::var("TRITON_METAL_REQUIRE_GPU").as_deref() == Ok("1")
}

/// The wgpu device, or None after printing why.
pub fn device() -> Option<&'static GpuDevice> {
    static DEV: OnceLock<Option<GpuDevice>> = OnceLock::new();
    DEV.get_or_init(|| match GpuDevice::open(None) {
        Ok(d) => {
            eprintln!("wgpu engine: {}", d.description());
            Some(d)
        }
        Err(e) => {
            assert!(
                !require_gpu(),
                "TRITON_METAL_REQUIRE_GPU=1 but no wgpu device opens: {e}"
            );
            eprintln!("skipping the wgpu engine: no device ({e})");
            None
        }
    })
    .as_ref()
}

/// The MSL emulator, or None after printing why. Compiled kernels are cached under the
/// target directory, so a rerun of the same seed does not call clang again.
pub fn emulator() -> Option<&'static Emulator> {
    static EMU: OnceLock<Option<Emulator>> = OnceLock::new();
    EMU.get_or_init(|| {
        let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("msl-emu-cache");
        match Emulator::with_cache_dir(dir) {
            Ok(e) => Some(e),
            Err(e) => {
                assert!(
                    !require_gpu(),
                    "TRITON_METAL_REQUIRE_GPU=1 but the MSL emulator is unavailable: {e}"
                );
                eprintln!("skipping the MSL emulator engine: {e}");
                None
            }
        }
    })
    .as_ref()
}

pub fn run_interp(f: &tm_tile::Function, grid: [u32; 3], args: &[Arg]) -> Result<Buffers, String> {
    let mut bufs: Buffers = args
        .iter()
        .map(|a| match a {
            Arg::Buffer(_, d) => d.clone(),
            _ => Vec::new(),
        })
        .collect();
    let mut values: Vec<ArgValue> = args
        .iter()
        .zip(bufs.iter_mut())
        .map(|(a, data)| match a {
            Arg::Buffer(st, _) => ArgValue::Buffer { data, elem: *st },
            Arg::I32(x) => ArgValue::Scalar(ScalarValue::I32(*x)),
            Arg::F32(x) => ArgValue::Scalar(ScalarValue::F32(*x)),
        })
        .collect();
    let opts = RunOptions { echo_prints: false };
    tm_interp::run(f, grid, &mut values, &opts).map_err(|e| format!("interpreter: {e}"))?;
    drop(values);
    Ok(bufs)
}

/// The scalar buffer as `KernelAbi::scalars` lays it out, header left zero (the launchers
/// write it), as the Python layer packs it.
fn pack_scalars(abi: &KernelAbi, args: &[Arg]) -> Result<Vec<u8>, String> {
    let mut buf = vec![0u8; abi.scalar_bytes as usize];
    for slot in &abi.scalars {
        let bytes: Vec<u8> = match args.get(slot.arg_index) {
            Some(Arg::I32(v)) => int_bytes(*v as i64, slot.ty)?,
            Some(Arg::F32(v)) => float_bytes(*v, slot.ty)?,
            other => return Err(format!("ABI scalar slot {slot:?} is given {other:?}")),
        };
        let at = slot.offset as usize;
        buf.get_mut(at..at + bytes.len())
            .ok_or_else(|| format!("scalar slot {slot:?} outside the scalar buffer"))?
            .copy_from_slice(&bytes);
    }
    Ok(buf)
}

fn int_bytes(v: i64, ty: tm_core::ScalarType) -> Result<Vec<u8>, String> {
    let n = ty.size_bytes() as usize;
    if ty.is_float() {
        return Err(format!("an int argument for a {ty} slot"));
    }
    Ok(v.to_le_bytes()[..n].to_vec())
}

fn float_bytes(v: f32, ty: tm_core::ScalarType) -> Result<Vec<u8>, String> {
    use tm_core::ScalarType as S;
    Ok(match ty {
        S::F32 => v.to_le_bytes().to_vec(),
        S::F16 => half::f16::from_f32(v).to_bits().to_le_bytes().to_vec(),
        S::BF16 => half::bf16::from_f32(v).to_bits().to_le_bytes().to_vec(),
        S::F64 => (v as f64).to_le_bytes().to_vec(),
        _ => return Err(format!("a float argument for a {ty} slot")),
    })
}

fn buffers_of(abi: &KernelAbi, args: &[Arg]) -> Result<Buffers, String> {
    abi.buffers
        .iter()
        .map(|b| match args.get(b.arg_index) {
            Some(Arg::Buffer(_, d)) => Ok(d.clone()),
            other => Err(format!("ABI buffer {b:?} is given {other:?}")),
        })
        .collect()
}

/// The buffers after the run by argument index: inputs the kernel never binds keep their
/// contents.
fn by_arg(abi: &KernelAbi, args: &[Arg], bufs: Buffers) -> Buffers {
    let mut out: Buffers = args
        .iter()
        .map(|a| match a {
            Arg::Buffer(_, d) => d.clone(),
            _ => Vec::new(),
        })
        .collect();
    for (b, data) in abi.buffers.iter().zip(bufs) {
        out[b.arg_index] = data;
    }
    out
}

/// Lowered for the device's target, printed as WGSL and run through wgpu.
pub fn run_wgpu(
    dev: &GpuDevice,
    f: &tm_tile::Function,
    num_warps: u32,
    grid: [u32; 3],
    args: &[Arg],
) -> Result<Buffers, String> {
    let opts = Options {
        num_warps,
        ..Options::default()
    };
    let c = lower_tile(f.clone(), &opts, dev.target()).map_err(|e| format!("lowering: {e}"))?;
    let code = KernelCode::Wgsl(c.code.clone());
    let p = dev
        .create_pipeline(&code, &c.abi)
        .map_err(|e| format!("pipeline: {e}\n{}", c.code))?;
    let mut scalars = pack_scalars(&c.abi, args)?;
    let host = buffers_of(&c.abi, args)?;
    let gpu = host
        .iter()
        .map(|b| dev.buffer_from_bytes(b))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("buffer: {e}"))?;
    let refs: Vec<_> = gpu.iter().collect();
    dev.launch(&p, grid, &mut scalars, &refs)
        .map_err(|e| format!("launch: {e}"))?;
    let mut out = Vec::with_capacity(host.len());
    for (h, g) in host.iter().zip(&gpu) {
        let mut v = vec![0u8; h.len()];
        dev.read_buffer(g, &mut v)
            .map_err(|e| format!("read back: {e}"))?;
        out.push(v);
    }
    Ok(by_arg(&c.abi, args, out))
}

/// Lowered for the Apple target, printed as MSL and run on the emulator, with its race check
/// (the grid runs twice in different thread orders) when `check_races`.
pub fn run_emu(
    emu: &Emulator,
    f: &tm_tile::Function,
    num_warps: u32,
    grid: [u32; 3],
    args: &[Arg],
    check_races: bool,
) -> Result<Buffers, String> {
    let opts = Options {
        num_warps,
        ..Options::default()
    };
    let c = lower_tile(f.clone(), &opts, &Target::msl_emulator())
        .map_err(|e| format!("lowering: {e}"))?;
    let k = emu
        .compile(&c.code, &c.abi)
        .map_err(|e| format!("emulator compile: {e}\n{}", c.code))?;
    let mut scalars = pack_scalars(&c.abi, args)?;
    let mut bufs = buffers_of(&c.abi, args)?;
    {
        let mut refs: Vec<&mut [u8]> = bufs.iter_mut().map(|b| b.as_mut_slice()).collect();
        k.launch(
            grid,
            &mut scalars,
            &mut refs,
            &tm_msl_emu::RunOptions { check_races },
        )
        .map_err(|e| format!("emulator run: {e}"))?;
    }
    Ok(by_arg(&c.abi, args, bufs))
}
