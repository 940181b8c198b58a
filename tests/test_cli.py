"""The command line end to end (issue: the main job): a quick run on a small subset of the shared data with a tiny
tower, an interrupted embed stage that resumes, and bad input."""
import json, os, re, shutil, signal, subprocess, sys, time
from pathlib import Path
import pandas as pd
import pytest
from conftest import needs_data

CLI = [sys.executable, "-c", "from esm2_ab_clip.cli import main; main()"]

def cli(*args, check=True, timeout=900, **kw):
    "Run `esm2-ab-clip ARGS`; no Python traceback may reach the user unless the test asked for one with --debug."
    r = subprocess.run(CLI + [str(a) for a in args], capture_output=True, text=True, timeout=timeout, **kw)
    if check: assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    if "--debug" not in map(str, args):
        assert "Traceback (most recent call last)" not in r.stdout + r.stderr, r.stdout[-3000:] + r.stderr[-3000:]
    return r

def test_help_lists_every_command_and_option():
    r = cli("--help")
    for c in ("ingest", "embed", "train", "evaluate", "run", "score", "embed-seqs", "benchmark"): assert c in r.stdout
    r = cli("run", "--help")
    for opt in ("--out", "--quick", "--paper", "--force", "--tower", "--recipe"): assert opt in r.stdout
    r = cli("train", "--help")
    for opt in ("--recipe", "--train_layers", "--residue_weight", "--struct_pooling", "--head_lr"): assert opt in r.stdout
    assert cli("nonsense", check=False).returncode == 2

@needs_data
def test_quick_run_end_to_end(tmp_path):
    """A first run on a fresh machine: the data directory is empty, so `run` fetches SAbDab (60 structures) and the CSVs from
    a local server standing in for the internet (tests/test_fetch.py), then runs every stage on what it fetched."""
    from test_fetch import Server, internet, check_first_fetch
    out, srv = tmp_path/"run", Server(internet(60))
    env = {**os.environ, "ESM2_AB_CLIP_DATA": str(tmp_path/"data"), "ESM2_AB_CLIP_OUT": str(tmp_path/"out")}
    try: r = cli("run", "--quick", "--tower", "tiny-bert", "--max_structures", 60, "--out", out, env={**env, "ESM2_AB_CLIP_MIRROR": srv.base})
    finally: srv.close()
    assert "run finished" in r.stdout and re.search(r"device: (cpu|cuda:0) \(", r.stdout)
    check_first_fetch(r.stdout, tmp_path/"data", tmp_path/"out")
    ds = out/"ingest"/"proteinflow_sabdab"
    man, excl = pd.read_parquet(ds/"manifest.parquet"), pd.read_parquet(ds/"exclusions.parquet")
    ing = json.loads((ds/"ingest.json").read_text())
    assert ing["n_in"] == 60 == len(man) + len(excl) and set(man.split) == {"train", "valid", "test"}
    store = pd.concat(pd.read_parquet(p) for p in (out/"embeddings"/"proteinmpnn").rglob("part-*.parquet"))
    assert set(store.id) == set(man.id) and not store.duplicated(["id", "chain"]).any()
    saved = json.loads((out/"clip"/"seed0"/"metrics.json").read_text())
    m, info = saved["metrics"], saved["info"]
    assert {"test", "untrained_test", "valid"} <= set(m) and 0 <= m["test"]["seq2struct_top1"] <= 1
    from esm2_ab_clip.train import DEFAULT_RECIPE
    assert info["recipe"] == DEFAULT_RECIPE and {"uniformity_struct", "erank_struct", "heavy_seq2struct_top1", "mrr"} <= set(m["test"])
    from transformers import AutoModel, AutoModelForSequenceClassification
    assert type(AutoModel.from_pretrained(out/"clip"/"seed0"/"tower")).__name__ == "BertModel"
    AutoModelForSequenceClassification.from_pretrained(out/"clip"/"seed0"/"tower", num_labels=1)
    from transformers import AutoModelForMaskedLM   # the export keeps the base tower's masked-LM head (zero-shot scoring)
    assert type(AutoModelForMaskedLM.from_pretrained(out/"clip"/"seed0"/"tower")).__name__ == "BertForMaskedLM"
    assert m["pseudo_perplexity"]["n_chains"] > 0 and m["pseudo_perplexity"]["base"] > 1
    import esm2_ab_clip.clip  # noqa: F401  (registers the CLIP model with AutoModel)
    assert type(AutoModel.from_pretrained(out/"clip"/"seed0")).__name__ == "AbClipModel"
    runs = pd.read_csv(out/"affinity"/"affinity_runs.csv")
    for c in ("tower", "mode", "protocol", "fraction", "seed", "spearman", "recall_top10", "n_train", "n_test"): assert c in runs
    assert set(runs.tower) == {"base", "clip", "onehot"} and sorted(runs.fraction.unique()) == [0.2, 0.4, 0.8, 1.0]
    assert (out/"affinity"/"learning_curves.png").stat().st_size > 5000
    rep = (out/"report.md").read_text()
    for section in ("1. Ingest", "2. Structure embeddings", "3. CLIP retrieval", "4. Binding affinity", "learning_curves.png"): assert section in rep
    # a second run skips every finished stage
    r2 = cli("run", "--quick", "--tower", "tiny-bert", "--max_structures", 60, "--out", out, env=env)   # no server now
    assert r2.stdout.count("skipping") >= 3 and "fetch" not in r2.stdout, r2.stdout
    assert "nothing to download" in cli("fetch", env=env).stdout

@needs_data
def test_interrupted_embed_resumes_without_recomputing(tmp_path, ingest_60):
    out = tmp_path/"run"
    shutil.copytree(ingest_60, out/"ingest")      # `esm2-ab-clip ingest --max_structures 60`, made once per session
    n_entries = len(pd.read_parquet(out/"ingest"/"proteinflow_sabdab"/"manifest.parquet"))
    train_dir = out/"embeddings"/"proteinmpnn"/"train"
    p = subprocess.Popen(CLI + ["embed", "--out", str(out), "--chunk_size", "4"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    t0 = time.time()
    while not list(train_dir.glob("part-*.parquet")) and time.time() - t0 < 300 and p.poll() is None: time.sleep(0.2)
    p.send_signal(signal.SIGKILL); p.wait()
    done = pd.concat(pd.read_parquet(f) for f in train_dir.glob("part-*.parquet"))
    assert 0 < done.id.nunique() < n_entries, "the kill should land after the first chunk and before the end"
    r = cli("embed", "--out", out, "--chunk_size", "4")
    assert f"'skipped_existing': {done.id.nunique()}" in r.stdout, r.stdout
    store = pd.concat(pd.read_parquet(f) for f in (out/"embeddings"/"proteinmpnn").rglob("part-*.parquet"))
    assert store.id.nunique() == n_entries and not store.duplicated(["id", "chain"]).any()

def test_bad_input_gets_a_clear_error(tmp_path):
    bad = tmp_path/"bad.csv"; pd.DataFrame({"heavy": ["EVQLVESG", "EV1QL"]}).to_csv(bad, index=False)
    r = cli("embed-seqs", "--input", bad, "--output", tmp_path/"e.parquet", "--seq_col", "heavy", "--tower", "tiny-bert", check=False)
    assert r.returncode != 0 and "bad.csv: 1 sequence(s) that are empty or hold letters outside the 20 amino acids" in r.stderr and "first: id '1' (['1'])" in r.stderr
    r = cli("embed-seqs", "--input", bad, "--output", tmp_path/"e.parquet", "--tower", "tiny-bert", check=False)
    assert r.returncode != 0 and "no column 'sequence'" in r.stderr
    data = Path(os.environ.get("ESM2_AB_CLIP_DATA") or tmp_path/"nodata")
    def snapshot(): return sorted((str(q), q.stat().st_mtime_ns, q.stat().st_size) for q in data.rglob("*")) if data.exists() else []
    before = snapshot()
    offline = {**os.environ, "ESM2_AB_CLIP_OUT": str(tmp_path/"out"), "ESM2_AB_CLIP_MIRROR": "http://127.0.0.1:9"}  # nothing listens
    r = cli("run", "--paper", "--out", tmp_path/"p", check=False, env=offline)
    assert r.returncode != 0 and "ESM-IF1 weights: download https://dl.fbaipublicfiles.com" in r.stderr and "esm2_t6_8M_UR50D" in r.stderr
    assert snapshot() == before, "a failed --paper download touched the data directory"
    r = cli("train", "--out", tmp_path/"empty", "--tower", "tiny-bert", "--seeds", "0", check=False)
    assert r.returncode != 0 and "run the ingest" in r.stderr
    r = cli("train", "--out", tmp_path/"empty", "--tower", "tiny-bert", "--recipe", "bogus", check=False)
    assert r.returncode != 0 and "unknown recipe 'bogus'" in r.stderr and "top2+std+cdr+res" in r.stderr

def test_embed_seqs_writes_embeddings(tmp_path):
    fa = tmp_path/"s.fasta"; fa.write_text(">a\nEVQLVESGGG\n>b\nDIQMTQSPSS\n")
    cli("embed-seqs", "--input", fa, "--output", tmp_path/"e.parquet", "--tower", "tiny-bert")
    df = pd.read_parquet(tmp_path/"e.parquet")
    assert df.id.tolist() == ["a", "b"] and len(df.vector[0]) == 32

def test_evaluate_paper_split_runs_on_biotransfer_csvs(tmp_path):
    "`evaluate --paper` uses biotransfer's train/valid/test CSVs of 14H and 14L (made up here: the real train CSVs are online only)."
    from esm2_ab_clip.towers import tiny_tower
    from esm2_ab_clip.affinity import write_demo_library
    data, out = tmp_path/"data", tmp_path/"run"
    for lib in ("14H", "14L"): write_demo_library(data, lib)
    m, tok = tiny_tower("bert", hidden=32, layers=2, seed=1)   # stands in for a CLIP-trained tower
    m.save_pretrained(out/"clip"/"seed0"/"tower"); tok.save_pretrained(out/"clip"/"seed0"/"tower")
    r = cli("evaluate", "--paper", "--out", out, "--tower", "tiny-bert", "--data", data, "--seeds", 2)
    assert "14H_biotransfer_official" in r.stdout
    runs = pd.read_csv(out/"affinity"/"affinity_runs.csv")
    assert set(runs.split) == {"biotransfer"} and set(runs.library) == {"14H", "14L"} and set(runs.protocol) == {"official", "paper"}
    assert set(runs.tower) == {"base", "clip", "onehot"} and len(runs) == 3 * 3 * 4 * 2   # studies x towers x fractions x seeds
    assert (runs[(runs.library == "14H") & (runs.protocol == "official") & (runs.fraction == 1.0)].n_train == 60).all()
    assert (out/"affinity"/"learning_curves.png").stat().st_size > 1000
    r = cli("evaluate", "--paper", "--force", "--out", out, "--tower", "tiny-bert", "--data", tmp_path/"nothing", check=False)
    assert r.returncode != 0 and "14H_train.csv not found" in r.stderr and "esm2-ab-clip fetch --paper" in r.stderr
