//! Host cost of one launch (recording only, and recording plus execution of a trivial
//! kernel). `cargo run --release -p tm-runtime --example launch_overhead`

use std::time::Instant;

use tm_core::{BufferBinding, KernelAbi, ScalarType};
use tm_runtime::{GpuDevice, KernelCode};

const SRC: &str = "@group(0) @binding(0) var<storage, read> tm_scalars: array<u32>;
@group(0) @binding(1) var<storage, read_write> b0: array<u32>;
@compute @workgroup_size(32)
fn bump(@builtin(workgroup_id) tm_group: vec3<u32>,
        @builtin(local_invocation_index) tm_tid: u32) {
    if (tm_tid == 0u) { b0[0] = b0[0] + tm_scalars[4]; }
}";

fn main() {
    let dev = match GpuDevice::open(std::env::var("TRITON_METAL_DEVICE").ok().as_deref()) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    };
    println!("{}", dev.description());
    let abi = KernelAbi {
        entry: "bump".into(),
        threads_per_group: 32,
        buffers: vec![BufferBinding {
            arg_index: 0,
            binding: 1,
            elem: ScalarType::U32,
            reads: true,
            writes: true,
        }],
        scratch: vec![],
        scalars: vec![],
        scalar_bytes: 32,
        shared_bytes: 0,
        debug: None,
    };
    let p = dev
        .create_pipeline(&KernelCode::Wgsl(SRC.into()), &abi)
        .expect("pipeline");
    let buf = dev.create_buffer(4).expect("buffer");
    let n = 20_000u32;
    let mut s = [0u8; 32];
    s[16..20].copy_from_slice(&1u32.to_le_bytes());
    // Warm the bind-group cache and the driver.
    dev.launch(&p, [1, 1, 1], &mut s, &[&buf]).expect("launch");
    dev.synchronize().expect("sync");

    let t = Instant::now();
    for _ in 0..n {
        dev.launch(&p, [1, 1, 1], &mut s, &[&buf]).expect("launch");
    }
    let record = t.elapsed();
    dev.synchronize().expect("sync");
    let total = t.elapsed();
    let mut out = [0u8; 4];
    dev.read_buffer(&buf, &mut out).expect("read");
    assert_eq!(u32::from_le_bytes(out), n + 1);
    println!(
        "{n} launches: {:.2} us/launch host time (launch calls incl. batch submits), {:.2} us/launch until done",
        record.as_secs_f64() * 1e6 / n as f64,
        total.as_secs_f64() * 1e6 / n as f64
    );
}
