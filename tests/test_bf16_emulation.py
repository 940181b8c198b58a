"""bench/bf16_emulated.py: its emulated bf16 products give what torch's own bf16 kernels give (on sizes small enough for
the slow reference kernels), forward and backward, with the dtypes those kernels return."""
import importlib.util
from pathlib import Path
import torch
import torch.nn.functional as F

spec = importlib.util.spec_from_file_location("bf16_emulated", Path(__file__).resolve().parents[1]/"bench"/"bf16_emulated.py")
emu = importlib.util.module_from_spec(spec)
spec.loader.exec_module(emu)


def products(lin, x, q, k, v):
    "A linear layer, a batched product and fused attention under bf16 autocast, and the linear layer's weight gradient."
    lin.zero_grad()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        y, b, a = lin(x), torch.bmm(x, x.transpose(1, 2)), F.scaled_dot_product_attention(q, k, v)
    (y.float().square().mean() + a.float().sum()).backward()
    return y, b, a, lin.weight.grad.clone()


def test_emulation_matches_bf16_kernels():
    torch.manual_seed(0)
    lin = torch.nn.Linear(64, 32)
    x = torch.randn(4, 16, 64)
    q, k, v = (torch.randn(2, 4, 16, 8, requires_grad=True) for _ in range(3))
    want = products(lin, x, q, k, v)
    mode = emu.EmulatedBf16()
    with mode: got = products(lin, x, q, k, v)
    assert mode.count >= 4   # forward and backward products went through the emulation
    for w, g in zip(want[:3], got[:3]):
        assert g.dtype == w.dtype == torch.bfloat16
        torch.testing.assert_close(g.float(), w.float(), rtol=2e-2, atol=2e-2)   # bf16 keeps 8 bits of mantissa
    torch.testing.assert_close(got[3], want[3], rtol=2e-2, atol=2e-2)
    # fp32 work is left alone
    with emu.EmulatedBf16() as m2: lin(x)
    assert m2.count == 0
