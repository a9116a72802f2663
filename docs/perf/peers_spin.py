# PyTorch's peers timed the way `kernelgen bench` times its kernels (--start spin, the default): weights rotated among
# copies larger than L2, and each timed call queued behind a short spin kernel (torch.cuda._sleep) so that the events
# bracket the kernel, not the host's launch latency, and L2 holds no dirty lines from a flush. torch_anchors.py
# (triton.testing.do_bench: a 256 MiB clear before each call) stays the reference; this is the same-method check.
# Run on the device beside the bench: python3 peers_spin.py
import statistics, torch
torch.manual_seed(0)
dev = "cuda"
print("torch", torch.__version__, torch.cuda.get_device_name(0))
ROTATE = 128 << 20  # bytes of weight copies, as the bench's RotationBytes
SLEEP = 50_000      # cycles (~28 us at 1.755 GHz): longer than a launch takes on the host

def timed(fns, reps=30, warmup=5):
    for i in range(warmup):
        fns[i % len(fns)]()
    torch.cuda.synchronize()
    times = []
    for i in range(reps):
        s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        torch.cuda._sleep(SLEEP)
        s.record(); fns[i % len(fns)](); e.record()
        e.synchronize()
        times.append(s.elapsed_time(e) * 1e3)
    return statistics.median(times)

for (N, K) in [(4096, 4096), (8192, 8192), (28672, 8192), (8192, 28672)]:
    G = 128
    copies = max(1, min(16, -(-ROTATE // (N * K * 2))))
    Ws = [torch.randn(N, K, device=dev, dtype=torch.bfloat16) for _ in range(copies)]
    q = torch.randint(0, 16, (N, K), device=dev, dtype=torch.int32)
    packed = ((q[:, ::2] << 4) | q[:, 1::2]).to(torch.uint8)
    icopies = max(1, min(16, -(-ROTATE // (N * K // 2))))
    wps = [torch.ops.aten._convert_weight_to_int4pack(packed, 8) for _ in range(icopies)]
    szs = [torch.randn(K // G, N, 2, device=dev, dtype=torch.bfloat16) * 0.01 for _ in range(icopies)]
    for M in (1, 16, 128, 2048):
        x = torch.randn(M, K, device=dev, dtype=torch.bfloat16)
        us = timed([lambda W=W: torch.nn.functional.linear(x, W) for W in Ws])
        print(f"spin bf16 cublas N={N} K={K} M={M}: {us:.1f} us  {2*M*N*K/us/1e6:.1f} TFLOP/s")
        us = timed([lambda wp=wp, sz=sz: torch.ops.aten._weight_int4pack_mm(x, wp, G, sz) for wp, sz in zip(wps, szs)])
        print(f"spin int4 tinygemm g128 N={N} K={K} M={M}: {us:.1f} us  {2*M*N*K/us/1e6:.1f} TFLOP/s")
    del Ws, wps, szs
    torch.cuda.empty_cache()
