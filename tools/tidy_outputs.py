"""Tidy the outputs of executed notebooks before they are committed: stderr streams (warnings, progress bars, model
load reports) are dropped, and machine paths in the rest are written so that they read the same on any machine — the
repository's own folder relative to it, the folder above it as `..`, temporary folders as `<tmp>`.

    python tools/tidy_outputs.py nbs/*.ipynb        # rewrites the notebooks in place; prints what it changed

`bench/run_all.py --save` runs it on what it saves; `tests/test_style.py` fails on an output it would change."""
import json, re, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TMP = re.compile(r"/tmp/(?:tmp|ipykernel_)[\w]+")
MACHINE_PATH = re.compile(r"(?<![\w.~<$-])/(?:home|root|Users|tmp|work|mnt|var|opt|srv|data)/")

def tidy_text(text: str, root: Path=ROOT) -> str:
    "A text with the repository's folder, the folder above it and temporary folders written machine-independently."
    text = text.replace(f"{root}/", "").replace(str(root), ".").replace(f"{root.parent}/", "../")
    return TMP.sub("<tmp>", text)

def tidy_output(o: dict, root: Path=ROOT) -> dict|None:
    "One cell output, tidied; None for a stderr stream."
    if o.get("output_type") == "stream":
        if o.get("name") == "stderr": return None
        return {**o, "text": tidy_text("".join(o["text"]), root)}
    if "data" in o:
        data = {k: (tidy_text("".join(v) if isinstance(v, list) else v, root) if k.startswith("text") else v)
                for k, v in o["data"].items()}
        return {**o, "data": data}
    return o

def tidy_notebook(path: Path, root: Path=ROOT) -> bool:
    "Tidy every output of the notebook at `path` in place; whether anything changed."
    nb = json.loads(Path(path).read_text())
    changed = False
    for c in nb["cells"]:
        if c["cell_type"] != "code": continue
        outs = [t for t in (tidy_output(o, root) for o in c.get("outputs", [])) if t is not None]
        if outs != c.get("outputs", []): c["outputs"], changed = outs, True
    if changed: Path(path).write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")
    return changed

if __name__ == "__main__":
    for p in sys.argv[1:]:
        if tidy_notebook(Path(p)): print(f"tidied {p}")
