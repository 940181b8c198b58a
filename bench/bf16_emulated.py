"""bf16 CLIP training on a CPU without native bf16, to check its numerics: the loss curve and the retrieval.

Native bf16 hardware (AVX512-BF16 / AMX, GPU tensor cores) multiplies bf16 operands and accumulates in fp32. Without
it, torch runs bf16 matrix products through a reference kernel about 300 times slower than fp32 (measured here:
2048 x 512 x 2048, 20 products: 0.56 s fp32, 158 s bf16 autocast), so a bf16 run cannot be checked on such a machine.
This script makes the process behave as a native-bf16 CPU would: `core.cpu_has_bf16` answers yes (so `auto` picks bf16
for training and evaluation, as it would there), autocast casts to bf16 as usual, and every bf16 matrix product or
attention kernel is computed from those same bf16 values in fp32 and rounded back to bf16 (the dtype the native kernel
returns). Only the accumulation order can differ from native hardware; elementwise ops, softmax and norms run as
autocast runs them.

  python bench/bf16_emulated.py --run outputs --out runs/bf16 --seeds 0     # copies ingest/ and embeddings/ from --run
  python bench/precision_check.py --fp32 outputs --bf16 runs/bf16

Prints one JSON line: the run folder, seeds, seconds, and the number of products emulated.
"""
import argparse, json, shutil, time
from pathlib import Path
import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_map
import esm2_ab_clip.core as core

aten = torch.ops.aten
# the ops autocast sends to bf16 that lack a fast kernel on such CPUs: matrix products and fused attention
SLOW = {aten.mm.default, aten.addmm.default, aten.bmm.default, aten.baddbmm.default,
        aten._scaled_dot_product_flash_attention_for_cpu.default,
        aten._scaled_dot_product_flash_attention_for_cpu_backward.default}

class EmulatedBf16(TorchDispatchMode):
    "bf16 products computed in fp32 from the bf16 operands; each output gets the dtype the bf16 kernel gives it."
    def __init__(self):
        super().__init__()
        self.count = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        is_bf16 = lambda x: isinstance(x, torch.Tensor) and x.dtype == torch.bfloat16
        if func not in SLOW or not any(is_bf16(a) for a in (*args, *kwargs.values())): return func(*args, **kwargs)
        self.count += 1
        to_meta = lambda x: x.to("meta") if isinstance(x, torch.Tensor) else x
        want = func(*tree_map(to_meta, args), **tree_map(to_meta, kwargs))   # the output dtypes of the bf16 kernel
        up = lambda x: x.float() if is_bf16(x) else x
        got = func(*tree_map(up, args), **tree_map(up, kwargs))
        if isinstance(got, torch.Tensor): return got.to(want.dtype)
        return type(got)(g.to(w.dtype) if isinstance(g, torch.Tensor) else g for g, w in zip(got, want))

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--run", required=True, help="a finished run folder: its ingest/ and embeddings/ are copied")
    ap.add_argument("--out", required=True, help="the bf16 run folder")
    ap.add_argument("--seeds", default="0")
    a = ap.parse_args()
    core.keep_freed_memory()
    src, out = Path(a.run), Path(a.out)
    for part in ("ingest", "embeddings"):
        if not (out/part).exists(): shutil.copytree(src/part, out/part)
    if core.cpu_has_bf16() or torch.cuda.is_available():
        raise SystemExit("this machine runs bf16 natively: use `esm2-ab-clip train --precision bf16` instead")
    core.cpu_has_bf16 = lambda: True   # `auto` now resolves to bf16, in training and in evaluation
    from esm2_ab_clip.stages import stage_train
    mode, t = EmulatedBf16(), time.time()
    with mode: stage_train(out, seeds=a.seeds)
    print(json.dumps({"run": str(out), "seeds": a.seeds, "seconds": round(time.time() - t, 1),
                      "emulated_products": mode.count, "torch": torch.__version__}))

if __name__ == "__main__":
    main()
