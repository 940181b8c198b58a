"""`esm2-ab-clip benchmark` (notebook 05) end to end on a small made-up registry: a user's assay CSV and its parent PDB
(a shared-data structure's heavy chain with made-up variants and labels) scored by a tiny tower and ProteinMPNN's site
table, probed on the random and the position-held-out split, with the structure-aware GP rows (notebook 06) beside the
probes, and an assay too small for a split; a second call reuses
the tables; a bad registry, an unknown assay and bad fractions get one-line errors."""
import pandas as pd
from conftest import needs_data
from test_cli import cli
from test_zero_shot import make_assay

@needs_data
def test_benchmark_on_a_users_registry(tmp_path):
    csv, pdb, chain, wt = make_assay(tmp_path, n=120)
    (tmp_path/"small").mkdir()
    small, *_, small_wt = make_assay(tmp_path/"small", n=40, seed=1)
    reg = pd.DataFrame([{"name": "mine", "csv": str(csv), "seq_col": "heavy", "label_col": "kd", "higher_is_better": "false",
                         "structure": str(pdb), "chain": chain, "wt": wt},
                        {"name": "small", "csv": str(small), "seq_col": "heavy", "label_col": "kd",
                         "higher_is_better": "false", "structure": "", "chain": "", "wt": small_wt}])
    reg.to_csv(tmp_path/"assays.tsv", sep="\t", index=False)
    out = tmp_path/"run"
    args = ("benchmark", "--registry", tmp_path/"assays.tsv", "--towers", "tiny-bert", "--fractions", "0.5,1", "--seeds", "2",
            "--gp", "--out", out)
    r = cli(*args)
    assert "benchmark mine: 120 variants, 0 published row(s), 16 probe row(s)" in r.stdout, r.stdout
    assert "benchmark small: 40 variants, 0 published row(s), 0 probe row(s)" in r.stdout, r.stdout
    b = pd.read_csv(out/"benchmark"/"benchmark.csv")
    mine, rest = b[b.assay == "mine"], b[b.assay == "small"]
    zs = mine[mine.scheme == "all variants"].set_index("predictor")
    assert set(zs.index) == {"base masked marginal", "ProteinMPNN site table"} and (zs.n_test == 120).all()
    assert (zs.spearman_lo <= zs.spearman).all() and (zs.spearman <= zs.spearman_hi).all()
    # the labels grow with the number of mutations, so the structure score (fewer mutations = likelier) ranks them
    assert zs.loc["ProteinMPNN site table", "spearman"] > 0
    for scheme in ("random", "position"):
        s = mine[mine.scheme == scheme]
        assert set(s.predictor[s["mode"] == "probe"]) == {"onehot", "base"}
        assert set(s.predictor[s["mode"] == "augmented"]) == {"onehot + ProteinMPNN site table",
                                                              "base + ProteinMPNN site table"}
        assert set(s.fraction) == {0.0, 0.5, 1.0} and s.vs_plain[s["mode"] == "augmented"].notna().all()
        assert (s.n_train[s["mode"] == "probe"] > 0).all() and (s.n_test < 120).all()
    assert "position-held-out" in mine[mine.scheme == "position"].note.iloc[0]
    assert set(rest["mode"]) == {"zero-shot", "none"} and rest.note.str.contains("fewer than 100").sum() == 2
    md = (out/"benchmark"/"benchmark.md").read_text()
    assert "## mine" in md and "## small" in md and "base = tiny-bert" in md
    assert (out/"benchmark"/"benchmark.png").stat().st_size > 1000
    gp = pd.read_csv(out/"benchmark"/"gp.csv")
    g = gp[(gp.assay == "mine") & (gp["mode"] == "gp")]
    # structure kernel alone and with the zero-shot mean, the tower's sequence kernel likewise, both: on each split
    assert set(g.predictor) == {"GP struct", "GP struct | zero-shot mean", "GP seq(base)", "GP seq(base) | zero-shot mean",
                                "GP struct + seq(base) | zero-shot mean"} and set(g.scheme) == {"random", "position"}
    assert g.vs_ridge.notna().all() and g.coverage_95.between(0, 1).all() and (g.coverage_68 <= g.coverage_95).all()
    assert "fewer than 100" in gp[gp.assay == "small"].note.iloc[0] and "## What the rows say" in (out/"benchmark"/"gp.md").read_text()
    r = cli(*args)
    assert "benchmark mine:" not in r.stdout and "benchmark small:" not in r.stdout   # reused: inputs unchanged
    assert "benchmark GP mine" not in r.stdout
    r = cli("benchmark", "--registry", tmp_path/"assays.tsv", "--assays", "nope", "--out", out, check=False)
    assert r.returncode == 2 and "--assays: no assay ['nope'] in the registry; its assays are ['mine', 'small']" in r.stderr
    r = cli("benchmark", "--registry", tmp_path/"assays.tsv", "--fractions", "0,2", "--out", out, check=False)
    assert r.returncode == 2 and "--fractions '0,2': give fractions in (0, 1]" in r.stderr
    reg.assign(higher_is_better="maybe").to_csv(tmp_path/"bad.tsv", sep="\t", index=False)
    r = cli("benchmark", "--registry", tmp_path/"bad.tsv", "--out", out, check=False)
    assert r.returncode == 2 and "bad.tsv row 2: higher_is_better is 'maybe'; write true or false" in r.stderr
