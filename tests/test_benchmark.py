"""`esm2-ab-clip benchmark` (notebook 05) end to end on a small made-up registry: a user's assay CSV and its parent PDB
(a shared-data structure's heavy chain with made-up variants and labels), scored by a tiny tower and ProteinMPNN's site
table; a second call reuses the table; a bad registry and an unknown assay get one-line errors."""
import pandas as pd
from conftest import needs_data
from test_cli import cli
from test_zero_shot import make_assay

@needs_data
def test_benchmark_on_a_users_registry(tmp_path):
    csv, pdb, chain, wt = make_assay(tmp_path, n=40)
    reg = pd.DataFrame([{"name": "mine", "csv": str(csv), "seq_col": "heavy", "label_col": "kd", "higher_is_better": "false",
                         "structure": str(pdb), "chain": chain, "wt": wt}])
    reg.to_csv(tmp_path/"assays.tsv", sep="\t", index=False)
    out = tmp_path/"run"
    r = cli("benchmark", "--registry", tmp_path/"assays.tsv", "--tower", "tiny-bert", "--out", out)
    assert "benchmark mine: 40 variants, 2 own scorer(s) and 0 published" in r.stdout, r.stdout
    zs = pd.read_csv(out/"benchmark"/"zero_shot_benchmark.csv")
    assert set(zs.scorer) == {"AntiBERTy masked marginal (ours)", "ProteinMPNN site table (ours)"}
    assert (zs.n == 40).all() and (zs.ci_lo <= zs.spearman).all() and (zs.spearman <= zs.ci_hi).all()
    # the labels grow with the number of mutations, so the structure score (fewer mutations = likelier) ranks them
    assert zs.set_index("scorer").loc["ProteinMPNN site table (ours)", "spearman"] > 0
    assert (out/"benchmark"/"zero_shot_benchmark.png").stat().st_size > 1000
    assert "mine" in (out/"benchmark"/"zero_shot_benchmark.md").read_text()
    r = cli("benchmark", "--registry", tmp_path/"assays.tsv", "--tower", "tiny-bert", "--out", out)
    assert "benchmark mine:" not in r.stdout                         # reused: inputs unchanged
    r = cli("benchmark", "--registry", tmp_path/"assays.tsv", "--assays", "nope", "--out", out, check=False)
    assert r.returncode == 2 and "--assays: no assay ['nope'] in the registry; its assays are ['mine']" in r.stderr
    reg.assign(higher_is_better="maybe").to_csv(tmp_path/"bad.tsv", sep="\t", index=False)
    r = cli("benchmark", "--registry", tmp_path/"bad.tsv", "--out", out, check=False)
    assert r.returncode == 2 and "bad.tsv row 2: higher_is_better is 'maybe'; write true or false" in r.stderr
