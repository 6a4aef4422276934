#!/bin/bash
# Second matmul run: s6/s7/s8 interleaved twice, then WGSL variants of s8 with parts of the
# K loop removed (wrong results, for where-the-time-goes only).
for f in .gl/*.deb; do dpkg -x $f /; done; ldconfig >/dev/null 2>&1
export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
B=benchmarks/gpu/kernels.py
log=$OUT/log.txt
for r in 1 2; do for s in s6 s7 s8; do
  echo "== $s round $r $(date +%T)" >> $log
  if [ $s = s8 ] && [ $r = 1 ]; then export GPU_BENCH_DUMP=/tmp/s8.wgsl; fi
  ./.mmrun/gpu_bench_$s $B --only matmul > /tmp/ours-$s-r$r.jsonl 2>> $log
  unset GPU_BENCH_DUMP
done; done
awk 'NR>1 && /^\/\/ ====/{exit} {print}' /tmp/s8.wgsl > $OUT/ours-s8.wgsl
base=$OUT/ours-s8.wgsl
mk() { mkdir -p /tmp/$1; sed -e "$2" $base > /tmp/$1/matmul_kernel.wgsl; }
mk nomma '/coopMultiplyAdd/d'
mk nommaload '/coopMultiplyAdd/d;/coopLoadT<coop_mat16x16<f16/d'
mk nobar '/^        workgroupBarrier/d'
mk onlyglobal '/coopMultiplyAdd/d;/coopLoadT<coop_mat16x16<f16/d;/^        workgroupBarrier/d'
for v in nomma nommaload nobar onlyglobal; do
  echo "== variant $v $(date +%T) lines removed: $(diff $base /tmp/$v/matmul_kernel.wgsl | grep -c '^<')" >> $log
  GPU_BENCH_WGSL=/tmp/$v ./.mmrun/gpu_bench_s8 $B --only matmul > /tmp/var-$v.jsonl 2>> $log
done
# One file for all timings (the tool brings back few files).
for f in /tmp/ours-*.jsonl /tmp/var-*.jsonl; do n=$(basename $f .jsonl); sed "s/^{/{\"bin\":\"$n\",/" $f; done > $OUT/all.jsonl
python3 - $OUT/all.jsonl <<'PY' | tee $OUT/table.txt
import json,sys
for l in open(sys.argv[1]):
    d=json.loads(l); print(d["bin"], d["size"], d["method"], d["median_us"], d["tflops"], d["ok"])
PY
