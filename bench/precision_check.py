"""bf16 vs fp32 CLIP training: are the loss curve and the final retrieval of a bf16 run within the seed noise of fp32?

Reads two run directories of `esm2-ab-clip train` made from the same ingest and embeddings: one trained with
`--precision fp32` (or auto on a machine without native bf16), with several seeds, and one with `--precision bf16`.
Prints one JSON line: per epoch the training and validation loss of each run, and for the test metrics the fp32 seeds'
mean, sd and range, the bf16 value(s), and whether each bf16 value lies within the fp32 range widened by one sd.

  esm2-ab-clip train --out runs/bf16 --seeds 0 --precision bf16     # after copying ingest/ and embeddings/ from runs/main
  python bench/precision_check.py --fp32 runs/main --bf16 runs/bf16
"""
import argparse, json
from pathlib import Path
import numpy as np
import pandas as pd

METRICS = ("seq2struct_top1", "struct2seq_top1", "mrr", "uniformity_struct")

def load(run: Path) -> dict:
    "seed -> (metrics.json, per-epoch history) of every trained seed in a run directory."
    out = {}
    for m in sorted((run/"clip").glob("seed*/metrics.json")):
        h = pd.read_csv(m.parent/"history.csv") if (m.parent/"history.csv").exists() else pd.DataFrame()
        curve = {}
        if len(h):
            tr = h.dropna(subset=["loss"]).groupby("epoch").loss.last() if "loss" in h else pd.Series(dtype=float)
            ev = h.dropna(subset=["eval_loss"]).groupby("epoch").eval_loss.last() if "eval_loss" in h else pd.Series(dtype=float)
            curve = {"train_loss": [round(float(x), 4) for x in tr], "valid_loss": [round(float(x), 4) for x in ev]}
        out[m.parent.name] = (json.loads(m.read_text()), curve)
    if not out: raise SystemExit(f"{run}/clip/seed*/metrics.json: no trained seed found")
    return out

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--fp32", required=True); ap.add_argument("--bf16", required=True)
    a = ap.parse_args()
    f32, b16 = load(Path(a.fp32)), load(Path(a.bf16))
    res = {"fp32_seeds": sorted(f32), "bf16_seeds": sorted(b16),
           "precisions": {"fp32": sorted({m["info"].get("precision", "fp32") for m, _ in f32.values()}),
                          "bf16": sorted({m["info"].get("precision", "?") for m, _ in b16.values()})},
           "curves": {f"fp32/{k}": c for k, (_, c) in f32.items()} | {f"bf16/{k}": c for k, (_, c) in b16.items()}}
    within = {}
    for key in METRICS:
        x = np.array([m["metrics"]["test"][key] for m, _ in f32.values()])
        y = [m["metrics"]["test"][key] for m, _ in b16.values()]
        sd = float(x.std(ddof=1)) if len(x) > 1 else 0.0
        lo, hi = float(x.min()) - sd, float(x.max()) + sd
        res[key] = {"fp32_mean": round(float(x.mean()), 4), "fp32_sd": round(sd, 4), "fp32_range": [round(float(x.min()), 4), round(float(x.max()), 4)],
                    "bf16": [round(v, 4) for v in y]}
        within[key] = all(lo <= v <= hi for v in y)   # unrounded values: a bf16 value equal to every fp32 seed is inside
    curves = [c["valid_loss"] for _, c in f32.values() if c.get("valid_loss")]
    n = min(map(len, curves)) if curves else 0
    if len(curves) > 1 and n:
        x = np.array([c[:n] for c in curves])   # seeds x epochs
        sd = x.std(0, ddof=1); lo, hi = x.min(0) - sd, x.max(0) + sd
        excess = [float(np.max(np.maximum(lo[:len(v)] - v, v - hi[:len(v)]))) for v in
                  (np.array(c["valid_loss"][:n]) for _, c in b16.values() if c.get("valid_loss"))]
        res["valid_loss_excess_over_fp32_band"] = [round(e, 4) for e in excess]   # <= 0: every epoch inside min-sd .. max+sd
        within["valid_loss_curve"] = all(e <= 0 for e in excess)
    res["within_seed_noise"] = within
    print(json.dumps(res))

if __name__ == "__main__":
    main()
