use std::sync::OnceLock;

use tm_core::{BufferBinding, KernelAbi, ScalarSlot, ScalarType};
use tm_msl_emu::{EmuError, EmuKernel, Emulator, RunOptions};

pub fn emulator() -> &'static Emulator {
    static EMU: OnceLock<Emulator> = OnceLock::new();
    EMU.get_or_init(|| {
        let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("msl-emu-cache");
        Emulator::with_cache_dir(dir).expect("clang-19 is installed in this workplace")
    })
}

/// The conventional signature: scalars at buffer(0), then `device T *bK [[buffer(K+1)]]`.
pub fn msl(name: &str, buffer_types: &[&str], body: &str) -> String {
    let mut params = vec!["constant uchar *tm_scalars [[buffer(0)]]".to_string()];
    for (k, t) in buffer_types.iter().enumerate() {
        params.push(format!("device {t} *b{k} [[buffer({})]]", k + 1));
    }
    params.push("uint3 tm_group [[threadgroup_position_in_grid]]".into());
    params.push("uint tm_tid [[thread_index_in_threadgroup]]".into());
    format!(
        "#include <metal_stdlib>\nusing namespace metal;\nkernel void {name}({}) {{\n{body}\n}}\n",
        params.join(",\n    ")
    )
}

/// The kernel prologue of CONVENTIONS.md: `pid` from the folded dispatch, early return past
/// the end of the grid.
pub const PROLOGUE: &str = "  uint gx = *(constant uint *)(tm_scalars + 0);
  uint gy = *(constant uint *)(tm_scalars + 4);
  uint gz = *(constant uint *)(tm_scalars + 8);
  uint dx = *(constant uint *)(tm_scalars + 12);
  uint linear = tm_group.x + dx * (tm_group.y + 65535u * tm_group.z);
  if (linear >= gx * gy * gz) return;
  uint pid = linear % gx;
  (void)pid;";

pub fn abi(name: &str, threads: u32, buffers: &[ScalarType], scalars: &[ScalarType]) -> KernelAbi {
    let buffers = buffers
        .iter()
        .enumerate()
        .map(|(k, &elem)| BufferBinding {
            arg_index: k,
            binding: k as u32 + 1,
            elem,
            reads: true,
            writes: true,
        })
        .collect();
    let mut offset = 16u32;
    let scalars: Vec<ScalarSlot> = scalars
        .iter()
        .enumerate()
        .map(|(k, &ty)| {
            let size = ty.size_bytes();
            offset = offset.div_ceil(size) * size;
            let slot = ScalarSlot {
                arg_index: 100 + k,
                offset,
                ty,
            };
            offset += size;
            slot
        })
        .collect();
    KernelAbi {
        entry: name.to_string(),
        threads_per_group: threads,
        buffers,
        scratch: vec![],
        scalars,
        scalar_bytes: offset.div_ceil(16) * 16,
        shared_bytes: 0,
        debug: None,
    }
}

pub fn compile(msl: &str, abi: &KernelAbi) -> EmuKernel {
    match emulator().compile(msl, abi) {
        Ok(k) => k,
        Err(e) => panic!("{e}"),
    }
}

pub fn f32_bytes(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

pub fn f32s(b: &[u8]) -> Vec<f32> {
    b.chunks_exact(4)
        .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
        .collect()
}

pub fn u32s(b: &[u8]) -> Vec<u32> {
    b.chunks_exact(4)
        .map(|c| u32::from_le_bytes(c.try_into().unwrap()))
        .collect()
}

pub fn i32s(b: &[u8]) -> Vec<i32> {
    b.chunks_exact(4)
        .map(|c| i32::from_le_bytes(c.try_into().unwrap()))
        .collect()
}

/// Scalar buffer with the header left zero and `words` (u32) after it.
pub fn scalars(abi: &KernelAbi, words: &[u32]) -> Vec<u8> {
    let mut s = vec![0u8; abi.scalar_bytes as usize];
    for (k, w) in words.iter().enumerate() {
        s[16 + 4 * k..20 + 4 * k].copy_from_slice(&w.to_le_bytes());
    }
    s
}

pub fn run(
    k: &EmuKernel,
    grid: [u32; 3],
    scalars: &mut [u8],
    buffers: &mut [&mut [u8]],
    check_races: bool,
) -> Result<(), EmuError> {
    k.launch(grid, scalars, buffers, &RunOptions { check_races })
}

/// A small deterministic generator (xorshift) for test data.
pub struct Rng(pub u64);

impl Rng {
    pub fn next_u32(&mut self) -> u32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 16) as u32
    }

    /// Uniform in [-1, 1).
    pub fn unit(&mut self) -> f32 {
        (self.next_u32() % 2000) as f32 / 1000.0 - 1.0
    }
}
