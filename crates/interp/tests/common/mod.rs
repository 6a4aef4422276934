//! Helpers shared by the interpreter's tests: buffers as typed vectors, and kernel builders.
#![allow(dead_code)]

use tm_core::{Loc, ScalarType, SourceFile};
use tm_interp::{ArgValue, InterpError, RunOptions, RunReport};
use tm_tile::{Builder, Function, Type, ValueId};

pub trait Le: Copy {
    const ST: ScalarType;
    fn put(self, out: &mut Vec<u8>);
    fn get(b: &[u8]) -> Self;
}

macro_rules! le {
    ($t:ty, $st:ident, $n:literal) => {
        impl Le for $t {
            const ST: ScalarType = ScalarType::$st;
            fn put(self, out: &mut Vec<u8>) {
                out.extend_from_slice(&self.to_le_bytes());
            }
            fn get(b: &[u8]) -> Self {
                let mut a = [0u8; $n];
                a.copy_from_slice(&b[..$n]);
                <$t>::from_le_bytes(a)
            }
        }
    };
}

le!(f32, F32, 4);
le!(i32, I32, 4);
le!(i64, I64, 8);
le!(u32, U32, 4);
le!(i8, I8, 1);
le!(half::f16, F16, 2);

pub fn bytes<T: Le>(v: &[T]) -> Vec<u8> {
    let mut out = Vec::with_capacity(v.len() * 8);
    for &x in v {
        x.put(&mut out);
    }
    out
}

pub fn from_bytes<T: Le>(b: &[u8]) -> Vec<T> {
    let n = T::ST.size_bytes() as usize;
    b.chunks_exact(n).map(T::get).collect()
}

pub fn buf<T: Le>(data: &mut [u8]) -> ArgValue<'_> {
    ArgValue::Buffer { data, elem: T::ST }
}

pub fn quiet() -> RunOptions {
    RunOptions { echo_prints: false }
}

#[allow(clippy::result_large_err)]
pub fn run(
    f: &Function,
    grid: [u32; 3],
    args: &mut [ArgValue<'_>],
) -> Result<RunReport, InterpError> {
    tm_interp::run(f, grid, args, &quiet())
}

/// A function whose ops can be given source lines of `source` (a file starting at line 1).
pub fn function(name: &str, path: &str, source: &str) -> Function {
    let mut f = Function::new(name);
    f.files.push(SourceFile::new(path, source, 1));
    f
}

pub fn at(b: &mut Builder, line: u32, col: u32) {
    b.loc = Loc::new(0, line, col);
}

pub fn splat_i32(b: &mut Builder, v: i64, shape: Vec<u32>) -> ValueId {
    let s = b.int(ScalarType::I32, v);
    b.splat(s, shape)
}

pub fn ptr(s: ScalarType) -> Type {
    Type::ptr(s)
}

pub const VECTOR_ADD_SRC: &str = "\
@triton.jit
def add_kernel(x_ptr, y_ptr, out_ptr, n, BLOCK: tl.constexpr):
    pid = tl.program_id(0)
    offs = pid * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    x = tl.load(x_ptr + offs, mask=mask)
    y = tl.load(y_ptr + offs, mask=mask)
    tl.store(out_ptr + offs, x + y, mask=mask)
";

/// `add_kernel` above, lowered by hand; `masked = false` drops the mask of the `x` load
/// (line 6) to provoke an out-of-bounds access.
pub fn vector_add(block: u32, masked: bool) -> Function {
    use tm_tile::{BinaryOp, CmpPred};
    let mut f = function("add_kernel", "kernels/add.py", VECTOR_ADD_SRC);
    let x = f.add_param("x_ptr", ptr(ScalarType::F32), 0, true);
    let y = f.add_param("y_ptr", ptr(ScalarType::F32), 1, true);
    let o = f.add_param("out_ptr", ptr(ScalarType::F32), 2, true);
    let n = f.add_param("n", Type::scalar(ScalarType::I32), 3, false);
    let mut b = Builder::new(&mut f);
    let sh = vec![block];
    at(&mut b, 3, 11);
    let pid = b.program_id(0);
    at(&mut b, 4, 12);
    let bs = b.int(ScalarType::I32, block as i64);
    let base = b.binary(BinaryOp::Mul, pid, bs);
    let base = b.splat(base, sh.clone());
    let r = b.make_range(0, block as i32);
    let offs = b.binary(BinaryOp::Add, base, r);
    at(&mut b, 5, 12);
    let nn = b.splat(n, sh.clone());
    let mask = b.cmp(CmpPred::Lt, offs, nn);
    at(&mut b, 6, 9);
    let xp = b.splat(x, sh.clone());
    let xp = b.addptr(xp, offs);
    let xv = b.load(xp, masked.then_some(mask), None);
    at(&mut b, 7, 9);
    let yp = b.splat(y, sh.clone());
    let yp = b.addptr(yp, offs);
    let yv = b.load(yp, Some(mask), None);
    at(&mut b, 8, 5);
    let s = b.binary(BinaryOp::Add, xv, yv);
    let op = b.splat(o, sh);
    let op = b.addptr(op, offs);
    b.store(op, s, Some(mask));
    b.ret();
    f
}
