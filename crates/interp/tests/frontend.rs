//! Python kernel source compiled by tm-frontend and run on the interpreter.

mod common;

use std::collections::BTreeMap;

use common::*;
use tm_core::{ScalarType, SourceFile};
use tm_frontend::{ArgSpec, Binding, ConstValue, FunctionSource, ModuleKind};
use tm_interp::{ArgValue, InterpError, ScalarValue};

fn compile(src: &str, name: &str, args: &[ArgSpec]) -> tm_tile::Function {
    let mut globals = BTreeMap::new();
    globals.insert("tl".to_string(), Binding::Module(ModuleKind::Language));
    globals.insert("triton".to_string(), Binding::Module(ModuleKind::Triton));
    let k = FunctionSource {
        file: SourceFile::new("kernels.py", src, 1),
        name: name.to_string(),
        globals,
    };
    match tm_frontend::lower(&k, args) {
        Ok(f) => f,
        Err(e) => panic!("lowering failed:\n{e}"),
    }
}

fn p(t: ScalarType) -> ArgSpec {
    ArgSpec::Pointer {
        elem: t,
        divisible_by_16: true,
    }
}

fn s(t: ScalarType) -> ArgSpec {
    ArgSpec::Scalar {
        ty: t,
        divisible_by_16: false,
        equal_to_one: false,
    }
}

fn c(v: i64) -> ArgSpec {
    ArgSpec::Constexpr(ConstValue::Int(v))
}

const ADD: &str = "\
import triton
import triton.language as tl

@triton.jit
def add_kernel(x_ptr, y_ptr, output_ptr, n_elements, BLOCK_SIZE: tl.constexpr):
    pid = tl.program_id(axis=0)
    block_start = pid * BLOCK_SIZE
    offsets = block_start + tl.arange(0, BLOCK_SIZE)
    mask = offsets < n_elements
    x = tl.load(x_ptr + offsets, mask=mask)
    y = tl.load(y_ptr + offsets, mask=mask)
    output = x + y
    tl.store(output_ptr + offsets, output, mask=mask)

@triton.jit
def add_unmasked(x_ptr, y_ptr, output_ptr, n_elements, BLOCK_SIZE: tl.constexpr):
    offsets = tl.program_id(0) * BLOCK_SIZE + tl.arange(0, BLOCK_SIZE)
    mask = offsets < n_elements
    x = tl.load(x_ptr + offsets)
    y = tl.load(y_ptr + offsets, mask=mask)
    tl.store(output_ptr + offsets, x + y, mask=mask)
";

#[test]
fn tutorial_vector_add_from_python_source() {
    use ScalarType::*;
    let f = compile(
        ADD,
        "add_kernel",
        &[p(F32), p(F32), p(F32), s(I32), c(1024)],
    );
    let n = 98432usize;
    let x: Vec<f32> = (0..n).map(|i| (i as f32).sin()).collect();
    let y: Vec<f32> = (0..n).map(|i| (i as f32).cos()).collect();
    let (mut xb, mut yb, mut ob) = (bytes(&x), bytes(&y), vec![0u8; n * 4]);
    run(
        &f,
        [(n as u32).div_ceil(1024), 1, 1],
        &mut [
            buf::<f32>(&mut xb),
            buf::<f32>(&mut yb),
            buf::<f32>(&mut ob),
            ArgValue::Scalar(ScalarValue::I64(n as i64)),
            ArgValue::Absent,
        ],
    )
    .unwrap();
    let out: Vec<f32> = from_bytes(&ob);
    let want: Vec<f32> = x.iter().zip(&y).map(|(a, b)| a + b).collect();
    assert_eq!(out, want);
}

#[test]
fn out_of_bounds_load_points_at_the_python_line() {
    use ScalarType::*;
    let f = compile(
        ADD,
        "add_unmasked",
        &[p(F32), p(F32), p(F32), s(I32), c(256)],
    );
    let n = 1000usize;
    let (mut xb, mut yb, mut ob) = (vec![0u8; n * 4], vec![0u8; n * 4], vec![0u8; n * 4]);
    let err = run(
        &f,
        [4, 1, 1],
        &mut [
            buf::<f32>(&mut xb),
            buf::<f32>(&mut yb),
            buf::<f32>(&mut ob),
            ArgValue::Scalar(ScalarValue::I32(n as i32)),
            ArgValue::Absent,
        ],
    )
    .unwrap_err();
    let InterpError::OutOfBounds {
        line,
        program_id,
        index,
        buffer_len,
        ref file,
        ref source_line,
        ..
    } = err
    else {
        panic!("expected out of bounds, got {err}");
    };
    assert_eq!((file.as_str(), line), ("kernels.py", 19));
    assert_eq!(source_line.trim(), "x = tl.load(x_ptr + offsets)");
    assert_eq!(program_id, [3, 0, 0]);
    assert_eq!(index, 1000);
    assert_eq!(buffer_len, 1000);
    assert!(err.to_string().contains("kernels.py:19"), "{err}");
}

const LOOP_2D: &str = "\
import triton
import triton.language as tl

@triton.jit
def colsum(x_ptr, out_ptr, n_rows, n_cols, stride, BLOCK_R: tl.constexpr, BLOCK_C: tl.constexpr):
    cols = tl.program_id(0) * BLOCK_C + tl.arange(0, BLOCK_C)
    acc = tl.zeros((BLOCK_R, BLOCK_C), dtype=tl.float32)
    for r0 in range(0, n_rows, BLOCK_R):
        rows = r0 + tl.arange(0, BLOCK_R)
        mask = (rows[:, None] < n_rows) & (cols[None, :] < n_cols)
        x = tl.load(x_ptr + rows[:, None] * stride + cols[None, :], mask=mask, other=0.0)
        acc += tl.where(x > 0, x, -x)
    total = acc
    tl.store(out_ptr + tl.arange(0, BLOCK_R)[:, None] * BLOCK_C + tl.arange(0, BLOCK_C)[None, :] + tl.program_id(0) * BLOCK_R * BLOCK_C, total)
";

/// A for loop over row blocks carrying a 2-D accumulator, with 2-D masks built from
/// `[:, None]` / `[None, :]`, `other=` and `tl.where`.
#[test]
fn loop_with_2d_masks_and_where_from_python_source() {
    use ScalarType::*;
    let (br, bc) = (4usize, 8usize);
    let f = compile(
        LOOP_2D,
        "colsum",
        &[
            p(F32),
            p(F32),
            s(I32),
            s(I32),
            s(I32),
            c(br as i64),
            c(bc as i64),
        ],
    );
    let (nr, nc, stride) = (11usize, 13usize, 16usize);
    let x: Vec<f32> = (0..nr * stride).map(|i| (i as f32 - 60.0) * 0.5).collect();
    let progs = nc.div_ceil(bc);
    let (mut xb, mut ob) = (bytes(&x), vec![0u8; progs * br * bc * 4]);
    run(
        &f,
        [progs as u32, 1, 1],
        &mut [
            buf::<f32>(&mut xb),
            buf::<f32>(&mut ob),
            ArgValue::Scalar(ScalarValue::I32(nr as i32)),
            ArgValue::Scalar(ScalarValue::I32(nc as i32)),
            ArgValue::Scalar(ScalarValue::I32(stride as i32)),
            ArgValue::Absent,
            ArgValue::Absent,
        ],
    )
    .unwrap();
    let out: Vec<f32> = from_bytes(&ob);
    for pid in 0..progs {
        for i in 0..br {
            for j in 0..bc {
                let col = pid * bc + j;
                let mut want = 0.0f32;
                let mut r = i;
                while r < nr {
                    if col < nc {
                        want += x[r * stride + col].abs();
                    }
                    r += br;
                }
                assert_eq!(
                    out[pid * br * bc + i * bc + j],
                    want,
                    "pid {pid} ({i}, {j})"
                );
            }
        }
    }
}

const INT_OPS: &str = "\
import triton
import triton.language as tl

@triton.jit
def int_ops(a_ptr, b_ptr, q_ptr, r_ptr, BLOCK: tl.constexpr):
    offs = tl.arange(0, BLOCK)
    a = tl.load(a_ptr + offs)
    b = tl.load(b_ptr + offs)
    tl.store(q_ptr + offs, a // b)
    tl.store(r_ptr + offs, a % b)
";

/// Triton's `//` and `%` on ints are C's (truncating), not Python's (flooring).
#[test]
fn integer_division_from_python_source_truncates() {
    use ScalarType::*;
    let f = compile(INT_OPS, "int_ops", &[p(I32), p(I32), p(I32), p(I32), c(8)]);
    let a = [7i32, -7, 7, -7, i32::MIN, 100, -1, 0];
    let b = [2i32, 2, -2, -2, -1, 7, 3, 5];
    let (mut ab, mut bb, mut qb, mut rb) = (bytes(&a), bytes(&b), vec![0u8; 32], vec![0u8; 32]);
    run(
        &f,
        [1, 1, 1],
        &mut [
            buf::<i32>(&mut ab),
            buf::<i32>(&mut bb),
            buf::<i32>(&mut qb),
            buf::<i32>(&mut rb),
            ArgValue::Absent,
        ],
    )
    .unwrap();
    assert_eq!(
        from_bytes::<i32>(&qb),
        vec![3, -3, -3, 3, i32::MIN, 14, 0, 0]
    );
    assert_eq!(from_bytes::<i32>(&rb), vec![1, -1, 1, -1, 0, 2, -1, 0]);
}
