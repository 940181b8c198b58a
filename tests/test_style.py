"""The notebooks' code reads like fastcore's: one statement per line (no `;` chains), lines of about 120 characters, one
exported public definition per cell (its test under it), and notebooks that are clean and in sync with the library."""
import ast, io, json, tokenize
from pathlib import Path
import pytest
from conftest import ROOT

NOTEBOOKS = sorted((ROOT/"nbs").glob("*.ipynb"))
LIMIT = 130   # "about 120": the formatter aims at 120; a few lines of up to 130 stay where a break would read worse

def code_cells(nb: Path):
    "(index, source) of the notebook's code cells that are Python (not shell or magics)."
    cells = json.loads(nb.read_text())["cells"]
    return [(i, "".join(c["source"])) for i, c in enumerate(cells) if c["cell_type"] == "code"
            and not "".join(c["source"]).lstrip().startswith(("!", "%"))]

def string_rows(src: str) -> set:
    "Rows inside multi-line string literals (a model-card template, a PDB record): their length is content, not layout."
    rows = set()
    for t in tokenize.generate_tokens(io.StringIO(src).readline):
        if t.type == tokenize.STRING and t.end[0] > t.start[0]: rows |= set(range(t.start[0], t.end[0] + 1))
    return rows

@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.name)
def test_one_statement_per_line_and_short_lines(nb):
    problems = []
    for i, src in code_cells(nb):
        toks = list(tokenize.generate_tokens(io.StringIO(src).readline))
        problems += [f"cell {i} line {t.start[0]}: ';'" for t in toks if t.type == tokenize.OP and t.string == ";"]
        inside = string_rows(src)
        for k, line in enumerate(src.splitlines(), 1):
            long_word = max((len(w) for w in line.split()), default=0) > 80   # a sequence or a URL: not breakable
            if len(line) > LIMIT and k not in inside and not long_word:
                problems.append(f"cell {i} line {k}: {len(line)} characters")
    assert not problems, f"{nb.name}: " + "; ".join(problems[:10])

@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.name)
def test_one_exported_definition_per_cell(nb):
    crowded = []
    for i, src in code_cells(nb):
        if not src.startswith("#| export"): continue
        public = [n.name for n in ast.parse(src).body
                  if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and not n.name.startswith("_")]
        if len(public) > 1: crowded.append(f"cell {i}: {public}")
    assert not crowded, f"{nb.name}: export cells with several public definitions: {crowded}"
