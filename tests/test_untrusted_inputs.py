"""What comes from outside is checked before it is trusted (issue: verified downloads, safe model loading, paths that stay
inside, one writer per store, score columns that mean one thing). One test per case, each built here at test time: a
crafted checkpoint whose unpickling would write a marker, a loopback HTTP server serving wrong files, an index row with
`../`, a second `embed` on a store another process holds, CSVs with pass-through columns."""
import io, json, os, shutil, time
from pathlib import Path
import numpy as np
import pandas as pd
import pytest
from conftest import needs_data, SHARED
from test_cli import cli
from test_fetch import Server, internet, served_path, source

class Marker:
    "Unpickling this runs code: it creates the file `path` (what a crafted checkpoint would do)."
    def __init__(self, path): self.path = path
    def __reduce__(self): return (Path.touch, (Path(self.path),))

def crafted_checkpoint(marker: Path) -> bytes:
    import torch
    from argparse import Namespace
    buf = io.BytesIO()
    torch.save({"args": Namespace(arch="invariant_gvp"), "model": Marker(marker)}, buf)
    return buf.getvalue()

def test_1_crafted_esmif1_checkpoint_runs_no_code_and_is_not_installed(tmp_path, monkeypatch):
    import torch
    from esm2_ab_clip.fetch import fetch, FetchError
    from esm2_ab_clip.structure import load_esmif1
    from esm2_ab_clip.locations import ESMIF1_NAME
    marker = tmp_path/"code_ran"
    srv = Server({served_path(source("ESM-IF1 weights").url): crafted_checkpoint(marker)})
    monkeypatch.setenv("ESM2_AB_CLIP_MIRROR", srv.base)
    monkeypatch.setenv("ESM2_AB_CLIP_OUT", str(tmp_path/"out"))
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path/"hub"))
    try:
        with pytest.raises(FetchError, match="is not a safe ESM-IF1 checkpoint") as e:
            fetch("paper", tmp_path/"data", only=("ESM-IF1 weights",), progress=False, say=lambda m: None)
    finally: srv.close()
    ck = tmp_path/"hub"/"checkpoints"/f"{ESMIF1_NAME}.pt"
    assert not ck.exists() and "quarantine" in str(e.value) and list((tmp_path/"out"/"quarantine").iterdir())
    ck.parent.mkdir(parents=True); ck.write_bytes(crafted_checkpoint(marker))   # put there by hand: refused at load
    with pytest.raises(ValueError, match="delete it and fetch it again"): load_esmif1()
    (tmp_path/"page.pt").write_text("<html>Service temporarily unavailable</html>")   # a harmless wrong file: named
    with pytest.raises(ValueError, match="page.pt is not a safe ESM-IF1 checkpoint"): load_esmif1(tmp_path/"page.pt")
    assert not marker.exists(), "code from the checkpoint ran"

@needs_data
def test_2_index_names_never_become_paths_outside_the_output(tmp_path):
    from esm2_ab_clip.core import data_file
    idx = pd.read_csv(data_file("antibody_structures", "structures_index.tsv"), sep="\t", dtype=str, keep_default_na=False)
    idx = idx[idx.set == idx.set.iloc[0]].head(40).copy()
    data = tmp_path/"data"; (data/"antibody_structures"/"s").mkdir(parents=True)
    for k, f in enumerate(idx.file):
        shutil.copy(data_file(*Path(f).parts), data/"antibody_structures"/"s"/Path(f).name)
    idx["file"] = ["antibody_structures/s/" + Path(f).name for f in idx.file]
    bad = {0: "../../../../../x", 1: "a/b", 2: "q" * 300}
    for k, v in bad.items(): idx.iloc[k, idx.columns.get_loc("pdb")] = v
    idx.to_csv(data/"antibody_structures"/"structures_index.tsv", sep="\t", index=False)
    out = tmp_path/"deep"/"er"/"run"
    r = cli("ingest", "--out", out, "--data", data, check=False)
    assert r.returncode == 0, r.stderr[-2000:]                    # the batch went on without the three rows
    written = [p for p in tmp_path.rglob("*") if p.suffix in (".pdb", ".fasta") and out not in p.parents]
    assert not written and not Path("/x.pdb").exists() and not Path("/x.fasta").exists()
    excl = pd.read_parquet(next(out.rglob("exclusions.parquet")))
    assert (excl.reason == "unsafe pdb for a file name").sum() == 3
    ing = json.loads(next(out.rglob("ingest.json")).read_text())
    assert ing["n_in"] == 40 == ing["n_kept"] + ing["n_excluded"]

@needs_data
def test_3_an_html_page_for_the_sabdab_summary_never_lands(tmp_path):
    files = internet(3)
    files[served_path(source("SAbDab summary").url)] = b"<!DOCTYPE html><html><body>Service temporarily unavailable</body></html>"
    srv = Server(files)
    env = {**os.environ, "ESM2_AB_CLIP_DATA": str(tmp_path/"data"), "ESM2_AB_CLIP_OUT": str(tmp_path/"out"),
           "ESM2_AB_CLIP_MIRROR": srv.base}
    try: r = cli("fetch", "--no_progress", env=env, check=False)
    finally: srv.close()
    assert r.returncode == 1 and "SAbDab summary" in r.stderr and "an HTML/XML page" in r.stderr, r.stderr[-2000:]
    assert not (tmp_path/"data"/source("SAbDab summary").dest).exists()
    assert not [p for p in (tmp_path/"data").rglob("*") if p.is_file() and p.read_bytes()[:20].lstrip().startswith(b"<")]
    man = json.loads((tmp_path/"data"/"fetch_manifest.json").read_text())
    assert "SAbDab summary" not in man["items"]                   # never recorded as present
    assert list((tmp_path/"out"/"quarantine").glob("SAbDab_summary.*"))

@needs_data
def test_4_one_writer_per_store(tmp_path, ingest_60):
    "While one process holds the run's embedding store, a second `embed` stops at once naming it; the store stays unique."
    from esm2_ab_clip.core import folder_lock
    from esm2_ab_clip.structure import load_embeddings
    out = tmp_path/"run"
    shutil.copytree(ingest_60, out/"ingest")
    with folder_lock(out/"embeddings", "embed"):            # this test process is the first writer
        t0 = time.time()
        r = cli("embed", "--out", out, "--chunk_size", "7", check=False)
    last = r.stderr.strip().splitlines()[-1]
    assert r.returncode == 1 and f"is in use by another esm2-ab-clip process (PID {os.getpid()}: embed" in last, r.stderr
    assert time.time() - t0 < 120 and not (out/"embeddings"/"proteinmpnn").exists()   # stopped before any work
    cli("embed", "--out", out, "--chunk_size", "7")          # free again: embeds
    store = pd.concat(pd.read_parquet(f) for f in (out/"embeddings"/"proteinmpnn").rglob("part-*.parquet"))
    assert not store.duplicated(["id", "chain"]).any()
    part = next((out/"embeddings"/"proteinmpnn"/"train").glob("part-*.parquet"))
    shutil.copy(part, part.with_name("part-99999-copy.parquet"))  # what two unlocked writers used to leave
    with pytest.raises(ValueError, match="stored more than once"): load_embeddings("train", store=out/"embeddings")

def test_5_pass_through_columns_stay_as_written(tmp_path):
    wt = "EVQLVESGGGLVQPGGSLRL"
    (tmp_path/"v.csv").write_text(f"sample_id,seq,note\n007,{wt},NA\n1e3,{wt[:-1]}W,\nNA,{wt[:-1]}A,0.50\n")
    cli("score", "--csv", tmp_path/"v.csv", "--seq_col", "seq", "--wt", wt, "--scorer", "tiny-bert", "--output",
        tmp_path/"s.csv")
    got = pd.read_csv(tmp_path/"s.csv", dtype=str, keep_default_na=False)
    assert got.sample_id.tolist() == ["007", "1e3", "NA"] and got.note.tolist() == ["NA", "", "0.50"]

def test_6_every_scorer_gets_its_own_column_and_none_is_overwritten_unasked(tmp_path):
    from esm2_ab_clip.zeroshot import scorer_columns
    for run in ("a", "b"): (tmp_path/run/"clip"/"seed0").mkdir(parents=True)
    cols = scorer_columns([str(tmp_path/"a"/"clip"/"seed0"), str(tmp_path/"b"/"clip"/"seed0")])
    assert len(cols) == 2 and len(set(cols)) == 2
    wt = "EVQLVESGGGLVQPGGSLRL"
    pd.DataFrame({"seq": [wt, wt[:-1] + "W"], "zs_tiny_bert": ["mine", "mine"]}).to_csv(tmp_path/"v.csv", index=False)
    base = ["score", "--csv", tmp_path/"v.csv", "--seq_col", "seq", "--wt", wt, "--output", tmp_path/"s.csv"]
    r = cli(*base, "--scorer", "tiny-bert", check=False)
    assert r.returncode == 2 and "already has the column zs_tiny_bert" in r.stderr
    cli(*base, "--scorer", "mine2=tiny-bert,tiny-esm")
    got = pd.read_csv(tmp_path/"s.csv")
    assert list(got.columns) == ["seq", "zs_tiny_bert", "zs_mine2", "zs_tiny_esm"] and (got.zs_tiny_bert == "mine").all()
    cli(*base, "--scorer", "tiny-bert", "--overwrite")
    got = pd.read_csv(tmp_path/"s.csv")
    assert list(got.columns) == ["seq", "zs_tiny_bert"] and got.zs_tiny_bert.dtype == float

def test_7_a_wild_type_of_another_length_is_not_scored_another_way(tmp_path):
    wt = "EVQLVESGGGLVQPGGSLRL"
    pd.DataFrame({"seq": [wt, wt[:-1] + "W"]}).to_csv(tmp_path/"v.csv", index=False)
    r = cli("score", "--csv", tmp_path/"v.csv", "--seq_col", "seq", "--wt", wt[:-1], "--scorer", "tiny-bert",
            "--output", tmp_path/"s.csv", check=False)
    assert r.returncode == 2 and "--wt is 19 residues, every variant is 20: is --wt right?" in r.stderr
    pd.DataFrame({"seq": [wt, wt[:-1] + "W", wt + "G"]}).to_csv(tmp_path/"v.csv", index=False)   # one insertion
    cli("score", "--csv", tmp_path/"v.csv", "--seq_col", "seq", "--wt", wt, "--scorer", "tiny-bert", "--output", tmp_path/"s.csv")
    got = pd.read_csv(tmp_path/"s.csv")
    assert got.zs_tiny_bert.isna().tolist() == [False, False, True]            # masked marginal: substitutions only
    assert got.zs_tiny_bert_pll.isna().tolist() == [True, True, False]         # the insertion: its own column

def test_8_an_empty_wild_type_cell_is_named(tmp_path):
    wt = "EVQLVESGGGLVQPGGSLRL"
    pd.DataFrame({"seq": [wt, wt[:-1] + "W", wt[:-1] + "A"], "parent": [wt, "", wt]}).to_csv(tmp_path/"v.csv", index=False)
    r = cli("score", "--csv", tmp_path/"v.csv", "--seq_col", "seq", "--wt_col", "parent", "--scorer", "tiny-bert",
            "--output", tmp_path/"s.csv", check=False)
    assert r.returncode == 2 and "v.csv: empty parent at row 3: give every row its wild type" in r.stderr

def test_9_unknown_scorers_fail_at_once_offline(tmp_path):
    wt = "EVQLVESGGGLVQPGGSLRL"
    pd.DataFrame({"seq": [wt]}).to_csv(tmp_path/"v.csv", index=False)
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    for name, says in (("foo", "not a known scorer nor an existing path; choose one of antiberty"),
                       ("nobody/nothing", "not in the Hugging Face cache and the hub is off"),
                       ("ProteinMPNN", "the proteinmpnn scorer needs --structure PDB and --chain ID")):
        t0 = time.time()
        r = cli("score", "--csv", tmp_path/"v.csv", "--seq_col", "seq", "--wt", wt, "--scorer", name, check=False, env=env)
        assert r.returncode == 2 and says in r.stderr and time.time() - t0 < 30, (name, r.stderr)

@needs_data
def test_10_ingest_leaves_no_process_wide_changes(tmp_path):
    import warnings
    import proteinflow.split
    from esm2_ab_clip.stages import stage_ingest
    def state():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return pd.get_option("future.infer_string"), os.listdir, proteinflow.split.subprocess
    before = state()
    stage_ingest(tmp_path/"run", max_structures=40)
    after = state()
    assert after[0] == before[0] and after[1] is before[1] and after[2] is before[2]
