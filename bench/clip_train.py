"""CLIP training throughput and quality: our default recipe vs the original recipe, same tower, same chains, one run.

original: the paper's recipe as the project first shipped it: the whole tower trains with fresh heads, batch 8, every
          batch padded to the longest sequence of the training set, sequences tokenized one by one as items are drawn,
          CLS pooling, fp32 on CPU / fp16 on GPU, lr 1e-4, mean-pooled structure vectors.
ours:     `train_clip` with `DEFAULT_RECIPE`: sequences tokenized once, the frozen bottom run once per sequence
          (`cache_hidden`) and only the top layers trained, heads warm-started on frozen features, length-grouped
          batches of 32 padded to their own longest sequence, mean pooling, bf16 autocast where the hardware has it
          natively (`training_precision`), CDR-pooled standardised structure vectors + residue loss.
Both train for the same number of epochs on the notebook-00 train split with the notebook-01 ProteinMPNN embeddings,
without evaluations or checkpoints during training, and are scored on the test split (top-1 sequence→structure).
samples/s = training samples seen / seconds spent fitting (ours includes caching the bottom and the warm start).
Fraction of peak = model FLOPs per sample (real tokens, forward 2·params + attention, backward 2× forward, only the
layers each recipe runs) × samples/s ÷ the peak stated in the JSON (`--peak-tflops` to override).

Prints one JSON line per tower. Usage:
  python bench/clip_train.py [--tower antiberty|esm2-8m-random|<id or folder>] [--epochs 6] [--run runs/main]
Our recipe pays two fixed costs per run (the bottom's pass over the train split and the warm start, ~1 min here), so
its advantage grows with the epochs: compare at the recipe's own 6 epochs (the default) or say which.
"""
import argparse, json, os, platform, re, subprocess, tempfile, time
from pathlib import Path
import numpy as np
import torch
from esm2_ab_clip.core import RunDirs, resolve_precision, keep_freed_memory
from esm2_ab_clip.clip import AbClipModel, ClipCollator, ClipDataset, evaluate_clip, load_clip_split
from esm2_ab_clip.train import ClipTrainer, DEFAULT_RECIPE, RECIPES, clip_training_args, train_clip
from esm2_ab_clip.towers import load_tower, n_layers, tiny_tower

class PerItemDataset(torch.utils.data.Dataset):
    "The original data path: raw sequences, tokenized one by one when an item is drawn."
    def __init__(self, ds: ClipDataset, tokenizer):
        self.seqs, self.vectors, self.groups, self.tok = list(ds.pairs.sequence), ds.vectors, ds.groups, tokenizer
    def __len__(self): return len(self.seqs)
    def __getitem__(self, i):
        ids = self.tok(self.seqs[i], truncation=True, max_length=512)["input_ids"]
        return {"input_ids": torch.tensor(ids), "structure_embeds": self.vectors[i], "group_ids": self.groups[i]}

class GlobalPadCollator(ClipCollator):
    "Pad every batch to one fixed length (the longest sequence of the training set), as the original recipe did."
    def __init__(self, pad_token_id: int, length: int):
        super().__init__(pad_token_id); self.length = length
    def __call__(self, items):
        b = super().__call__(items); extra = self.length - b["input_ids"].shape[1]
        if extra > 0:
            b["input_ids"] = torch.nn.functional.pad(b["input_ids"], (0, extra), value=self.pad_token_id)
            b["attention_mask"] = torch.nn.functional.pad(b["attention_mask"], (0, extra), value=0)
        return b

def seen(n: int, batch: int, epochs: float) -> int: return int((n // batch) * batch * epochs)

def train_original(tower, tok, train: ClipDataset, test: ClipDataset, epochs: float, seed: int) -> dict:
    "The original recipe: whole tower, batch 8, global padding, per-item tokenization, CLS pooling, fp32 (fp16 on GPU)."
    model = AbClipModel.from_tower(tower, tok, structure_dim=train.vectors.shape[1], pooling="cls", seed=seed)
    gpu = {"fp16": True, "bf16": False} if torch.cuda.is_available() else {}
    with tempfile.TemporaryDirectory() as d:
        args = clip_training_args(d, seed=seed, epochs=epochs, batch_size=8, group_by_length=False, progress=False,
                                  eval_strategy="no", save_strategy="no", load_best_model_at_end=False, **gpu)
        longest = max(len(x) for x in train.input_ids)
        tr = ClipTrainer(model=model, args=args, train_dataset=PerItemDataset(train, tok),
                         data_collator=GlobalPadCollator(tok.pad_token_id, longest))
        if torch.cuda.is_available(): torch.cuda.synchronize()
        t = time.perf_counter(); tr.train()
        if torch.cuda.is_available(): torch.cuda.synchronize()
        secs = time.perf_counter() - t
    n = seen(len(train), 8, epochs)
    return {"sps": n / secs, "seconds": secs, "samples": n, "top1": evaluate_clip(tr.model, test)["seq2struct_top1"],
            "precision": "fp16" if gpu else "fp32", "pad_to": longest}

def train_ours(tower, tok, dataset: Path, store, epochs: float, seed: int) -> dict:
    "`train_clip` with the default recipe, no evaluations or checkpoints during training; fit time as it records it."
    opt = RECIPES[DEFAULT_RECIPE]
    with tempfile.TemporaryDirectory() as d:
        run = train_clip((tower, tok), dataset=dataset, store=store, out=Path(d)/"ours", seed=seed, epochs=epochs, progress=False,
                         perplexity=False, eval_strategy="no", save_strategy="no", load_best_model_at_end=False)
    n = seen(run.info["n_pairs"]["train"], opt.batch_size, epochs)
    return {"sps": n / run.info["fit_seconds"], "seconds": run.info["fit_seconds"], "samples": n,
            "top1": run.metrics["test"]["seq2struct_top1"], "precision": resolve_precision(run.model.device),
            "train_layers": opt.train_layers, "selected": run.info["selected"]}

def layer_flops(cfg, T: np.ndarray) -> np.ndarray:
    "Forward FLOPs of one transformer layer per sequence of T real tokens: 2 x weights x T + attention scores and mixing."
    H, I = cfg.hidden_size, cfg.intermediate_size
    return T * (2 * (4 * H * H + 2 * H * I) + 4 * T * H)

def flops_per_sample(cfg, T: np.ndarray, trained: int, frozen: int, epochs: float) -> float:
    "Mean model FLOPs per training sample: trained layers forward + backward (3x), frozen layers forward once per run."
    f = layer_flops(cfg, T)
    return float(np.mean(3 * trained * f + frozen * f / epochs))

def cpu_peak() -> tuple[float, str]:
    "fp32 FMA peak of the CPU threads torch uses: threads x GHz x FLOPs/cycle (AVX-512: 64, AVX2+FMA: 32, else 16)."
    info = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    flags = set(re.findall(r"^flags\s*:\s*(.*)$", info, re.M)[0].split()) if "flags" in info else set()
    mhz = [float(x) for x in re.findall(r"^cpu MHz\s*:\s*([\d.]+)", info, re.M)]
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        mx = re.search(r"CPU max MHz:\s*([\d.]+)", out)
        if mx: mhz = [float(mx.group(1))]
    except OSError: pass
    ghz = (max(mhz) if mhz else 2500.0) / 1000
    per_cycle = 64 if "avx512f" in flags else 32 if {"avx2", "fma"} <= flags else 16
    threads = torch.get_num_threads()
    return threads * ghz * per_cycle * 1e9, f"{threads} threads x {ghz:.2f} GHz x {per_cycle} fp32 FLOPs/cycle"

GPU_PEAKS = {"H200": (989e12, 67e12), "H100": (989e12, 67e12), "A100": (312e12, 19.5e12), "L4": (121e12, 30e12)}  # dense bf16/fp16, fp32

def gpu_peak(precision: str) -> tuple[float|None, str]:
    name = torch.cuda.get_device_name()
    for k, (half, fp32) in GPU_PEAKS.items():
        if k in name: return (half if precision in ("bf16", "fp16") else fp32), f"{name} dense {precision} (datasheet)"
    return None, f"{name}: peak unknown (pass --peak-tflops)"

def esm2_8m_random(seed: int=0):
    "The ESM2 t6 8M architecture (6 layers, 320 hidden, 20 heads, 1280 intermediate), randomly initialised."
    return tiny_tower("esm", hidden=320, layers=6, heads=20, intermediate=1280, seed=seed)

def main():
    kept = keep_freed_memory()   # as the command line does: large tensors reuse freed memory, for both contenders
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tower", default="antiberty", help="antiberty, an ESM2 id/folder, or esm2-8m-random")
    ap.add_argument("--epochs", type=float, default=None, help="epochs of both (default: the recipe's, 6; fewer favour the original)")
    ap.add_argument("--run", default=None, help="a run directory of `esm2-ab-clip run` (its ingest/ and embeddings/)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--peak-tflops", type=float, default=None, help="the hardware's peak, to override the estimate")
    a = ap.parse_args()
    if a.epochs is None: a.epochs = float(RECIPES[DEFAULT_RECIPE].epochs)
    if a.run: dataset, store = Path(a.run)/"ingest"/"proteinflow_sabdab", Path(a.run)/"embeddings"
    else: dataset, store = RunDirs().dataset, None
    fresh = lambda: esm2_8m_random(a.seed) if a.tower == "esm2-8m-random" else load_tower(a.tower)
    tower, tok = fresh()
    train, test = (load_clip_split(dataset, s, tok, store=store) for s in ("train", "test"))
    orig = train_original(tower, tok, train, test, a.epochs, a.seed)
    ours = train_ours(*fresh(), dataset, store, a.epochs, a.seed)
    cfg, L = tower.config, n_layers(tower)
    T = np.array([len(x) for x in train.input_ids])
    f_orig = flops_per_sample(cfg, T, L, 0, a.epochs)
    f_ours = flops_per_sample(cfg, T, ours["train_layers"], L - ours["train_layers"], a.epochs)
    if torch.cuda.is_available():
        (p_orig, what_orig), (p_ours, what_ours) = gpu_peak(orig["precision"]), gpu_peak(ours["precision"])
    else:
        p_orig, what_orig = cpu_peak(); p_ours, what_ours = p_orig, what_orig
    if a.peak_tflops: p_orig = p_ours = a.peak_tflops * 1e12; what_orig = what_ours = f"{a.peak_tflops} TFLOPS (given)"
    frac = lambda f, sps, p: round(f * sps / p, 4) if p else None
    print(json.dumps({
        "tower": a.tower, "epochs": a.epochs, "malloc_keeps_freed": kept, "n_train": len(train), "n_test": len(test), "recipe": DEFAULT_RECIPE,
        "ours_sps": round(ours["sps"], 2), "original_sps": round(orig["sps"], 2), "speedup": round(ours["sps"] / orig["sps"], 2),
        "ours_top1": round(ours["top1"], 4), "original_top1": round(orig["top1"], 4), "chance_top1": round(1 / len(test), 4),
        "ours_fit_s": round(ours["seconds"], 1), "original_fit_s": round(orig["seconds"], 1),
        "ours_precision": ours["precision"], "original_precision": orig["precision"], "original_pad_to": orig["pad_to"],
        "ours_gflop_per_sample": round(f_ours / 1e9, 2), "original_gflop_per_sample": round(f_orig / 1e9, 2),
        "ours_fraction_of_peak": frac(f_ours, ours["sps"], p_ours), "original_fraction_of_peak": frac(f_orig, orig["sps"], p_orig),
        "peak": what_ours, "peak_tflops": round(p_ours / 1e12, 2) if p_ours else None,
        "device": torch.cuda.get_device_name() if torch.cuda.is_available() else f"cpu {platform.processor() or platform.machine()} x{os.cpu_count()}",
        "torch": torch.__version__}))

if __name__ == "__main__":
    main()
