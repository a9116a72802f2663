#!/bin/bash
# Session 22, call 3: where the cluster staging of x (v41b) spends its time. ncu's full set on one M = 16 launch of
# q4g128 on 4096² with clusters off and of 2; the key raw metrics (durations, throughputs, stall reasons per issued
# instruction, bytes) side by side, and the SASS with stall samples.
source "$(dirname "$0")/common.sh"
for c in 0 2; do
  KERNELGEN_GEMV_CLUSTER=$c timeout 150 ncu --set full --import-source no -k regex:GemvKernel --launch-skip 3 --launch-count 1 -o /tmp/c$c $KG bench --device cuda --shapes 4096x4096 --m 16 --schemes q4g128 --reps 3 --warmup 1 > $OUT/ncu-c$c.log 2>&1
  ncu -i /tmp/c$c.ncu-rep --page raw --csv > /tmp/c$c-raw.csv 2>&1
  ncu -i /tmp/c$c.ncu-rep --page source --csv --print-source sass > $OUT/c$c-source.csv 2>&1
  echo "=== c$c"; tail -1 $OUT/ncu-c$c.log
done
python3 - "$OUT" <<'PY'
import csv, sys
def load(p):
    rows = list(csv.reader(open(p)))
    i = next(k for k, r in enumerate(rows) if 'gpu__time_duration.sum' in r)
    return dict(zip(rows[i], rows[i + 2])), dict(zip(rows[i], rows[i + 1]))
a, units = load('/tmp/c0-raw.csv'); b, _ = load('/tmp/c2-raw.csv')
keys = [k for k in a if k in b and (k in ('gpu__time_duration.sum', 'launch__registers_per_thread', 'launch__grid_size', 'launch__cluster_dim_x', 'smsp__inst_executed.sum', 'sm__warps_active.avg.pct_of_peak_sustained_active', 'dram__bytes_read.sum', 'lts__t_bytes.sum', 'l1tex__m_xbar2l1tex_read_bytes.sum', 'smsp__cycles_active.avg', 'sm__cycles_elapsed.avg')
        or (k.startswith('smsp__average_warp_latency_issue_stalled_') and k.endswith('.ratio'))
        or (k.endswith('throughput.avg.pct_of_peak_sustained_elapsed') and k.count('__') == 1))]
with open(sys.argv[1] + '/metrics.txt', 'w') as f:
    for k in keys:
        try:
            if abs(float(a[k].replace(',', ''))) + abs(float(b[k].replace(',', ''))) < 0.05: continue
        except ValueError: pass
        line = f'{k:90s} {a[k]:>14s} {b[k]:>14s} {units.get(k, "")}'
        print(line); f.write(line + '\n')
PY
