//! One buffer passed as two pointer arguments (`ArgValue::SameBufferAs`): both parameters
//! see one memory, as on a GPU where the array is bound twice.

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
        file: SourceFile::new("alias.py", src, 1),
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

fn c(v: i64) -> ArgSpec {
    ArgSpec::Constexpr(ConstValue::Int(v))
}

const SRC: &str = "\
import triton
import triton.language as tl

@triton.jit
def store_then_load(a_ptr, b_ptr, out_ptr, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    tl.store(a_ptr + offs, offs * 3)
    tl.debug_barrier()
    tl.store(out_ptr + offs, tl.load(b_ptr + offs))

@triton.jit
def count(a_ptr, b_ptr, BLOCK: tl.constexpr):
    offs = tl.arange(0, BLOCK)
    tl.atomic_add(a_ptr + offs, 1)
    tl.atomic_add(b_ptr + offs, 1 << 32)

@triton.jit
def same_pointer(a_ptr, b_ptr, out_ptr):
    tl.store(out_ptr, (a_ptr == b_ptr).to(tl.int32))

@triton.jit
def past_the_end(a_ptr, b_ptr, BLOCK: tl.constexpr):
    offs = tl.arange(0, BLOCK)
    tl.store(a_ptr + offs, offs)
    tl.store(b_ptr + offs + 1, offs)
";

#[test]
fn a_store_through_one_alias_is_seen_through_the_other() {
    use ScalarType::I32;
    let f = compile(SRC, "store_then_load", &[p(I32), p(I32), p(I32), c(64)]);
    let n = 256usize;
    let mut xb = bytes(&vec![-1i32; n]);
    let mut ob = bytes(&vec![0i32; n]);
    run(
        &f,
        [4, 1, 1],
        &mut [
            buf::<i32>(&mut xb),
            ArgValue::SameBufferAs(0),
            buf::<i32>(&mut ob),
            ArgValue::Absent,
        ],
    )
    .unwrap();
    let want: Vec<i32> = (0..n as i32).map(|i| i * 3).collect();
    assert_eq!(from_bytes::<i32>(&xb), want);
    assert_eq!(from_bytes::<i32>(&ob), want);
}

#[test]
fn atomics_through_two_aliases_hit_one_counter() {
    use ScalarType::I64;
    let f = compile(SRC, "count", &[p(I64), p(I64), c(16)]);
    let mut xb = bytes(&[0i64; 16]);
    run(
        &f,
        [32, 1, 1],
        &mut [
            buf::<i64>(&mut xb),
            ArgValue::SameBufferAs(0),
            ArgValue::Absent,
        ],
    )
    .unwrap();
    assert_eq!(from_bytes::<i64>(&xb), vec![32 + (32i64 << 32); 16]);
}

#[test]
fn aliases_compare_equal_and_distinct_buffers_do_not() {
    use ScalarType::I32;
    let f = compile(SRC, "same_pointer", &[p(I32), p(I32), p(I32)]);
    let mut xb = bytes(&[0i32; 4]);
    let mut yb = bytes(&[0i32; 4]);
    let mut ob = bytes(&[7i32]);
    run(
        &f,
        [1, 1, 1],
        &mut [
            buf::<i32>(&mut xb),
            ArgValue::SameBufferAs(0),
            buf::<i32>(&mut ob),
        ],
    )
    .unwrap();
    assert_eq!(from_bytes::<i32>(&ob), [1]);
    run(
        &f,
        [1, 1, 1],
        &mut [
            buf::<i32>(&mut xb),
            buf::<i32>(&mut yb),
            buf::<i32>(&mut ob),
        ],
    )
    .unwrap();
    assert_eq!(from_bytes::<i32>(&ob), [0]);
}

#[test]
fn out_of_bounds_through_an_alias_names_the_alias() {
    use ScalarType::I32;
    let f = compile(SRC, "past_the_end", &[p(I32), p(I32), c(8)]);
    let mut xb = bytes(&[0i32; 8]);
    let err = run(
        &f,
        [1, 1, 1],
        &mut [
            buf::<i32>(&mut xb),
            ArgValue::SameBufferAs(0),
            ArgValue::Absent,
        ],
    )
    .unwrap_err();
    let InterpError::OutOfBounds {
        ref buffer,
        index,
        buffer_len,
        ..
    } = err
    else {
        panic!("expected out of bounds, got {err}");
    };
    assert_eq!(buffer, "b_ptr");
    assert_eq!((index, buffer_len), (8, 8));
}

#[test]
fn an_alias_of_another_element_size_needs_whole_elements() {
    use ScalarType::{I32, I64};
    let f = compile(SRC, "count", &[p(I32), p(I64), c(1)]);
    // 12 bytes: three i32, but not a whole number of i64.
    let mut xb = bytes(&[0i32; 3]);
    let err = run(
        &f,
        [1, 1, 1],
        &mut [
            buf::<i32>(&mut xb),
            ArgValue::SameBufferAs(0),
            ArgValue::Absent,
        ],
    )
    .unwrap_err();
    let msg = err.to_string();
    assert!(
        matches!(err, InterpError::Arguments { .. }) && msg.contains("b_ptr"),
        "{msg}"
    );
}

#[test]
fn a_reference_to_a_later_or_non_buffer_argument_is_refused() {
    use ScalarType::I64;
    let f = compile(SRC, "count", &[p(I64), p(I64), c(16)]);
    let mut xb = bytes(&[0i64; 16]);
    for args in [
        vec![
            ArgValue::SameBufferAs(1),
            buf::<i64>(&mut xb),
            ArgValue::Absent,
        ],
        vec![
            ArgValue::Scalar(ScalarValue::I64(0)),
            ArgValue::SameBufferAs(0),
            ArgValue::Absent,
        ],
        vec![
            ArgValue::SameBufferAs(0),
            ArgValue::SameBufferAs(0),
            ArgValue::Absent,
        ],
    ] {
        let mut args = args;
        let err = run(&f, [1, 1, 1], &mut args).unwrap_err();
        assert!(matches!(err, InterpError::Arguments { .. }), "{err}");
    }
}
