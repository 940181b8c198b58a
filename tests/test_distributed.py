"""`torchrun --nproc_per_node 2 --no-python esm2-ab-clip embed`: two processes (gloo, CPU) shard the entries into the same
resumable store; together they write exactly the entries, chains and vectors one process writes."""
import shutil, subprocess, sys
from pathlib import Path
import numpy as np
import pandas as pd
from conftest import needs_data
from test_cli import cli

BIN = Path(sys.executable).parent

def store(run: Path) -> pd.DataFrame:
    parts = sorted((run/"embeddings"/"proteinmpnn").rglob("part-*.parquet"))
    return pd.concat([pd.read_parquet(p).assign(split=p.parent.name) for p in parts], ignore_index=True)

@needs_data
def test_torchrun_embed_two_processes_equals_one(tmp_path, ingest_60):
    one, two = tmp_path/"one", tmp_path/"two"
    for run in (one, two): shutil.copytree(ingest_60, run/"ingest")   # the same split for both
    cli("embed", "--out", one)
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2", "--no-python"]
    r = subprocess.run(torchrun + [str(BIN/"esm2-ab-clip"), "embed", "--out", str(two), "--chunk_size", "8"],
                       capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert "(2 processes)" in r.stdout
    a, b = store(one), store(two)
    assert any(p.name.startswith("part-r001-") for p in (two/"embeddings"/"proteinmpnn").rglob("*.parquet"))  # rank 1 wrote
    assert not b.duplicated(["split", "id", "chain"]).any()
    key = lambda t: t.set_index(["split", "id", "chain"]).sort_index()
    a, b = key(a), key(b)
    assert a.index.equals(b.index) and (a.status == b.status).all()   # no entry missing, none added
    ok = a.status == "ok"
    np.testing.assert_allclose(np.stack(b.vector[ok]), np.stack(a.vector[ok]), atol=1e-5)
    man = pd.read_parquet(next((two/"ingest").rglob("manifest.parquet")))
    assert set(b.reset_index().id) == set(man.id)
    r = subprocess.run(torchrun + [str(BIN/"esm2-ab-clip"), "embed", "--out", str(two)], capture_output=True, text=True, timeout=900)
    assert r.returncode == 0 and "'embedded': 0" in r.stdout and "'skipped_existing': 0" not in r.stdout   # resumes: nothing to do

@needs_data
def test_torchrun_train_two_processes_uses_the_global_batch(tmp_path, ingest_60):
    """`torchrun --nproc_per_node 2 ... esm2-ab-clip train`: DDP over gloo; each optimiser step sees 2 x the per-device batch
    (global negatives in the loss), rank 0 alone writes one model that loads, and a rerun skips it."""
    import json
    from esm2_ab_clip.clip import AbClipModel
    run = tmp_path/"run"; shutil.copytree(ingest_60, run/"ingest")
    cli("embed", "--out", run)
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2", "--no-python"]
    args = [str(BIN/"esm2-ab-clip"), "train", "--out", str(run), "--tower", "tiny-bert", "--seeds", "0", "--epochs", "2",
            "--batch_size", "4"]
    r = subprocess.run(torchrun + args, capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert "2 processes (global batch = 2 x the batch size)" in r.stdout
    assert "parallel_mode != ParallelMode.DISTRIBUTED" not in r.stdout + r.stderr   # the Trainer really ran DDP
    sd = run/"clip"/"seed0"
    info = json.loads((sd/"metrics.json").read_text())["info"]
    assert info["processes"] == 2
    h = pd.read_csv(sd/"history.csv")
    steps_per_epoch = int(h.loc[h.epoch == 1, "step"].max())
    assert steps_per_epoch == info["n_pairs"]["train"] // (2 * 4), (steps_per_epoch, info["n_pairs"])
    AbClipModel.from_pretrained(sd)   # one complete model, written once
    assert not (sd/"checkpoints").exists()
    r = subprocess.run(torchrun + args, capture_output=True, text=True, timeout=900)
    assert r.returncode == 0 and "exists, skipping" in r.stdout
