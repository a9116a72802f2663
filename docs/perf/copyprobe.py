# Read-only and copy time of the q4g128 weights' bytes on this card: how fast can 35 MB (8192^2) and 123 MB (28672x8192) move?
import torch
def t(fn, bufs, reps=50):
    s=[torch.cuda.Event(enable_timing=True) for _ in range(reps)]; e=[torch.cuda.Event(enable_timing=True) for _ in range(reps)]
    for i in range(5): fn(bufs[i % len(bufs)])
    torch.cuda.synchronize()
    for i in range(reps):
        b=bufs[i % len(bufs)]; torch.cuda._sleep(200000); s[i].record(); fn(b); e[i].record()
    torch.cuda.synchronize()
    v=sorted(a.elapsed_time(b)*1000 for a,b in zip(s,e)); return v[len(v)//2]
print(torch.cuda.get_device_name())
for name, nbytes in [("8192^2 q4g128", 35_015_680), ("4096^2 q4g128", 8_808_448), ("28672x8192 q4g128", 122_050_560)]:
    n = nbytes // 4
    count = max(4, (512 << 20) // nbytes)
    src=[torch.randn(n, device="cuda") for _ in range(count)]
    dst=[torch.empty(n, device="cuda") for _ in range(count)]
    pairs=list(zip(src,dst))
    read=t(lambda a: a.sum(), src)
    copy=t(lambda p: p[1].copy_(p[0]), pairs)
    print(f"{name}: {nbytes/1e6:.1f} MB  sum (read) {read:.1f} us = {nbytes/read/1e3:.0f} GB/s   copy {copy:.1f} us = {2*nbytes/copy/1e3:.0f} GB/s (read+write)")
