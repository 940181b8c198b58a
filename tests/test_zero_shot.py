"""Zero-shot scoring from the command line (issue: zero-shot variant scoring): `score` and `evaluate --csv --structure` on a
small assay built from a shared-data structure's own heavy chain with a few substitutions (made-up labels)."""
import gzip, importlib.util
from pathlib import Path
import numpy as np
import pandas as pd
import pytest
from conftest import needs_data
from test_cli import cli

def make_assay(tmp_path: Path, n: int=60, seed: int=0) -> tuple[Path, Path, str, str]:
    "A parent PDB from the shared data, its heavy chain as seen in the assay (two extra N-terminal residues), and `n` variants."
    from esm2_ab_clip.core import data_file
    from esm2_ab_clip.structure import read_pdb_backbone
    index = pd.read_csv(data_file("antibody_structures", "structures_index.tsv"), sep="\t")
    r = index[index.L_chain.notna()].iloc[0]
    pdb = tmp_path/f"{r.pdb}.pdb"; pdb.write_text(gzip.open(data_file(*Path(r.file).parts), "rt").read())
    chain = read_pdb_backbone(pdb).seqs[read_pdb_backbone(pdb).chains.index(r.H_chain)]
    wt = "QV" + chain                                       # the assay's chain: two residues the structure lacks
    rng = np.random.default_rng(seed); aa = list("ACDEFGHIKLMNPQRSTVWY")
    seqs = []
    while len(seqs) < n:
        s = list(wt)
        for i in rng.choice(len(wt), rng.integers(1, 4), replace=False): s[i] = rng.choice([a for a in aa if a != wt[i]])
        if "".join(s) not in seqs: seqs.append("".join(s))
    seqs[0] = "A" + wt[1:] if wt[0] != "A" else "C" + wt[1:]   # one mutation outside the structure
    labels = [sum(a != b for a, b in zip(s, wt)) + rng.normal(0, 0.3) for s in seqs]
    pd.DataFrame({"heavy": seqs, "kd": labels}).to_csv(tmp_path/"assay.csv", index=False)
    return tmp_path/"assay.csv", pdb, r.H_chain, wt

@needs_data
def test_score_writes_one_column_per_scorer(tmp_path):
    csv, pdb, chain, wt = make_assay(tmp_path, n=12)
    out = tmp_path/"scores.csv"
    r = cli("score", "--csv", csv, "--seq_col", "heavy", "--wt", wt, "--scorer", "tiny-esm,proteinmpnn", "--structure", pdb,
            "--chain", chain, "--output", out)
    assert "12 variants × 2 scorer(s)" in r.stdout
    df = pd.read_csv(out, keep_default_na=False)
    assert list(df.columns) == ["heavy", "kd", "zs_tiny_esm", "zs_proteinmpnn", "outside_structure"]
    assert df.heavy.tolist() == pd.read_csv(csv).heavy.tolist()             # input order kept
    assert df.outside_structure[0] == f"{wt[0]}1{df.heavy[0][0]}" and df.zs_proteinmpnn[0] == 0.0
    assert (df.outside_structure[1:] == "").all() and (df.zs_proteinmpnn[1:] != 0).all()
    # bad input: a row of another length (named), a chain the structure lacks, a wild type from another antibody
    pd.DataFrame({"heavy": [wt, wt[:-3]]}).to_csv(tmp_path/"bad.csv", index=False)
    r = cli("score", "--csv", tmp_path/"bad.csv", "--seq_col", "heavy", "--wt", wt, "--scorer", "proteinmpnn", "--structure", pdb,
            "--chain", chain, "--output", tmp_path/"b.csv", check=False)
    assert r.returncode == 2 and "bad.csv row 3" in r.stderr and "substitution variants only" in r.stderr
    r = cli("score", "--csv", csv, "--seq_col", "heavy", "--wt", wt, "--scorer", "proteinmpnn", "--structure", pdb, "--chain", "Q",
            "--output", tmp_path/"b.csv", check=False)
    assert r.returncode == 2 and "no chain 'Q'" in r.stderr
    other = "DIQMTQSPSSLSASVGDRVTITCRASQSISSYLNWYQQKPGKAPKLLIYAASSLQSGVPSRFSGSGSGTDFTLTISSLQPEDFATYYCQQSYSTPLTFGQGTKVEIK"
    pd.DataFrame({"heavy": [other]}).to_csv(tmp_path/"other.csv", index=False)
    r = cli("score", "--csv", tmp_path/"other.csv", "--seq_col", "heavy", "--wt", other, "--scorer", "proteinmpnn", "--structure", pdb,
            "--chain", chain, "--output", tmp_path/"b.csv", check=False)
    assert r.returncode == 2 and "does not match the structure's chain" in r.stderr

@needs_data
def test_evaluate_csv_leaderboard_and_predict(tmp_path):
    "`evaluate --csv --structure`: zero-shot rows, plain and augmented probes in one table; `--predict` scores new rows in order."
    csv, pdb, chain, wt = make_assay(tmp_path, n=60)
    new = pd.read_csv(csv).heavy.iloc[::-1].iloc[:7].tolist() + [wt.lower()]   # lower case: read as upper, said once
    pd.DataFrame({"id": [f"n{i}" for i in range(len(new))], "heavy": new}).to_csv(tmp_path/"new.csv", index=False)
    r = cli("evaluate", "--csv", csv, "--seq_col", "heavy", "--label_col", "kd", "--tower", "tiny-bert", "--seeds", 2,
            "--structure", pdb, "--chain", chain, "--out", tmp_path/"run", "--predict", tmp_path/"new.csv")
    assert "wild type = the consensus" in r.stdout and "best on validation" in r.stdout
    assert "new.csv (heavy): 1 sequence(s) with lower-case letters, read as upper case (first: row 9)" in r.stderr
    tab = pd.read_csv(tmp_path/"run"/"affinity"/"byo_table.csv")
    assert {"zero-shot base", "zero-shot proteinmpnn", "base", "onehot", "onehot + zero-shot base",
            "onehot + zero-shot proteinmpnn", "base + zero-shot base"} <= set(tab.tower)
    zs = tab[tab.tower.str.startswith("zero-shot")]
    assert (zs.fraction == 0).all() and (zs.n_train == 0).all() and zs.spearman_ci_lo.notna().all()
    aug = tab[tab.tower.str.contains(" + ", regex=False)]
    assert set(aug.fraction) == {0.2, 0.4, 0.8, 1.0} and aug.vs_plain_lo.notna().all()
    runs = pd.read_csv(tmp_path/"run"/"affinity"/"byo_runs.csv")
    assert set(runs["mode"]) == {"zero-shot", "probe", "augmented"}
    assert (tmp_path/"run"/"affinity"/"byo_leaderboard.png").stat().st_size > 1000
    pred = pd.read_csv(tmp_path/"run"/"affinity"/"predictions.csv")
    assert pred.id.tolist() == [f"n{i}" for i in range(len(new))] and pred.prediction.notna().all() and pred.predictor.nunique() == 1

@needs_data
def test_evaluate_predict_with_the_structure_aware_gp(tmp_path):
    "`evaluate --predictor gp --predict`: the GP (notebook 06) writes a mean and a standard deviation per new row, in order."
    csv, pdb, chain, wt = make_assay(tmp_path, n=60)
    new = pd.read_csv(csv).heavy.iloc[::-1].iloc[:5].tolist()
    pd.DataFrame({"id": [f"n{i}" for i in range(len(new))], "heavy": new}).to_csv(tmp_path/"new.csv", index=False)
    r = cli("evaluate", "--csv", csv, "--seq_col", "heavy", "--label_col", "kd", "--tower", "tiny-bert", "--seeds", 1,
            "--structure", pdb, "--chain", chain, "--wt", wt, "--out", tmp_path/"run", "--predict", tmp_path/"new.csv",
            "--predictor", "gp", "--no_zero_shot")   # the GP reads the structure itself (site table, not the exact score)
    assert "scored by GP struct + seq(base) | zero-shot mean" in r.stdout, r.stdout
    pred = pd.read_csv(tmp_path/"run"/"affinity"/"predictions.csv")
    assert pred.id.tolist() == [f"n{i}" for i in range(5)] and (pred.sd > 0).all() and pred.prediction.notna().all()
    # the new rows are labelled rows of the assay: the GP's means follow their labels
    kd = pd.read_csv(csv).set_index("heavy").kd.groupby(level=0).mean().loc[new].to_numpy()
    assert np.corrcoef(pred.prediction, kd)[0, 1] > 0.5
    r = cli("evaluate", "--csv", csv, "--seq_col", "heavy", "--label_col", "kd", "--out", tmp_path/"run2",
            "--predict", tmp_path/"new.csv", "--predictor", "nope", check=False)
    assert r.returncode == 2 and "--predictor 'nope': give best or gp" in r.stderr

@pytest.mark.skipif(importlib.util.find_spec("igfold") is not None, reason="the IgFold extra is installed")
def test_structure_predict_without_the_extra_names_it(tmp_path):
    "`--structure predict` without IgFold installed: one line naming the extra and how to install it."
    pd.DataFrame({"heavy": ["EVQLVESGGW", "EVQLVESGGA"]}).to_csv(tmp_path/"v.csv", index=False)
    r = cli("score", "--csv", tmp_path/"v.csv", "--seq_col", "heavy", "--wt", "EVQLVESGGG", "--wt_light", "DIQMTQSPSS",
            "--structure", "predict", "--chain", "H", "--scorer", "proteinmpnn", "--output", tmp_path/"o.csv", check=False)
    assert r.returncode == 2 and "IgFold, an optional extra" in r.stderr and "bash setup.sh --igfold" in r.stderr, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
