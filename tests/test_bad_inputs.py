"""The bad-input corpus (issue: bad input never crashes, never lies, never touches the data directory). Each case is built
here, at test time, from damaged copies of a few shared-data structures or small hand-written files, and checked for the
exact error (naming the file, row or field) or the recorded exclusion with in = kept + excluded."""
import gzip, json, os, shutil
from pathlib import Path
import numpy as np
import pandas as pd
import pytest
from conftest import needs_data
from test_cli import cli

def corpus_index(tmp_path: Path, n_good: int=3) -> Path:
    "A data folder with an index of `n_good` real paired-Fv files and two unreadable ones (not gzip; gzip cut in its header)."
    from esm2_ab_clip.core import data_file
    src = pd.read_csv(data_file("antibody_structures", "structures_index.tsv"), sep="\t")
    good = src[src.L_chain.notna() & (src.resolution_A <= 2.5)].head(n_good + 2)
    root = tmp_path/"data"; (root/"s").mkdir(parents=True)
    rows = []
    for k, r in enumerate(good.itertuples()):
        f = root/"s"/Path(r.file).name
        raw = data_file(*Path(r.file).parts).read_bytes()
        if k == n_good: raw = b"this is not gzip at all\n"                       # a .pdb.gz that is not gzip
        if k == n_good + 1: raw = raw[:5]                                         # a gzip cut inside its header
        f.write_bytes(raw)
        rows.append({**r._asdict(), "file": f"s/{f.name}"})
    idx = pd.DataFrame(rows).drop(columns="Index")
    idx.to_csv(root/"index.tsv", sep="\t", index=False)
    return root

@needs_data
def test_unreadable_structure_files_are_excluded_by_name(tmp_path):
    from esm2_ab_clip.sabdab import read_structure_table, build_layout
    root = corpus_index(tmp_path)
    s = read_structure_table(root/"index.tsv", root=root)                    # reading the headers does not abort
    lay = build_layout(s, tmp_path/"layout")
    assert len(s) == len(lay.summary) + len(lay.excluded) == 5                # in = kept + excluded
    ex = lay.excluded.set_index("reason")
    assert (lay.excluded.reason == "unreadable structure file").sum() == 2
    details = " ".join(lay.excluded.detail)
    assert "BadGzipFile" in details or "Not a gzipped file" in details
    assert all(str(root/"s") in d for d in lay.excluded.detail)               # each names its file

@needs_data
def test_duplicate_ids_and_missing_index_columns_are_named(tmp_path):
    from esm2_ab_clip.sabdab import read_structure_table, ingest
    root = corpus_index(tmp_path)
    idx = pd.read_csv(root/"index.tsv", sep="\t")
    pd.concat([idx, idx.iloc[:1]]).to_csv(root/"dup.tsv", sep="\t", index=False)
    with pytest.raises(ValueError, match=r"dup.tsv: 1 entry id\(s\) listed more than once, e.g. \['"):
        read_structure_table(root/"dup.tsv", root=root)
    s = read_structure_table(root/"index.tsv", root=root)
    with pytest.raises(ValueError, match="listed more than once"):           # before any work: no dataset folder appears
        ingest(pd.concat([s, s.iloc[:1]]), out=tmp_path/"out", verbose=False)
    assert not (tmp_path/"out").exists() or not any((tmp_path/"out").rglob("manifest.parquet"))
    for col in ("H_chain", "L_chain", "resolution_A"):
        idx.drop(columns=col).to_csv(root/"cut.tsv", sep="\t", index=False)
        with pytest.raises(ValueError, match=rf"cut.tsv: structure index without the column\(s\) \['{col}'\]"):
            read_structure_table(root/"cut.tsv", root=root)

@needs_data
def test_selenomethionine_reads_as_methionine_as_atom_or_hetatm(tmp_path):
    from esm2_ab_clip.core import data_file
    from esm2_ab_clip.sabdab import read_atom_sequences
    from esm2_ab_clip.structure import read_pdb_backbone
    src = pd.read_csv(data_file("antibody_structures", "structures_index.tsv"), sep="\t")
    r = src[src.seq_H.str.contains("M")].iloc[0]
    text = gzip.open(data_file(*Path(r.file).parts), "rt").read().splitlines(keepends=True)
    mets = sorted({l[22:27] for l in text if l.startswith("ATOM") and l[17:20] == "MET" and l[21] == r.H_chain})
    out = []
    for l in text:   # the first MET as HETATM MSE, the others as ATOM MSE
        if l.startswith("ATOM") and l[17:20] == "MET" and l[21] == r.H_chain:
            l = ("HETATM" if l[22:27] == mets[0] else "ATOM  ") + l[6:17] + "MSE" + l[20:]
        out.append(l)
    (tmp_path/"mse.pdb").write_text("".join(out)); (tmp_path/"met.pdb").write_text("".join(text))
    assert read_atom_sequences(tmp_path/"mse.pdb")[r.H_chain] == read_atom_sequences(tmp_path/"met.pdb")[r.H_chain]
    assert read_pdb_backbone(tmp_path/"mse.pdb").seqs == read_pdb_backbone(tmp_path/"met.pdb").seqs

def test_sequence_inputs_get_named_errors(tmp_path):
    "Non-standard letters, too-long sequences, duplicate FASTA ids, a CSV output name for embeddings."
    fa = tmp_path/"x.fasta"
    fa.write_text(">ok\nEVQLVESGG\n>amb\nEVQBZJ\n")
    r = cli("embed-seqs", "--input", fa, "--output", tmp_path/"e.parquet", "--tower", "tiny-bert", check=False)
    assert r.returncode == 1 and "first: id 'amb' (['B', 'J', 'Z'])" in r.stderr
    fa.write_text(">only_x\nXXXX\n")   # would have been an all-zero vector
    r = cli("embed-seqs", "--input", fa, "--output", tmp_path/"e.parquet", "--tower", "tiny-bert", check=False)
    assert r.returncode == 1 and "first: id 'only_x' (['X'])" in r.stderr
    fa.write_text(">a\nEVQL\n>a\nDIQM\n")
    r = cli("embed-seqs", "--input", fa, "--output", tmp_path/"e.parquet", "--tower", "tiny-bert", check=False)
    assert r.returncode == 1 and "id(s) used more than once, e.g. ['a']" in r.stderr
    fa.write_text(">short\nEVQL\n>long\n" + "A" * 700 + "\n")
    r = cli("embed-seqs", "--input", fa, "--output", tmp_path/"e.npy", "--tower", "tiny-bert", check=False)
    assert r.returncode == 1 and "limit of 510 residues, first id 'long' (700 residues)" in r.stderr and "--truncate" in r.stderr
    cli("embed-seqs", "--input", fa, "--output", tmp_path/"e.npy", "--tower", "tiny-bert", "--truncate")
    assert np.load(tmp_path/"e.npy").shape == (2, 32)
    r = cli("embed-seqs", "--input", fa, "--output", tmp_path/"e.csv", "--tower", "tiny-bert", "--truncate", check=False)
    assert r.returncode == 1 and ".parquet (id, vector) or .npy" in r.stderr

def assay(tmp_path: Path, n: int=40, seed: int=0) -> pd.DataFrame:
    rng = np.random.default_rng(seed); aa = list("ACDEFGHIKLMNPQRSTVWY"); wt = "EVQLVESGGGLVQPGGSLRL"
    seqs = list(dict.fromkeys(wt[:i] + a + wt[i + 1:] for i in rng.integers(0, len(wt), 3 * n) for a in rng.choice(aa, 1) if a != wt[i]))[:n]
    return pd.DataFrame({"seq": seqs, "kd": rng.normal(size=len(seqs))})

def test_labels_and_small_assays_get_named_errors(tmp_path):
    from esm2_ab_clip.affinity import score, csv_split
    df = assay(tmp_path)
    bad = df.astype({"kd": object}); bad.loc[4, "kd"] = "high"; bad.to_csv(tmp_path/"text.csv", index=False)
    r = cli("evaluate", "--csv", tmp_path/"text.csv", "--seq_col", "seq", "--label_col", "kd", "--tower", "tiny-bert",
            "--out", tmp_path/"r", "--no_zero_shot", check=False)
    assert r.returncode == 1 and "text.csv: 1 kd value(s) that are not finite numbers, first at row 6: 'high'" in r.stderr
    bad = df.copy(); bad.loc[2, "kd"] = np.inf; bad.to_csv(tmp_path/"inf.csv", index=False)
    with pytest.raises(ValueError, match="first at row 4: 'inf'"): csv_split(tmp_path/"inf.csv", "seq", "kd")
    bad = df.copy(); bad.loc[5, "seq"] = "EVQLVESGGGLVQPGGSLRU"; bad.to_csv(tmp_path/"u.csv", index=False)
    with pytest.raises(ValueError, match=r"u.csv \(seq\): 1 sequence\(s\) .* first: row 7 \(\['U'\]\)"): csv_split(tmp_path/"u.csv", "seq", "kd")
    long = df.copy(); long.loc[3, "seq"] = "A" * 600; long.to_csv(tmp_path/"long.csv", index=False)
    r = cli("evaluate", "--csv", tmp_path/"long.csv", "--seq_col", "seq", "--label_col", "kd", "--tower", "tiny-bert",
            "--out", tmp_path/"r", "--no_zero_shot", check=False)
    assert r.returncode == 1 and "long.csv: 1 seq value(s) longer than the towers' limit (510 residues" in r.stderr and "row 5 (600" in r.stderr
    df.iloc[:12].to_csv(tmp_path/"few.csv", index=False)
    with pytest.raises(ValueError, match="12 distinct labelled sequences; the 70%/10%/20% split needs at least 30"):
        csv_split(tmp_path/"few.csv", "seq", "kd")
    with pytest.raises(ValueError, match="1 non-finite predictions"): score(np.arange(5.), [0, 1, 2, np.nan, 4])
    assert np.isnan(score(np.ones(10), np.arange(10.))["recall_top10"])   # constant labels: undefined, not 1.0
    assert np.isnan(score(np.arange(10.), np.ones(10))["spearman"])
    dup = pd.concat([df, df.iloc[:5], pd.DataFrame({"seq": ["EVQLVESGGGLVQPGGSLRW"], "kd": [np.nan]})])
    dup.to_csv(tmp_path/"dup.csv", index=False)
    note = csv_split(tmp_path/"dup.csv", "seq", "kd").note
    assert "1 rows without a label dropped; 5 duplicate rows merged" in note and f"{len(df)} sequences" in note

@needs_data
def test_stale_outputs_are_redone_after_a_new_split(tmp_path):
    "ingest, embed, train, evaluate; then ingest again with another seed: nothing of the old split is reused, and the report says so."
    out = tmp_path/"run"
    args = ["--quick", "--tower", "tiny-bert", "--max_structures", 40, "--out", out]
    from esm2_ab_clip.affinity import checkpoint_hash
    cli("run", *args)
    old_tower = checkpoint_hash(out/"clip"/"seed0"/"tower")
    old_fp = json.loads((out/"embeddings"/"proteinmpnn"/"provenance.json").read_text())["fingerprint"]
    old_train = json.loads((out/"clip"/"seed0"/"provenance.json").read_text())["ingest"]
    cli("ingest", "--force", "--seed", 7, "--max_structures", 40, "--out", out)
    r = cli("run", *args)
    for stage in ("embed: redoing", "train seed 0: redoing"): assert stage in r.stdout, r.stdout[-2000:]
    # the affinity study depends on the CLIP tower's weights only: redone when they changed, reused when they did not
    # (with one quick epoch the warm start on frozen features can win, leaving the tower equal to the base)
    changed = checkpoint_hash(out/"clip"/"seed0"/"tower") != old_tower
    assert ("evaluate: redoing" in r.stdout) == changed and ("affinity_runs.csv exists, skipping" in r.stdout) == (not changed)
    man = pd.read_parquet(out/"ingest"/"proteinflow_sabdab"/"manifest.parquet")
    store = pd.concat(pd.read_parquet(p).assign(split=p.parent.name) for p in (out/"embeddings"/"proteinmpnn").rglob("part-*.parquet"))
    assert set(store.id) == set(man.id)                                       # nothing embedded for the old split is left
    assert dict(zip(store.id, store.split)) == dict(zip(man.id, man.split))
    new_fp = json.loads((out/"embeddings"/"proteinmpnn"/"provenance.json").read_text())["fingerprint"]
    assert new_fp != old_fp and json.loads((out/"clip"/"seed0"/"provenance.json").read_text())["ingest"] != old_train
    rep = (out/"report.md").read_text()
    assert "## Redone" in rep and "inputs changed" in rep
    r = cli("run", *args)                                                     # and a third run reuses everything
    assert r.stdout.count("skipping") >= 3 and "redoing" not in r.stdout
