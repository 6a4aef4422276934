"""64-bit atomics on a real GPU (NVIDIA via Vulkan: native atomic<i64>): correctness under
contention (two counters hammered with adds that carry across the 32-bit halves, distinct
old values; compare-and-swap increments, each ticket once), then the throughput of n
atomic adds into BINS counters next to real Triton (CUDA) on the same kernel source.

Run on the lent GPU machine as in ../shared/DEVICE.md, with the wheel built here:
`python3 benchmarks/gpu/atomics64.py` (results in $OUT/atomic64.json). Ours is timed with
triton_metal.testing.do_bench (a device synchronization around each call, ~50 µs of
submit-and-wait included), Triton with triton.testing.do_bench (CUDA events)."""
import json, os, sys, time
import numpy as np

out_dir = os.environ.get("OUT", "/tmp")
results = {"correctness": {}, "bench": []}

import triton_metal as tm
import triton_metal.language as tml

SRC = '''
@jit
def hammer(Z, OLD, STEP, BINS: tl.constexpr, BLOCK: tl.constexpr):
    pid = tl.program_id(0)
    off = tl.arange(0, BLOCK)
    old = tl.atomic_add(Z + off % BINS, tl.load(STEP + off))
    tl.store(OLD + pid * BLOCK + off, old)

@jit
def cas_inc(Z, TICKETS, ITERS: tl.constexpr):
    pid = tl.program_id(0)
    for i in tl.static_range(ITERS):
        cur = tl.atomic_add(Z, 0)
        seen = tl.atomic_cas(Z, cur, cur + 1)
        while seen != cur:
            cur = seen
            seen = tl.atomic_cas(Z, cur, cur + 1)
        tl.store(TICKETS + pid * ITERS + i, cur)

@jit
def bench_add(Z, V, n, BINS: tl.constexpr, BLOCK: tl.constexpr):
    off = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    m = off < n
    tl.atomic_add(Z + off % BINS, tl.load(V + off, mask=m), mask=m)
'''

def build(jit, tl):
    ns = {"jit": jit, "tl": tl}
    # jit needs a real file for inspect: write the source once.
    path = os.path.join(out_dir, "kernels_%s.py" % tl.__name__.replace(".", "_"))
    with open(path, "w") as f:
        f.write("import %s as tl\n" % tl.__name__)
        f.write(SRC.replace("@jit", "@JIT"))
    import importlib.util
    spec = importlib.util.spec_from_file_location("k_" + tl.__name__.replace(".", "_"), path)
    mod = importlib.util.module_from_spec(spec)
    mod.JIT = jit
    spec.loader.exec_module(mod)
    return mod

MASK = (1 << 64) - 1
ours = build(tm.jit, tml)

# Correctness: many programs hammering two counters with carries on every add.
for dtype, init, step in [("int64", (1 << 32) - 3, (1 << 32) - 1), ("uint64", (1 << 64) - (1 << 34), 0xFFFF_FFFF_0000_0001)]:
    programs, block, bins = 4096, 256, 2
    t = np.dtype(dtype)
    z = np.array([init] * bins, dtype=np.uint64).view(t)
    steps = np.array([step] * block, dtype=np.uint64).view(t)
    old = np.zeros(programs * block, t)
    ours.hammer[(programs,)](z, old, steps, bins, block)
    per = programs * block // bins
    ok_final = [int(v) for v in z.view(np.uint64)] == [(init + per * step) & MASK] * bins
    olds = old.view(np.uint64).reshape(programs, block)
    ok_olds = True
    for b in range(bins):
        got = np.sort(olds[:, b::bins].ravel())
        want = np.sort(np.array([(init + k * step) & MASK for k in range(per)], dtype=np.uint64))
        ok_olds &= bool(np.array_equal(got, want))
    results["correctness"][f"hammer_{dtype}"] = bool(ok_final and ok_olds)
    print("hammer", dtype, ok_final, ok_olds, flush=True)

for dtype in ["int64", "uint64"]:
    programs, iters = 2048, 8
    start = (1 << 32) - 1000
    z = np.array([start], dtype)
    tickets = np.zeros(programs * iters, dtype)
    ours.cas_inc[(programs,)](z, tickets, iters)
    n = programs * iters
    ok = int(z[0]) == start + n and np.array_equal(np.sort(tickets), start + np.arange(n, dtype=dtype))
    results["correctness"][f"cas_inc_{dtype}"] = bool(ok)
    print("cas_inc", dtype, ok, flush=True)

# Throughput: n atomic adds into BINS counters (1 = one hot counter; n = no contention).
import torch, triton, triton.language as ttl
theirs = build(triton.jit, ttl)
n, block = 1 << 24, 1024
for dtype in ["int32", "int64"]:
    for bins in [1, 4096, n]:
        v = np.ones(n, dtype)
        zt = tm.tensor(np.zeros(bins, dtype)); vt = tm.tensor(v)
        grid = (triton.cdiv(n, block),)
        f = lambda: ours.bench_add[grid](zt, vt, n, bins, block)
        ms = tm.testing.do_bench(f, return_mode="median")
        zc = torch.zeros(bins, dtype=getattr(torch, dtype), device="cuda"); vc = torch.ones(n, dtype=getattr(torch, dtype), device="cuda")
        g = lambda: theirs.bench_add[grid](zc, vc, n, bins, block)
        ms_t = triton.testing.do_bench(g, return_mode="median")
        row = {"dtype": dtype, "bins": bins, "n": n, "ours_ms": ms, "triton_ms": ms_t,
               "ours_Gatomic_s": n / ms / 1e6, "triton_Gatomic_s": n / ms_t / 1e6}
        results["bench"].append(row)
        print(row, flush=True)

with open(os.path.join(out_dir, "atomic64.json"), "w") as f:
    json.dump(results, f, indent=1)
