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
    assert r.returncode == 2 and "first: id 'amb' (['B', 'J', 'Z'])" in r.stderr
    fa.write_text(">only_x\nXXXX\n")   # would have been an all-zero vector
    r = cli("embed-seqs", "--input", fa, "--output", tmp_path/"e.parquet", "--tower", "tiny-bert", check=False)
    assert r.returncode == 2 and "first: id 'only_x' (['X'])" in r.stderr
    fa.write_text(">a\nEVQL\n>a\nDIQM\n")
    r = cli("embed-seqs", "--input", fa, "--output", tmp_path/"e.parquet", "--tower", "tiny-bert", check=False)
    assert r.returncode == 2 and "id(s) used more than once, e.g. ['a']" in r.stderr
    fa.write_text(">short\nEVQL\n>long\n" + "A" * 700 + "\n")
    r = cli("embed-seqs", "--input", fa, "--output", tmp_path/"e.npy", "--tower", "tiny-bert", check=False)
    assert r.returncode == 2 and "limit of 510 residues, first id 'long' (700 residues)" in r.stderr and "--truncate" in r.stderr
    cli("embed-seqs", "--input", fa, "--output", tmp_path/"e.npy", "--tower", "tiny-bert", "--truncate")
    assert np.load(tmp_path/"e.npy").shape == (2, 32)
    r = cli("embed-seqs", "--input", fa, "--output", tmp_path/"e.csv", "--tower", "tiny-bert", "--truncate", check=False)
    assert r.returncode == 2 and ".parquet (id, vector) or .npy" in r.stderr

def assay(tmp_path: Path, n: int=40, seed: int=0) -> pd.DataFrame:
    rng = np.random.default_rng(seed); aa = list("ACDEFGHIKLMNPQRSTVWY"); wt = "EVQLVESGGGLVQPGGSLRL"
    seqs = list(dict.fromkeys(wt[:i] + a + wt[i + 1:] for i in rng.integers(0, len(wt), 3 * n) for a in rng.choice(aa, 1) if a != wt[i]))[:n]
    return pd.DataFrame({"seq": seqs, "kd": rng.normal(size=len(seqs))})

def test_labels_and_small_assays_get_named_errors(tmp_path):
    from esm2_ab_clip.stats import score
    from esm2_ab_clip.affinity import csv_split
    df = assay(tmp_path)
    bad = df.astype({"kd": object}); bad.loc[4, "kd"] = "high"; bad.to_csv(tmp_path/"text.csv", index=False)
    r = cli("evaluate", "--csv", tmp_path/"text.csv", "--seq_col", "seq", "--label_col", "kd", "--tower", "tiny-bert",
            "--out", tmp_path/"r", "--no_zero_shot", check=False)
    assert r.returncode == 2 and "text.csv: 1 kd value(s) that are not finite numbers, first at row 6: 'high'" in r.stderr
    bad = df.copy(); bad.loc[2, "kd"] = np.inf; bad.to_csv(tmp_path/"inf.csv", index=False)
    with pytest.raises(ValueError, match="first at row 4: 'inf'"): csv_split(tmp_path/"inf.csv", "seq", "kd")
    bad = df.copy(); bad.loc[5, "seq"] = "EVQLVESGGGLVQPGGSLRU"; bad.to_csv(tmp_path/"u.csv", index=False)
    with pytest.raises(ValueError, match=r"u.csv \(seq\): 1 sequence\(s\) .* first: row 7 \(\['U'\]\)"): csv_split(tmp_path/"u.csv", "seq", "kd")
    long = df.copy(); long.loc[3, "seq"] = "A" * 600; long.to_csv(tmp_path/"long.csv", index=False)
    r = cli("evaluate", "--csv", tmp_path/"long.csv", "--seq_col", "seq", "--label_col", "kd", "--tower", "tiny-bert",
            "--out", tmp_path/"r", "--no_zero_shot", check=False)
    assert r.returncode == 2 and "long.csv: 1 seq value(s) longer than the towers' limit (510 residues" in r.stderr and "row 5 (600" in r.stderr
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
    from esm2_ab_clip.core import checkpoint_hash
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

# --- one error path: every command names its bad input in one line (exit 2), a bug in one line and a log (exit 1) ---

def listing(root: Path, skip: Path) -> dict:
    "Path -> (size, mtime) of every file under `root` outside `skip`: what a command may not touch."
    return {str(p): (p.stat().st_size, p.stat().st_mtime_ns) for p in root.rglob("*")
            if p.is_file() and skip not in p.parents}

def one_line_error(r, *parts: str, code: int=2):
    "The command failed with `code`, its last line is one `esm2-ab-clip CMD: error: …` line holding every part."
    last = r.stderr.strip().splitlines()[-1]
    assert r.returncode == code, r.stdout[-2000:] + r.stderr[-2000:]
    assert last.startswith("esm2-ab-clip ") and ": error: " in last, r.stderr[-2000:]
    for p in parts: assert p in last, f"{p!r} not in {last!r}"
    return last

@pytest.fixture
def parent(tmp_path):
    "A real paired Fv (chains H and L) from the shared data, as a plain PDB, and its heavy chain."
    from test_zero_shot import make_assay
    csv, pdb, chain, wt = make_assay(tmp_path, n=12)
    return csv, pdb, chain, wt

@needs_data
def test_score_structure_scorer_without_structure_or_chain(tmp_path, parent):
    csv, pdb, chain, wt = parent
    out = tmp_path/"out"
    before = listing(tmp_path, out)
    r = cli("score", "--csv", csv, "--seq_col", "heavy", "--wt", wt, "--scorer", "proteinmpnn", "--output", out/"s.csv",
            check=False)
    one_line_error(r, "the proteinmpnn scorer needs --structure PDB and --chain ID")
    r = cli("score", "--csv", csv, "--seq_col", "heavy", "--wt", wt, "--structure", pdb, "--output", out/"s.csv",
            check=False)
    last = one_line_error(r, "--chain is required with --structure;", f"{pdb.name} has chains", "'H'", "'L'")
    assert "np.str_" not in last and "None" not in last
    assert listing(tmp_path, out) == before and not out.exists()

def test_empty_and_header_only_csvs_are_named(tmp_path):
    out = tmp_path/"out"
    (tmp_path/"zero.csv").write_bytes(b"")
    (tmp_path/"head.csv").write_text("sequence,kd\n")
    before = listing(tmp_path, out)
    r = cli("score", "--csv", tmp_path/"zero.csv", "--wt", "EVQL", "--scorer", "tiny-bert", "--output", out/"s.csv", check=False)
    one_line_error(r, f"{tmp_path/'zero.csv'} is empty", "--csv needs a CSV with a header line")
    r = cli("evaluate", "--csv", tmp_path/"zero.csv", "--label_col", "kd", "--tower", "tiny-bert", "--out", out/"run",
            check=False)
    one_line_error(r, "zero.csv is empty")
    r = cli("score", "--csv", tmp_path/"head.csv", "--wt", "EVQL", "--scorer", "tiny-bert", "--output", out/"s.csv", check=False)
    one_line_error(r, f"{tmp_path/'head.csv'} has a header and no rows")
    assert listing(tmp_path, out) == before and not out.exists()

def test_evaluate_checks_predict_rows_and_labels_before_the_study(tmp_path):
    df = assay(tmp_path)
    df.to_csv(tmp_path/"a.csv", index=False)
    (tmp_path/"new.csv").write_text("seq\n")
    df.assign(kd=3.0).to_csv(tmp_path/"flat.csv", index=False)
    out = tmp_path/"run"
    before = listing(tmp_path, out)
    r = cli("evaluate", "--csv", tmp_path/"a.csv", "--seq_col", "seq", "--label_col", "kd", "--tower", "tiny-bert",
            "--out", out, "--no_zero_shot", "--predict", tmp_path/"new.csv", check=False)
    one_line_error(r, "new.csv has a header and no rows", "--predict")
    r = cli("evaluate", "--csv", tmp_path/"flat.csv", "--seq_col", "seq", "--label_col", "kd", "--tower", "tiny-bert",
            "--out", out, "--no_zero_shot", check=False)
    one_line_error(r, f"all {len(df)} labels in column kd are equal (3): nothing to rank")
    assert not out.exists() and listing(tmp_path, out) == before   # refused before any model loaded or folder appeared

@needs_data
def test_ingest_too_small_to_split_is_one_line(tmp_path):
    r = cli("ingest", "--max_structures", 5, "--out", tmp_path/"run", check=False)
    one_line_error(r, "entries survived the filters, too few for a 80%/10%/10% train/valid/test split",
                   "it needs at least 8 entries", "--max_structures 0")

def test_lower_case_sequences_follow_one_rule(tmp_path):
    "score and embed-seqs read lower case as upper case and say so (evaluate --predict: tests/test_zero_shot.py)."
    wt = "EVQLVESGGGLVQPGGSLRL"
    pd.DataFrame({"seq": [wt, "evqlvesgggLVQPGGSLRW"], "id": ["007", "NA"]}).to_csv(tmp_path/"v.csv", index=False)
    r = cli("score", "--csv", tmp_path/"v.csv", "--seq_col", "seq", "--wt", wt, "--scorer", "tiny-bert", "--output",
            tmp_path/"s.csv")
    assert "1 sequence(s) with lower-case letters, read as upper case (first: row 3)" in r.stderr
    got = pd.read_csv(tmp_path/"s.csv", dtype=str, keep_default_na=False)
    assert got.seq.tolist() == [wt, "evqlvesgggLVQPGGSLRW"] and got.id.tolist() == ["007", "NA"]   # passed through
    (tmp_path/"x.fasta").write_text(">a\nevql\n")
    r = cli("embed-seqs", "--input", tmp_path/"x.fasta", "--output", tmp_path/"e.npy", "--tower", "tiny-bert")
    assert "lower-case letters, read as upper case (first: id 'a')" in r.stderr

def test_outputs_the_user_owns_are_not_replaced(tmp_path):
    wt = "EVQLVESGGGLVQPGGSLRL"
    pd.DataFrame({"seq": [wt]}).to_csv(tmp_path/"v.csv", index=False)
    (tmp_path/"mine.csv").write_text("precious\n")
    base = ["score", "--csv", tmp_path/"v.csv", "--seq_col", "seq", "--wt", wt, "--scorer", "tiny-bert"]
    r = cli(*base, "--output", tmp_path/"mine.csv", check=False)
    one_line_error(r, "--output", "mine.csv exists: give another name, or --overwrite to replace it")
    r = cli(*base, "--output", tmp_path/"v.csv", check=False)
    one_line_error(r, "is the input file")
    assert (tmp_path/"mine.csv").read_text() == "precious\n" and pd.read_csv(tmp_path/"v.csv").columns.tolist() == ["seq"]
    cli(*base, "--output", tmp_path/"mine.csv", "--overwrite")
    assert "zs_tiny_bert" in pd.read_csv(tmp_path/"mine.csv").columns
    (tmp_path/"x.fasta").write_text(">a\nEVQL\n")
    r = cli("embed-seqs", "--input", tmp_path/"x.fasta", "--output", tmp_path/"mine.csv", "--tower", "tiny-bert", check=False)
    one_line_error(r, "mine.csv exists")

def test_an_unexpected_error_is_one_line_and_a_log(tmp_path, monkeypatch, capsys):
    "A bug (an exception the package did not raise on purpose): one line naming it and its log; --debug re-raises."
    from esm2_ab_clip import cli as C
    def broken(out: str="x"): raise TypeError("boom")
    monkeypatch.setitem(C.COMMANDS, "embed", broken)
    with pytest.raises(SystemExit) as e: C.main(["embed", "--out", str(tmp_path/"run")])
    err = capsys.readouterr().err.strip().splitlines()
    assert e.value.code == 1 and len(err) == 1 and "esm2-ab-clip embed: error: unexpected TypeError: boom (a bug" in err[0]
    log = next((tmp_path/"run"/"logs").glob("embed-*.log"))
    assert str(log) in err[0] and "Traceback (most recent call last)" in log.read_text()
    with pytest.raises(TypeError, match="boom"): C.main(["embed", "--out", str(tmp_path/"run"), "--debug"])
