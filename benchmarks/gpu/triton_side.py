"""Real Triton on the same kernels (kernels.py) and sizes as our gpu_bench example.

    python3 benchmarks/gpu/triton_side.py [--small] [--only add|softmax|matmul] [--warmup-ms N]

Prints one JSON line per measurement, with the fields gpu_bench prints:
- method "do_bench": triton.testing.do_bench, median (it clears L2 before every call and
  times each call with CUDA events);
- method "rotate": the same wall-clock method as gpu_bench (launches cycling through sets
  of buffers spanning 256 MiB, batches ended by torch.cuda.synchronize, median per launch);
- side "torch": torch's own operation through do_bench, as a ceiling for the GPU.
Each kernel's output is checked once against a float64 reference: ||out - ref|| / ||ref||.
"""

import json
import math
import os
import statistics
import sys
import time

import torch
import triton

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kernels as K  # noqa: E402

ROTATE_BYTES = 256 << 20
MAX_SETS = 64
WARMUP_S = 1.0  # --warmup-ms; gpu_bench's default too (the first recorded run used 0.025)
BATCH_TARGET_S = 0.005
BATCHES = 25


def device_name():
    p = torch.cuda.get_device_properties(0)
    return f"CUDA: {p.name}, {p.multi_processor_count} SMs (triton {triton.__version__}, torch {torch.__version__})"


def emit(**fields):
    print(json.dumps(fields), flush=True)


def time_rotated(launch):
    """gpu_bench's time_launches, with torch.cuda.synchronize for ours."""
    i = 0
    start = time.perf_counter()
    warm = 0
    while time.perf_counter() - start < WARMUP_S or warm < 5:
        launch(i)
        i += 1
        warm += 1
    torch.cuda.synchronize()
    t = time.perf_counter()
    for _ in range(10):
        launch(i)
        i += 1
    torch.cuda.synchronize()
    each = (time.perf_counter() - t) / 10
    k = min(max(math.ceil(BATCH_TARGET_S / each), 1), 2000)
    per = []
    for _ in range(BATCHES):
        t = time.perf_counter()
        for _ in range(k):
            launch(i)
            i += 1
        torch.cuda.synchronize()
        per.append((time.perf_counter() - t) / k)
    per.sort()
    return per[BATCHES // 2] * 1e6, per[0] * 1e6, k


def n_sets(set_bytes):
    return max(1, min(MAX_SETS, -(-ROTATE_BYTES // set_bytes)))


def rel_err(out, ref):
    out = out.double()
    ref = ref.double()
    return (torch.linalg.norm(out - ref) / torch.linalg.norm(ref)).item()


def report(kernel, size, config, launch, sets, bytes_, flops, err, tol, torch_fn):
    dev = device_name()
    head = dict(kernel=kernel, size=size, config=config, device=dev)
    ok = bool(err <= tol)
    ms = triton.testing.do_bench(lambda: launch(0), warmup=25, rep=100, return_mode="median")
    us = ms * 1e3
    emit(side="triton", **head, method="do_bench", sets=1, median_us=round(us, 3),
         gbps=round(bytes_ / us / 1e3, 1), tflops=round(flops / us / 1e6, 3), rel_err=err, ok=ok)
    med, mn, k = time_rotated(launch)
    emit(side="triton", **head, method="rotate", sets=sets, median_us=round(med, 3),
         min_us=round(mn, 3), launches_per_batch=k, gbps=round(bytes_ / med / 1e3, 1),
         tflops=round(flops / med / 1e6, 3), rel_err=err, ok=ok)
    ms = triton.testing.do_bench(torch_fn, warmup=25, rep=100, return_mode="median")
    us = ms * 1e3
    emit(side="torch", **head, method="do_bench", sets=1, median_us=round(us, 3),
         gbps=round(bytes_ / us / 1e3, 1), tflops=round(flops / us / 1e6, 3))


def bench_add(n):
    sets = n_sets(12 * n)
    bufs = [(torch.rand(n, device="cuda"), torch.rand(n, device="cuda"),
             torch.empty(n, device="cuda")) for _ in range(sets)]
    grid = (triton.cdiv(n, K.ADD_BLOCK),)

    def launch(i):
        x, y, o = bufs[i % sets]
        K.add_kernel[grid](x, y, o, n, BLOCK_SIZE=K.ADD_BLOCK, num_warps=K.ADD_WARPS)

    x, y, o = bufs[0]
    o.fill_(float("nan"))
    launch(0)
    torch.cuda.synchronize()
    err = rel_err(o, x.double() + y.double())
    report("add_kernel", str(n), f"BLOCK_SIZE={K.ADD_BLOCK} num_warps={K.ADD_WARPS}", launch,
           sets, 12 * n, n, err, 1e-6, lambda: torch.add(x, y, out=o))


def bench_softmax(rows, cols):
    sets = n_sets(8 * rows * cols)
    bufs = [(torch.randn(rows, cols, device="cuda"), torch.empty(rows, cols, device="cuda"))
            for _ in range(sets)]

    def launch(i):
        x, o = bufs[i % sets]
        K.softmax_kernel[(rows,)](o, x, x.stride(0), o.stride(0), cols,
                                  BLOCK_SIZE=K.SOFTMAX_BLOCK, num_warps=K.SOFTMAX_WARPS)

    x, o = bufs[0]
    o.fill_(float("nan"))
    launch(0)
    torch.cuda.synchronize()
    err = rel_err(o, torch.softmax(x.double(), dim=1))
    report("softmax_kernel", f"{rows}x{cols}",
           f"BLOCK_SIZE={K.SOFTMAX_BLOCK} num_warps={K.SOFTMAX_WARPS}", launch, sets,
           8 * rows * cols, 5 * rows * cols, err, 1e-5, lambda: torch.softmax(x, dim=1))


def bench_matmul(n):
    sets = n_sets(8 * n * n)
    bufs = [(torch.randn(n, n, device="cuda", dtype=torch.float16),
             torch.randn(n, n, device="cuda", dtype=torch.float16),
             torch.empty(n, n, device="cuda", dtype=torch.float32)) for _ in range(sets)]
    bm, bn, bk = K.MM_BLOCK_M, K.MM_BLOCK_N, K.MM_BLOCK_K
    grid = (triton.cdiv(n, bm) * triton.cdiv(n, bn),)

    def launch(i):
        a, b, c = bufs[i % sets]
        K.matmul_kernel[grid](a, b, c, n, n, n, a.stride(0), a.stride(1), b.stride(0),
                              b.stride(1), c.stride(0), c.stride(1), BLOCK_SIZE_M=bm,
                              BLOCK_SIZE_N=bn, BLOCK_SIZE_K=bk, GROUP_SIZE_M=K.MM_GROUP_M,
                              num_warps=K.MM_WARPS)

    a, b, c = bufs[0]
    c.fill_(float("nan"))
    launch(0)
    torch.cuda.synchronize()
    err = rel_err(c, a.double() @ b.double())
    report("matmul_kernel", f"{n}x{n}x{n}",
           f"BLOCK_M={bm} BLOCK_N={bn} BLOCK_K={bk} GROUP_M={K.MM_GROUP_M} num_warps={K.MM_WARPS}",
           launch, sets, 8 * n * n, 2 * n ** 3, err, 1e-4, lambda: torch.matmul(a, b))


def main():
    args = sys.argv[1:]
    small = "--small" in args
    only = args[args.index("--only") + 1] if "--only" in args else None
    if "--warmup-ms" in args:
        global WARMUP_S
        WARMUP_S = float(args[args.index("--warmup-ms") + 1]) / 1e3
    print(f"device: {device_name()}", file=sys.stderr)
    torch.manual_seed(0)
    adds = [1 << 16, 1 << 18] if small else K.ADD_SIZES
    softmaxes = [(256, 1024)] if small else K.SOFTMAX_SHAPES
    matmuls = [128] if small else K.MATMUL_SIZES
    cases = ([("add", "add_kernel", bench_add, (n,), str(n)) for n in adds]
             + [("softmax", "softmax_kernel", bench_softmax, s, f"{s[0]}x{s[1]}")
                for s in softmaxes]
             + [("matmul", "matmul_kernel", bench_matmul, (n,), f"{n}x{n}x{n}") for n in matmuls])
    for name, kernel, fn, shape, size in cases:
        if only and only != name:
            continue
        try:
            fn(*shape)
        except Exception as e:  # one failing case should not hide the others
            emit(side="triton", kernel=kernel, size=size, error=f"{type(e).__name__}: {e}")
        torch.cuda.empty_cache()


if __name__ == "__main__":
    main()
