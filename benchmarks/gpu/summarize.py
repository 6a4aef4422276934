"""One markdown table from gpu_bench's and triton_side.py's JSON lines.

    python3 benchmarks/gpu/summarize.py ours.jsonl triton.jsonl

Ours is the `rotate` method; Triton's main number is do_bench's median, its `rotate`
number (the same wall-clock method as ours) is shown beside it. The ratio is
Triton do_bench time / our time: above 1 we are faster, below 1 slower.
"""

import json
import sys


def load(paths):
    rows = []
    for p in paths:
        with open(p) as f:
            for line in f:
                line = line.strip()
                if line.startswith("{"):
                    rows.append(json.loads(line))
    return rows


def rate(r):
    if r["kernel"].startswith("matmul"):
        return f"{r['tflops']:.2f} TFLOP/s"
    return f"{r['gbps']:.0f} GB/s"


def main():
    rows = load(sys.argv[1:])
    by = {}
    for r in rows:
        key = (r["kernel"], r["size"])
        by.setdefault(key, {})[(r.get("side"), r.get("method"))] = r
    print("| kernel | size | ours (rotate) | ours (same) | Triton do_bench | Triton (rotate) "
          "| torch do_bench | Triton/ours | rel. err ours / Triton |")
    print("|---|---|---|---|---|---|---|---|---|")
    for (kernel, size), m in by.items():
        def cell(side, method):
            r = m.get((side, method))
            if r is None:
                err = next((x["error"] for (s, _), x in m.items() if s == side and "error" in x),
                           None)
                return f"error: {err}" if err else "–"
            return f"{r['median_us']:.1f} µs, {rate(r)}"

        ours, tri = m.get(("ours", "rotate")), m.get(("triton", "do_bench"))
        ratio = f"{tri['median_us'] / ours['median_us']:.2f}" if ours and tri else "–"
        errs = " / ".join(f"{m[(s, meth)]['rel_err']:.1e}" if (s, meth) in m else "–"
                          for s, meth in (("ours", "rotate"), ("triton", "do_bench")))
        print(f"| {kernel} | {size} | {cell('ours', 'rotate')} | {cell('ours', 'same')} "
              f"| {cell('triton', 'do_bench')} | {cell('triton', 'rotate')} "
              f"| {cell('torch', 'do_bench')} | {ratio} | {errs} |")


if __name__ == "__main__":
    main()
