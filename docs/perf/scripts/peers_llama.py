# PyTorch peers (cuBLAS bf16 linear, _weight_int4pack_mm g128) on Llama-3-8B's projection shapes, M = 1 and 16,
# timed as torch_anchors.py does (triton do_bench median).
import torch, triton.testing as tt
torch.manual_seed(0)
dev = "cuda"
print("torch", torch.__version__, torch.cuda.get_device_name(0))
def bench(fn):
    return tt.do_bench(fn, warmup=50, rep=300, return_mode="median")
for (N, K) in [(1024, 4096), (4096, 4096), (14336, 4096), (4096, 14336), (6144, 4096)]:
    W = torch.randn(N, K, device=dev, dtype=torch.bfloat16)
    G = 128
    q = torch.randint(0, 16, (N, K), device=dev, dtype=torch.int32)
    wp = torch.ops.aten._convert_weight_to_int4pack(((q[:, ::2] << 4) | q[:, 1::2]).to(torch.uint8), 8)
    sz = torch.randn(K // G, N, 2, device=dev, dtype=torch.bfloat16) * 0.01
    for M in (1, 16):
        x = torch.randn(M, K, device=dev, dtype=torch.bfloat16)
        a = bench(lambda: torch.nn.functional.linear(x, W))
        b = bench(lambda: torch.ops.aten._weight_int4pack_mm(x, wp, G, sz))
        print(f"N={N} K={K} M={M}: cublas bf16 {a*1e3:.1f} us, int4 tinygemm g128 {b*1e3:.1f} us")
    del W
    torch.cuda.empty_cache()
