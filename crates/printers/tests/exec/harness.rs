//! Runs Tile IR kernels end to end on both engines: lowered for the Apple target and printed
//! as MSL for the emulator (clang + our Metal shim on the CPU), and lowered for the opened
//! wgpu device (lavapipe here) and printed as WGSL. Callers compare both results with a
//! Rust reference.

#![allow(dead_code)]

use std::sync::OnceLock;

use tm_core::Target;
use tm_msl_emu::{Emulator, RunOptions};
use tm_printers::{print_msl, print_wgsl};
use tm_runtime::{GpuDevice, KernelCode};

/// One kernel argument, in parameter order.
#[derive(Clone, Debug)]
pub enum Arg {
    Buf(Vec<u8>),
    I32(i32),
    F32(f32),
}

pub fn f32s(v: &[f32]) -> Arg {
    Arg::Buf(v.iter().flat_map(|x| x.to_le_bytes()).collect())
}

pub fn i32s(v: &[i32]) -> Arg {
    Arg::Buf(v.iter().flat_map(|x| x.to_le_bytes()).collect())
}

pub fn u32s(v: &[u32]) -> Arg {
    Arg::Buf(v.iter().flat_map(|x| x.to_le_bytes()).collect())
}

pub fn u16s(v: &[u16]) -> Arg {
    Arg::Buf(v.iter().flat_map(|x| x.to_le_bytes()).collect())
}

pub fn i8s(v: &[i8]) -> Arg {
    Arg::Buf(v.iter().map(|&x| x as u8).collect())
}

pub fn as_f32(b: &[u8]) -> Vec<f32> {
    b.chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

pub fn as_i32(b: &[u8]) -> Vec<i32> {
    b.chunks_exact(4)
        .map(|c| i32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

pub fn as_u32(b: &[u8]) -> Vec<u32> {
    b.chunks_exact(4)
        .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

pub fn as_u16(b: &[u8]) -> Vec<u16> {
    b.chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .collect()
}

fn emulator() -> &'static Emulator {
    static EMU: OnceLock<Emulator> = OnceLock::new();
    EMU.get_or_init(|| {
        let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("msl-emu-cache");
        Emulator::with_cache_dir(dir).expect("clang-19 is installed in this workplace")
    })
}

/// The wgpu device, or None (after saying why) when no adapter exists and
/// TRITON_METAL_REQUIRE_GPU is unset.
pub fn device() -> Option<&'static GpuDevice> {
    static DEV: OnceLock<Option<GpuDevice>> = OnceLock::new();
    DEV.get_or_init(|| match GpuDevice::open(None) {
        Ok(d) => Some(d),
        Err(e) => {
            if std::env::var("TRITON_METAL_REQUIRE_GPU").is_ok_and(|v| !v.is_empty() && v != "0") {
                panic!("TRITON_METAL_REQUIRE_GPU is set but no device opens: {e}");
            }
            eprintln!("skipping the wgpu run: no GPU device ({e})");
            None
        }
    })
    .as_ref()
}

pub fn parse(tile: &str) -> tm_tile::Function {
    tm_tile::parse(tile).unwrap_or_else(|e| panic!("parse: {e:?}\n{tile}"))
}

fn scalar_bytes(abi: &tm_core::KernelAbi, args: &[Arg]) -> Vec<u8> {
    let mut s = vec![0u8; abi.scalar_bytes as usize];
    for slot in &abi.scalars {
        let bytes = match &args[slot.arg_index] {
            Arg::I32(v) => v.to_le_bytes(),
            Arg::F32(v) => v.to_le_bytes(),
            Arg::Buf(_) => panic!("argument {} is a buffer", slot.arg_index),
        };
        let o = slot.offset as usize;
        s[o..o + 4].copy_from_slice(&bytes);
    }
    s
}

fn buffers_of(abi: &tm_core::KernelAbi, args: &[Arg]) -> Vec<Vec<u8>> {
    abi.buffers
        .iter()
        .map(|b| match &args[b.arg_index] {
            Arg::Buf(v) => v.clone(),
            _ => panic!("argument {} is not a buffer", b.arg_index),
        })
        .collect()
}

/// The buffers after the run, by argument index (scalars give empty vectors).
fn by_arg(abi: &tm_core::KernelAbi, args: &[Arg], bufs: Vec<Vec<u8>>) -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = args
        .iter()
        .map(|a| match a {
            Arg::Buf(v) => v.clone(),
            _ => Vec::new(),
        })
        .collect();
    for (b, data) in abi.buffers.iter().zip(bufs) {
        out[b.arg_index] = data;
    }
    out
}

/// Lowered for the Apple target, printed as MSL, run on the emulator (with its race check).
pub fn run_msl(f: &tm_tile::Function, grid: [u32; 3], warps: u32, args: &[Arg]) -> Vec<Vec<u8>> {
    run_msl_opts(f, grid, warps, args, true)
}

/// As `run_msl`; `check_races: false` for kernels whose results legitimately depend on the
/// order of threads (old values of contended atomics).
pub fn run_msl_opts(
    f: &tm_tile::Function,
    grid: [u32; 3],
    warps: u32,
    args: &[Arg],
    check_races: bool,
) -> Vec<Vec<u8>> {
    let k = tm_simt::lower(f, &Target::msl_emulator(), warps)
        .unwrap_or_else(|e| panic!("lowering for MSL: {e}"));
    let msl = print_msl(&k).unwrap_or_else(|e| panic!("printing MSL: {e}"));
    let ek = emulator()
        .compile(&msl, &k.abi)
        .unwrap_or_else(|e| panic!("emulator compile: {e}\n{msl}"));
    let mut scalars = scalar_bytes(&k.abi, args);
    let mut bufs = buffers_of(&k.abi, args);
    {
        let mut refs: Vec<&mut [u8]> = bufs.iter_mut().map(|b| b.as_mut_slice()).collect();
        ek.launch(grid, &mut scalars, &mut refs, &RunOptions { check_races })
            .unwrap_or_else(|e| panic!("emulator run: {e}\n{msl}"));
    }
    by_arg(&k.abi, args, bufs)
}

/// Lowered for the device's target, printed as WGSL, run through wgpu. None without a device.
pub fn run_wgsl(
    f: &tm_tile::Function,
    grid: [u32; 3],
    warps: u32,
    args: &[Arg],
) -> Option<Vec<Vec<u8>>> {
    let dev = device()?;
    let k = tm_simt::lower(f, dev.target(), warps)
        .unwrap_or_else(|e| panic!("lowering for {}: {e}", dev.target().name));
    let wgsl = print_wgsl(&k).unwrap_or_else(|e| panic!("printing WGSL: {e}"));
    let p = dev
        .create_pipeline(&KernelCode::Wgsl(wgsl.clone()), &k.abi)
        .unwrap_or_else(|e| panic!("pipeline: {e}\n{wgsl}"));
    let mut scalars = scalar_bytes(&k.abi, args);
    let host = buffers_of(&k.abi, args);
    let gpu: Vec<_> = host
        .iter()
        .map(|b| dev.buffer_from_bytes(b).expect("buffer"))
        .collect();
    let refs: Vec<_> = gpu.iter().collect();
    dev.launch(&p, grid, &mut scalars, &refs)
        .unwrap_or_else(|e| panic!("launch: {e}\n{wgsl}"));
    let out = host
        .iter()
        .zip(&gpu)
        .map(|(h, g)| {
            let mut v = vec![0u8; h.len()];
            dev.read_buffer(g, &mut v).expect("read back");
            v
        })
        .collect();
    Some(by_arg(&k.abi, args, out))
}

/// Runs on both engines and calls `check(engine, buffers by argument index)` for each.
pub fn run_both(
    tile: &str,
    grid: [u32; 3],
    warps: u32,
    args: &[Arg],
    check: impl FnMut(&str, &[Vec<u8>]),
) {
    run_both_opts(tile, grid, warps, args, true, check)
}

/// As `run_both`, choosing whether the emulator checks for races (see `run_msl_opts`).
pub fn run_both_opts(
    tile: &str,
    grid: [u32; 3],
    warps: u32,
    args: &[Arg],
    check_races: bool,
    mut check: impl FnMut(&str, &[Vec<u8>]),
) {
    let f = parse(tile);
    let msl = run_msl_opts(&f, grid, warps, args, check_races);
    check("msl-emu", &msl);
    if let Some(w) = run_wgsl(&f, grid, warps, args) {
        check("wgpu", &w);
    }
}
