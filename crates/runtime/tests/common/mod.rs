//! Shared by the integration tests: opening the device (or explaining why not) and
//! writing kernels the way the WGSL printer does (docs/CONVENTIONS.md).

#![allow(dead_code)]

use tm_core::{BufferBinding, KernelAbi, ScalarSlot, ScalarType};
use tm_runtime::GpuDevice;

/// A fresh device, or None (after saying why) when this machine has no adapter. With
/// TRITON_METAL_REQUIRE_GPU=1 (CI) a missing adapter fails the test instead.
pub fn device() -> Option<GpuDevice> {
    // One device per test process, as a real program has: tests also check that it can
    // be shared by threads.
    // TM_TEST_FRESH_DEVICES=1 gives every test its own device instead: a stress test of
    // opening and closing devices from many threads.
    if std::env::var("TM_TEST_FRESH_DEVICES").is_ok_and(|v| v == "1") {
        return fresh_device();
    }
    static SHARED: std::sync::OnceLock<Option<GpuDevice>> = std::sync::OnceLock::new();
    SHARED.get_or_init(fresh_device).clone()
}

/// A device of its own, for tests that count what happens on it.
pub fn fresh_device() -> Option<GpuDevice> {
    let selector = std::env::var("TRITON_METAL_DEVICE").ok();
    match GpuDevice::open(selector.as_deref()) {
        Ok(d) => Some(d),
        Err(e) => {
            if std::env::var("TRITON_METAL_REQUIRE_GPU").is_ok_and(|v| v == "1") {
                panic!("TRITON_METAL_REQUIRE_GPU=1 but no device could be opened: {e}");
            }
            eprintln!(
                "skipping: no GPU device ({e}); set TRITON_METAL_REQUIRE_GPU=1 to fail instead"
            );
            None
        }
    }
}

pub fn is_lavapipe(dev: &GpuDevice) -> bool {
    dev.adapter_info().name.contains("llvmpipe")
}

/// The kernel prologue of CONVENTIONS.md: recovers the linear program id and the three
/// program ids from the workgroup id and the header, and returns past the end.
pub fn prologue(max_grid_dim: u32) -> String {
    format!(
        "    let tm_gx = tm_scalars[0];
    let tm_gy = tm_scalars[1];
    let tm_gz = tm_scalars[2];
    let tm_linear = tm_group.x + tm_scalars[3] * (tm_group.y + {max_grid_dim}u * tm_group.z);
    if (tm_linear >= tm_gx * tm_gy * tm_gz) {{ return; }}
    let pid0 = tm_linear % tm_gx;
    let pid1 = (tm_linear / tm_gx) % tm_gy;
    let pid2 = tm_linear / (tm_gx * tm_gy);
"
    )
}

/// A kernel in the printer's shape: the scalar buffer, the given buffer declarations
/// (binding 1, 2, ...), the two builtins, the prologue, then `body`.
pub fn kernel(
    dev: &GpuDevice,
    enables: &str,
    name: &str,
    threads: u32,
    buffers: &[(&str, bool)],
    body: &str,
) -> String {
    let mut s = String::from(enables);
    s.push_str("@group(0) @binding(0) var<storage, read> tm_scalars: array<u32>;\n");
    for (i, (elem, writes)) in buffers.iter().enumerate() {
        let access = if *writes { "read_write" } else { "read" };
        s.push_str(&format!(
            "@group(0) @binding({}) var<storage, {access}> b{i}: array<{elem}>;\n",
            i + 1
        ));
    }
    s.push_str(&format!(
        "@compute @workgroup_size({threads})
fn {name}(@builtin(workgroup_id) tm_group: vec3<u32>,
        @builtin(local_invocation_index) tm_tid: u32) {{
{}{body}
}}
",
        prologue(dev.target().max_grid_dim)
    ));
    s
}

/// An ABI with the given buffers (element type, writes) and scalars (type), scalars laid
/// out after the header at their natural alignment.
pub fn abi(
    name: &str,
    threads: u32,
    buffers: &[(ScalarType, bool)],
    scalars: &[ScalarType],
) -> KernelAbi {
    let mut offset = tm_core::SCALAR_HEADER_BYTES;
    let mut slots = Vec::new();
    for (i, ty) in scalars.iter().enumerate() {
        let size = match ty {
            ScalarType::I64 | ScalarType::U64 | ScalarType::F64 => 8,
            _ => 4,
        };
        offset = offset.next_multiple_of(size);
        slots.push(ScalarSlot {
            arg_index: buffers.len() + i,
            offset,
            ty: *ty,
        });
        offset += size;
    }
    KernelAbi {
        entry: name.into(),
        threads_per_group: threads,
        buffers: buffers
            .iter()
            .enumerate()
            .map(|(i, (elem, writes))| BufferBinding {
                arg_index: i,
                binding: i as u32 + 1,
                elem: *elem,
                reads: true,
                writes: *writes,
            })
            .collect(),
        scratch: vec![],
        scalars: slots,
        scalar_bytes: offset.next_multiple_of(16),
        shared_bytes: 0,
        debug: None,
    }
}

pub fn f32_bytes(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

pub fn f32_from(b: &[u8]) -> Vec<f32> {
    b.chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

pub fn u32_from(b: &[u8]) -> Vec<u32> {
    b.chunks_exact(4)
        .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

/// A zeroed scalar buffer for `abi` with `values` written at their slots.
pub fn scalars(abi: &KernelAbi, values: &[&[u8]]) -> Vec<u8> {
    let mut s = vec![0u8; abi.scalar_bytes as usize];
    for (slot, v) in abi.scalars.iter().zip(values) {
        let at = slot.offset as usize;
        s[at..at + v.len()].copy_from_slice(v);
    }
    s
}
