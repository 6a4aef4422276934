//! Kernels of tutorials 02 (fused softmax), 04 (seeded dropout) and 07 (libdevice), source
//! unchanged, run in the interpreter against plain Rust.

mod common;

use common::*;
use tm_core::ScalarType::*;
use tm_frontend::{Binding, ModuleKind};

const SOFTMAX: &str = r#"
@triton.jit
def softmax_kernel(output_ptr, input_ptr, input_row_stride, output_row_stride, n_rows, n_cols, BLOCK_SIZE: tl.constexpr,
                   num_stages: tl.constexpr):
    # starting row of the program
    row_start = tl.program_id(0)
    row_step = tl.num_programs(0)
    for row_idx in tl.range(row_start, n_rows, row_step, num_stages=num_stages):
        # The stride represents how much we need to increase the pointer to advance 1 row
        row_start_ptr = input_ptr + row_idx * input_row_stride
        # The block size is the next power of two greater than n_cols, so we can fit each
        # row in a single block
        col_offsets = tl.arange(0, BLOCK_SIZE)
        input_ptrs = row_start_ptr + col_offsets
        # Load the row into SRAM, using a mask since BLOCK_SIZE may be > than n_cols
        mask = col_offsets < n_cols
        row = tl.load(input_ptrs, mask=mask, other=-float('inf'))
        # Subtract maximum for numerical stability
        row_minus_max = row - tl.max(row, axis=0)
        # Note that exponentiation in Triton is fast but approximate (i.e., think __expf in CUDA)
        numerator = tl.exp(row_minus_max)
        denominator = tl.sum(numerator, axis=0)
        softmax_output = numerator / denominator
        # Write back output to DRAM
        output_row_start_ptr = output_ptr + row_idx * output_row_stride
        output_ptrs = output_row_start_ptr + col_offsets
        tl.store(output_ptrs, softmax_output, mask=mask)
"#;

#[test]
fn tutorial_02_fused_softmax() {
    let k = kernel(SOFTMAX, "softmax_kernel");
    let mut args = vec![ptr(F32), ptr(F32)];
    args.extend((0..4).map(|_| scalar(I32)));
    args.extend([cint(32), cint(4)]);
    let (f, _) = lower_ok(&k, &args);
    let (rows, cols) = (7usize, 27usize);
    let x: Vec<f32> = (0..rows * cols)
        .map(|i| ((i * 31) % 17) as f32 / 3.0 - 2.0)
        .collect();
    let (bufs, _) = interpret(
        &f,
        [3, 1, 1],
        vec![
            Arg::Buf(vec![0; rows * cols * 4], F32),
            Arg::Buf(bytes_of(&x), F32),
            Arg::Int(cols as i64),
            Arg::Int(cols as i64),
            Arg::Int(rows as i64),
            Arg::Int(cols as i64),
            Arg::Absent,
            Arg::Absent,
        ],
    );
    let y = f32s(&bufs[0]);
    for r in 0..rows {
        let row = &x[r * cols..(r + 1) * cols];
        let m = row.iter().cloned().fold(f32::MIN, f32::max);
        let z: f32 = row.iter().map(|v| (v - m).exp()).sum();
        for c in 0..cols {
            let want = (row[c] - m).exp() / z;
            assert!((y[r * cols + c] - want).abs() < 1e-6, "y[{r},{c}]");
        }
    }
}

const DROPOUT: &str = r#"
@triton.jit
def _seeded_dropout(
    x_ptr,
    output_ptr,
    n_elements,
    p,
    seed,
    BLOCK_SIZE: tl.constexpr,
):
    # compute memory offsets of elements handled by this instance
    pid = tl.program_id(axis=0)
    block_start = pid * BLOCK_SIZE
    offsets = block_start + tl.arange(0, BLOCK_SIZE)
    # load data from x
    mask = offsets < n_elements
    x = tl.load(x_ptr + offsets, mask=mask)
    # randomly prune it
    random = tl.rand(seed, offsets)
    x_keep = random > p
    # write-back
    output = tl.where(x_keep, x / (1 - p), 0.0)
    tl.store(output_ptr + offsets, output, mask=mask)
"#;

#[test]
fn tutorial_04_seeded_dropout_is_deterministic_and_scales_kept_values() {
    let k = kernel(DROPOUT, "_seeded_dropout");
    let args = [
        ptr(F32),
        ptr(F32),
        scalar(I32),
        scalar(F32),
        scalar(I32),
        cint(64),
    ];
    let (f, _) = lower_ok(&k, &args);
    let n = 100usize;
    let x: Vec<f32> = (0..n).map(|i| i as f32 + 1.0).collect();
    let run = |seed: i64| {
        let (bufs, _) = interpret(
            &f,
            [2, 1, 1],
            vec![
                Arg::Buf(bytes_of(&x), F32),
                Arg::Buf(vec![0; n * 4], F32),
                Arg::Int(n as i64),
                Arg::Float(0.5),
                Arg::Int(seed),
                Arg::Absent,
            ],
        );
        f32s(&bufs[1])
    };
    let (a, b, c) = (run(123), run(123), run(7));
    assert_eq!(a, b, "same seed, same mask");
    assert_ne!(a, c, "another seed, another mask");
    let kept = a.iter().filter(|&&v| v != 0.0).count();
    assert!((20..80).contains(&kept), "kept {kept} of {n} at p=0.5");
    for (i, &v) in a.iter().enumerate() {
        assert!(v == 0.0 || v == x[i] * 2.0, "{i}: {v}");
    }
}

const ASIN: &str = r#"
@triton.jit
def asin_kernel(
    x_ptr,
    y_ptr,
    n_elements,
    BLOCK_SIZE: tl.constexpr,
):
    pid = tl.program_id(axis=0)
    block_start = pid * BLOCK_SIZE
    offsets = block_start + tl.arange(0, BLOCK_SIZE)
    mask = offsets < n_elements
    x = tl.load(x_ptr + offsets, mask=mask)
    x = libdevice.asin(x)
    tl.store(y_ptr + offsets, x, mask=mask)
"#;

#[test]
fn tutorial_07_libdevice_asin() {
    let mut k = kernel(ASIN, "asin_kernel");
    k.globals
        .insert("libdevice".into(), Binding::Module(ModuleKind::Libdevice));
    let (f, _) = lower_ok(&k, &[ptr(F32), ptr(F32), scalar(I32), cint(32)]);
    let x: Vec<f32> = (0..50).map(|i| i as f32 / 25.0 - 1.0).collect();
    let (bufs, _) = interpret(
        &f,
        [2, 1, 1],
        vec![
            Arg::Buf(bytes_of(&x), F32),
            Arg::Buf(vec![0; 200], F32),
            Arg::Int(50),
            Arg::Absent,
        ],
    );
    let y = f32s(&bufs[1]);
    for (i, v) in x.iter().enumerate() {
        assert!((y[i] - v.asin()).abs() < 1e-6, "{i}");
    }
}
