"""A notebook's "What we found" may state by hand only numbers its own tables show: every decimal and every timing in
the section's Markdown must appear in an output of a code cell of the same notebook (a table, or a verdict line a cell
generated from one). A verdict edited by hand that
drifts from a re-run table fails here; verdicts printed by a code cell are formatted from their table when it runs."""
import json, re
from pathlib import Path
import pytest
from conftest import ROOT

DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
# decimals (0.33, −0.010, 1,404.5) and durations (214 s, 24.5 min, 1.5 h)
NUMBER = re.compile(r"(?<![\w.])[-+−]?\d[\d,]*\.\d+(?![\d])|(?<![\w.,])\d[\d,]*(?=\s?(?:s|min|h)\b)")

def numbers(text: str) -> set:
    "The decimals and durations a text states, signs and thousands separators dropped."
    return {m.group(0).replace("−", "").lstrip("+-").replace(",", "") for m in NUMBER.finditer(DATE.sub("", text))}

def output_text(cell: dict) -> str:
    "Everything a code cell's committed outputs show as text."
    parts = []
    for o in cell.get("outputs", []):
        parts.append("".join(o.get("text", "")))
        parts += ["".join(v) if isinstance(v, list) else str(v) for k, v in o.get("data", {}).items() if k.startswith("text")]
    return "\n".join(parts)

def verdict_range(cells: list, heading: str="## What we found") -> range|None:
    "The cells of the verdict section: its heading cell up to the next heading of the same level."
    start = next((i for i, c in enumerate(cells) if c["cell_type"] == "markdown"
                  and "".join(c["source"]).lstrip().startswith(heading)), None)
    if start is None: return None
    end = next((i for i in range(start + 1, len(cells)) if cells[i]["cell_type"] == "markdown"
                and "".join(cells[i]["source"]).lstrip().startswith("## ")), len(cells))
    return range(start, end)

def stated_and_shown(nb: Path, heading: str="## What we found") -> tuple[set, set]:
    "(numbers the verdict states, numbers the notebook's outputs show)"
    cells = json.loads(nb.read_text())["cells"]
    r = verdict_range(cells, heading)
    if r is None: return set(), set()
    said = "\n".join("".join(cells[i]["source"]) for i in r if cells[i]["cell_type"] == "markdown")
    shown = "\n".join(output_text(c) for c in cells if c["cell_type"] == "code")   # generated verdict lines included
    return numbers(said), numbers(shown)

def test_numbers_are_read_like_this():
    test = numbers("top-1 0.192 ± 0.000 vs −0.010 [−0.018, +0.002]; 1,404 s, 24.5 min on 2026-11-29; 20 % and 3 seeds")
    assert test == {"0.192", "0.000", "0.010", "0.018", "0.002", "1404", "24.5"}

@pytest.mark.parametrize("nb", sorted((ROOT/"nbs").glob("*.ipynb")), ids=lambda p: p.name)
def test_what_we_found_states_only_numbers_its_tables_show(nb):
    said, shown = stated_and_shown(nb)
    missing = sorted(said - shown, key=float)
    assert not missing, (f"{nb.name}: 'What we found' states {missing}, which no output of the notebook shows; "
                         "generate the sentence from its table, or show the table it comes from")

def test_readme_results_state_only_numbers_its_tables_show():
    "The README's results (nbs/index.ipynb): the sentences may quote only the generated tables."
    said, shown = stated_and_shown(ROOT/"nbs"/"index.ipynb", "## Results")
    assert said, "the README has no results section"
    missing = sorted(said - shown, key=float)
    assert not missing, f"the README's results state {missing}, which its generated tables do not show"
