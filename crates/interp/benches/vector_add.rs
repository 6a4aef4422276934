//! Times vector add over 2^20 f32 elements (BLOCK = 1024, 1024 programs) on the
//! interpreter: `cargo bench -p tm-interp --bench vector_add`.

use std::time::Instant;

use tm_core::{Loc, ScalarType};
use tm_interp::{ArgValue, RunOptions, ScalarValue};
use tm_tile::{BinaryOp, Builder, CmpPred, Function, Type};

fn vector_add(block: u32) -> Function {
    let mut f = Function::new("add_kernel");
    let x = f.add_param("x_ptr", Type::ptr(ScalarType::F32), 0, true);
    let y = f.add_param("y_ptr", Type::ptr(ScalarType::F32), 1, true);
    let o = f.add_param("out_ptr", Type::ptr(ScalarType::F32), 2, true);
    let n = f.add_param("n", Type::scalar(ScalarType::I32), 3, false);
    let mut b = Builder::new(&mut f);
    b.loc = Loc::UNKNOWN;
    let sh = vec![block];
    let pid = b.program_id(0);
    let bs = b.int(ScalarType::I32, block as i64);
    let base = b.binary(BinaryOp::Mul, pid, bs);
    let base = b.splat(base, sh.clone());
    let r = b.make_range(0, block as i32);
    let offs = b.binary(BinaryOp::Add, base, r);
    let nn = b.splat(n, sh.clone());
    let mask = b.cmp(CmpPred::Lt, offs, nn);
    let xp = b.splat(x, sh.clone());
    let xp = b.addptr(xp, offs);
    let xv = b.load(xp, Some(mask), None);
    let yp = b.splat(y, sh.clone());
    let yp = b.addptr(yp, offs);
    let yv = b.load(yp, Some(mask), None);
    let s = b.binary(BinaryOp::Add, xv, yv);
    let op = b.splat(o, sh);
    let op = b.addptr(op, offs);
    b.store(op, s, Some(mask));
    b.ret();
    f
}

fn main() {
    let n: usize = 1 << 20;
    let block = 1024u32;
    let f = vector_add(block);
    let mut xb: Vec<u8> = (0..n).flat_map(|i| (i as f32).to_le_bytes()).collect();
    let mut yb: Vec<u8> = (0..n)
        .flat_map(|i| (2.0 * i as f32).to_le_bytes())
        .collect();
    let mut ob = vec![0u8; n * 4];
    let grid = [(n as u32).div_ceil(block), 1, 1];
    let opts = RunOptions { echo_prints: false };
    let mut times = Vec::new();
    for _ in 0..12 {
        let mut args = [
            ArgValue::Buffer {
                data: &mut xb,
                elem: ScalarType::F32,
            },
            ArgValue::Buffer {
                data: &mut yb,
                elem: ScalarType::F32,
            },
            ArgValue::Buffer {
                data: &mut ob,
                elem: ScalarType::F32,
            },
            ArgValue::Scalar(ScalarValue::I32(n as i32)),
            ArgValue::Absent,
        ];
        let t = Instant::now();
        tm_interp::run(&f, grid, &mut args, &opts).expect("vector add runs");
        times.push(t.elapsed().as_secs_f64());
    }
    // The first run warms caches and the allocator; report the median of the rest.
    let mut rest = times[2..].to_vec();
    rest.sort_by(|a, b| a.total_cmp(b));
    let med = rest[rest.len() / 2];
    let check = f32::from_le_bytes([ob[12], ob[13], ob[14], ob[15]]);
    assert_eq!(check, 9.0);
    println!(
        "interp vector_add n=2^20 block={block}: median {:.2} ms ({:.1} M elements/s), min {:.2} ms",
        med * 1e3,
        n as f64 / med / 1e6,
        rest[0] * 1e3
    );
}
