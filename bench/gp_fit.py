"""Time to fit the structure-aware GP (notebook 06) on one split's training variants, per ablation.

Prints one JSON line: seconds per GP (fit with `--steps` Adam steps, then prediction of the test variants), the number
of training variants, the machine. The tower embeddings come from the run's embedding cache (`RUN/affinity/
embedding_cache`, filled by the main job or the benchmark), so the time is the GP's alone.
Usage: python bench/gp_fit.py [--run runs/main] [--assay 14H] [--fraction 1.0] [--steps 100]
"""
import argparse, json, os, platform, time
from pathlib import Path
import numpy as np
import pandas as pd
import torch
from esm2_ab_clip.core import RunDirs, cpu_has_bf16
from esm2_ab_clip.benchmark import (read_registry, load_benchmark_models, zero_shot_scores, chain_site_table,
                                    site_table_scores, assay_split, data_path, tower_roles)
from esm2_ab_clip.affinity import sample_fraction
from esm2_ab_clip.structure import read_pdb_backbone
from esm2_ab_clip.gp import GP_SPECS, gp_jobs, gp_inputs, fit_gp, predict_gp, mutation_rows, site_geometry

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--run", default="runs/main", help="the main job's run folder (its CLIP tower and embedding cache)")
    ap.add_argument("--assay", default="14H")
    ap.add_argument("--scheme", default="random")
    ap.add_argument("--fraction", type=float, default=1.0)
    ap.add_argument("--steps", type=int, default=100)
    a = ap.parse_args()
    run = RunDirs(Path(a.run))
    towers = ["antiberty"] + [str(run.seed_dir(0))] * (run.seed_dir(0)/"tower").is_dir()
    models = load_benchmark_models(tower_roles(towers), run.affinity/"embedding_cache", progress=False, say=lambda s: None)
    row = read_registry().loc[a.assay]
    df, ours, _ = zero_shot_scores(row, models["mlms"], None)
    wt = df.wt.iloc[0]
    sp = assay_split(df, wt, a.scheme, seed=0, name=a.assay)
    parts = [sp.train, sp.valid, sp.test]
    seqs = pd.concat(parts).sequence.tolist()
    vocab, A = mutation_rows(wt, seqs)
    geo, z = None, dict(zip(df.sequence, ours["base masked marginal"]))
    if row.structure:
        table, idx, ca = chain_site_table(models["mpnn"], read_pdb_backbone(data_path(row.structure)), row.chain, wt)
        site = site_table_scores(table, idx, wt, df.sequence.tolist())
        geo, z = site_geometry(vocab, table, idx, ca), dict(zip(df.sequence, site))
    zs = np.array([z[s] for s in seqs])
    tr = sample_fraction(sp.train, a.fraction, 0).index.to_numpy()
    sign = 1 if row.higher_is_better else -1
    y = sign * pd.concat(parts).label.to_numpy(float)
    seconds = {}
    for spec, tower in gp_jobs(GP_SPECS, [t for t in models["features"] if t != "onehot"], geo is not None):
        E = models["features"][tower](seqs) if spec.seq else None
        x = gp_inputs(A, E, zs if spec.zero_shot_mean else None, tr)
        t0 = time.time()
        fit = fit_gp(x[tr], y[tr], spec, geo, A.shape[1], 0 if E is None else E.shape[1], steps=a.steps)
        predict_gp(fit, x[len(sp.train):])
        seconds[spec.name(tower)] = round(time.time() - t0, 1)
    print(json.dumps({"bench": "gp_fit", "assay": a.assay, "scheme": a.scheme, "fraction": a.fraction,
                      "n_train": int(len(tr)), "steps": a.steps, "seconds": seconds,
                      "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPU(s), "
                                 f"native bf16 {cpu_has_bf16()}, torch threads {torch.get_num_threads()}",
                      "date": time.strftime("%Y-%m-%d")}))

if __name__ == "__main__":
    main()
