"""CLIP training throughput and quality: this pipeline vs the paper's recipe, same tower, same data, one run.

ours:     sequences tokenized once up front, masked-mean pooling over residues, batch 32, length-grouped batches,
          dynamic padding, mixed precision on GPU.
upstream: the paper's recipe: per-item tokenization inside the dataset, CLS pooling, batch 8, random batches
          (no length grouping), padding to the longest sequence of the batch.
Both train for the same number of epochs on the notebook-00 train split with the notebook-01 ProteinMPNN embeddings
and are scored on the test split (top-1 sequence→structure retrieval).

Prints one JSON line: ours_sps, upstream_sps, ours_top1, upstream_top1, n_test (+ context).
Usage: python bench/clip_train.py [--tower antiberty] [--epochs 1] [--max-train N]
"""
import argparse, json, os, platform, tempfile, time
from pathlib import Path
import numpy as np
import torch
from esm2_ab_clip.core import output_dir
from esm2_ab_clip.clip import (AbClipModel, ClipCollator, ClipDataset, ClipTrainer, clip_training_args, evaluate_clip,
                               load_clip_split, load_tower)

class PerItemDataset(torch.utils.data.Dataset):
    "The paper's data path: raw sequences, tokenized one by one when an item is drawn."
    def __init__(self, ds: ClipDataset, tokenizer):
        self.seqs, self.vectors, self.groups, self.tok = list(ds.pairs.sequence), ds.vectors, ds.groups, tokenizer
    def __len__(self): return len(self.seqs)
    def __getitem__(self, i):
        ids = self.tok(self.seqs[i], truncation=True, max_length=512)["input_ids"]
        return {"input_ids": torch.tensor(ids), "structure_embeds": self.vectors[i], "group_ids": self.groups[i]}

def train_once(tower, tok, train, test, pooling, batch_size, group_by_length, epochs, seed, per_item):
    model = AbClipModel.from_tower(tower, tok, structure_dim=train.vectors.shape[1], pooling=pooling, seed=seed)
    ds = PerItemDataset(train, tok) if per_item else train
    with tempfile.TemporaryDirectory() as d:
        args = clip_training_args(d, seed=seed, epochs=epochs, batch_size=batch_size, group_by_length=group_by_length,
                                  progress=False, eval_strategy="no", save_strategy="no", load_best_model_at_end=False)
        tr = ClipTrainer(model=model, args=args, train_dataset=ds, data_collator=ClipCollator(tok.pad_token_id))
        if torch.cuda.is_available(): torch.cuda.synchronize()
        t = time.perf_counter(); tr.train()
        if torch.cuda.is_available(): torch.cuda.synchronize()
        secs = time.perf_counter() - t
    n_seen = (len(ds) // batch_size) * batch_size * epochs
    return n_seen / secs, evaluate_clip(tr.model, test)["seq2struct_top1"], secs

def esm2_8m_random(seed: int=0):
    "The ESM2 t6 8M architecture (6 layers, 320 hidden, 20 heads), randomly initialised: the paper's tower without its weights."
    from esm2_ab_clip.clip import tiny_tower
    return tiny_tower("esm", hidden=320, layers=6, heads=20, intermediate=1280, seed=seed)

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tower", default="antiberty", help="antiberty, an ESM2 id/folder, or esm2-8m-random"); ap.add_argument("--epochs", type=float, default=1)
    ap.add_argument("--dataset", default=None, help="ProteinFlow dataset folder of notebook 00")
    ap.add_argument("--max-train", type=int, default=0, help="use only the first N training pairs (0: all)")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    dataset = Path(a.dataset) if a.dataset else output_dir()/"proteinflow_sabdab_offline"
    tower, tok = esm2_8m_random(a.seed) if a.tower == "esm2-8m-random" else load_tower(a.tower)
    train, test = load_clip_split(dataset, "train", tok), load_clip_split(dataset, "test", tok)
    if a.max_train:
        keep = list(range(min(a.max_train, len(train))))
        train = ClipDataset(train.pairs.iloc[keep], train.vectors[keep].numpy(), tok)
    ours = train_once(tower, tok, train, test, "mean", 32, True, a.epochs, a.seed, per_item=False)
    up = train_once(tower, tok, train, test, "cls", 8, False, a.epochs, a.seed, per_item=True)
    print(json.dumps({"ours_sps": round(ours[0], 2), "upstream_sps": round(up[0], 2), "ours_top1": round(ours[1], 4),
                      "upstream_top1": round(up[1], 4), "n_test": len(test), "n_train": len(train), "epochs": a.epochs,
                      "tower": a.tower, "ours_train_s": round(ours[2], 1), "upstream_train_s": round(up[2], 1),
                      "device": torch.cuda.get_device_name() if torch.cuda.is_available() else f"cpu x{os.cpu_count()}",
                      "torch": torch.__version__}))

if __name__ == "__main__":
    main()
