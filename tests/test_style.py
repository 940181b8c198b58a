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
                  if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and not n.name.startswith("_")
                  and not patched(n)]   # methods added to a class with `@patch` belong to the class
        if len(public) > 1: crowded.append(f"cell {i}: {public}")
    assert not crowded, f"{nb.name}: export cells with several public definitions: {crowded}"

def patched(n) -> bool:
    "A method added to a class with fastcore's `@patch` (it belongs to the class, not to the cell's definitions)."
    return any((isinstance(d, ast.Name) and d.id == "patch") or (isinstance(d, ast.Call) and getattr(d.func, "id", "") == "patch")
               for d in getattr(n, "decorator_list", []))

MODULES = sorted(p for p in (ROOT/"esm2_ab_clip").glob("*.py") if not p.name.startswith("_"))
CELL_LINES, FUNCTION_LINES, MODULE_LINES = 40, 50, 800

@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.name)
def test_export_cells_are_short(nb):
    long = [f"cell {i}: {len(src.splitlines())} lines" for i, src in code_cells(nb)
            if src.startswith("#| export") and len(src.splitlines()) > CELL_LINES]
    assert not long, f"{nb.name}: export cells over {CELL_LINES} lines: {long}"

@pytest.mark.parametrize("mod", MODULES, ids=lambda p: p.name)
def test_modules_and_functions_are_short(mod):
    text = mod.read_text()
    assert len(text.splitlines()) <= MODULE_LINES, f"{mod.name}: {len(text.splitlines())} lines"
    long = [f"{n.name} ({n.end_lineno - n.lineno + 1} lines)" for n in ast.walk(ast.parse(text))
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.end_lineno - n.lineno + 1 > FUNCTION_LINES]
    assert not long, f"{mod.name}: functions over {FUNCTION_LINES} lines: {long}"

def imported_modules(mod: Path) -> set:
    "The library modules `mod` imports, at the top or inside a function."
    out = set()
    for n in ast.walk(ast.parse(mod.read_text())):
        if isinstance(n, ast.ImportFrom) and n.module and n.module.startswith("esm2_ab_clip."):
            out.add(n.module.split(".")[1])
        elif isinstance(n, ast.ImportFrom) and n.level == 1 and n.module: out.add(n.module)
        elif isinstance(n, ast.Import):
            out |= {a.name.split(".")[1] for a in n.names if a.name.startswith("esm2_ab_clip.")}
    return out - {mod.stem}

def test_no_import_cycles():
    "Every import between library modules, at the top or inside a function, points down: the graph has no cycle."
    graph = {m.stem: imported_modules(m) for m in MODULES}
    state, cycles = {}, []
    def visit(m, path):
        state[m] = "open"
        for d in sorted(graph.get(m, ())):
            if state.get(d) == "open": cycles.append(" → ".join(path[path.index(d):] + [d]) if d in path else f"{m} → {d}")
            elif d not in state: visit(d, path + [d])
        state[m] = "done"
    for m in sorted(graph):
        if m not in state: visit(m, [m])
    assert not cycles, f"import cycles: {cycles}"

def test_no_module_level_mutable_cache():
    "No module keeps state between calls in a module-level dict, list or set, nor in an `lru_cache`/`cache` decorator."
    found = []
    for mod in MODULES:
        for n in ast.parse(mod.read_text()).body:
            value = getattr(n, "value", None)
            empty = (isinstance(value, (ast.Dict, ast.List, ast.Set)) and not getattr(value, "keys", getattr(value, "elts", None))) or \
                    (isinstance(value, ast.Call) and getattr(value.func, "id", "") in ("dict", "list", "set") and not value.args)
            if isinstance(n, (ast.Assign, ast.AnnAssign)) and empty: found.append(f"{mod.name} line {n.lineno}")
        for n in ast.walk(ast.parse(mod.read_text())):
            for d in getattr(n, "decorator_list", []):
                name = getattr(d, "attr", getattr(d, "id", getattr(getattr(d, "func", None), "attr", getattr(getattr(d, "func", None), "id", ""))))
                if name in ("lru_cache", "cache"): found.append(f"{mod.name} line {n.lineno}: @{name}")
    assert not found, f"module-level caches: {found}"

def test_committed_outputs_read_the_same_on_any_machine():
    "No committed output holds a Traceback, a Warning, a stderr stream or a machine's absolute path (`tools/tidy_outputs.py`)."
    import re, sys
    sys.path.insert(0, str(ROOT/"tools"))
    from tidy_outputs import MACHINE_PATH
    bad = []
    for nb in NOTEBOOKS:
        for i, c in enumerate(json.loads(nb.read_text())["cells"]):
            for o in c.get("outputs", []):
                if o.get("name") == "stderr": bad.append(f"{nb.name} cell {i}: a stderr stream")
                text = "".join(o.get("text", "")) + "".join("".join(v) if isinstance(v, list) else str(v)
                                                            for k, v in o.get("data", {}).items() if k.startswith("text"))
                for word in ("Traceback", "Warning"):
                    if word in text: bad.append(f"{nb.name} cell {i}: {word!r}")
                m = MACHINE_PATH.search(text)
                if m: bad.append(f"{nb.name} cell {i}: a machine path ({text[m.start():m.start() + 40]!r})")
    assert not bad, "run `python tools/tidy_outputs.py nbs/*.ipynb`, or remove the cause: " + "; ".join(bad[:10])
