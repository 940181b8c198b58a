"""The notebooks through a real Jupyter kernel, the way a user's Run All runs them (nbdev's executor skips flagged cells;
Jupyter runs every cell). The set-up installs JupyterLab and registers this environment as the kernel `esm2-ab-clip`."""
import json, subprocess, sys
from pathlib import Path
import pytest
from conftest import needs_data, ROOT

BIN = Path(sys.executable).parent
KERNEL = "esm2-ab-clip"

def test_jupyter_and_the_project_kernel_are_installed():
    r = subprocess.run([str(BIN/"jupyter"), "lab", "--version"], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0 and r.stdout.strip()[:1].isdigit(), r.stderr
    r = subprocess.run([str(BIN/"jupyter"), "kernelspec", "list", "--json"], capture_output=True, text=True, timeout=300)
    specs = json.loads(r.stdout)["kernelspecs"]
    assert KERNEL in specs, f"kernel {KERNEL!r} not registered (bash setup.sh registers it); found {list(specs)}"
    assert Path(specs[KERNEL]["spec"]["argv"][0]).parent == BIN    # this environment's python, not some other

def run_all(name: str, timeout: int=1200):
    "Execute every cell of `nbs/{name}` in the project's kernel, from the notebooks folder, as Run All does; the executed notebook."
    import nbformat
    from nbclient import NotebookClient
    nb = nbformat.read(ROOT/"nbs"/name, as_version=4)
    NotebookClient(nb, kernel_name=KERNEL, timeout=timeout, resources={"metadata": {"path": str(ROOT/"nbs")}}).execute()
    return nb

def outputs_text(nb) -> str:
    return "\n".join(o.get("text", "") + json.dumps(o.get("data", {}).get("text/plain", ""))
                     for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))

@pytest.mark.parametrize("name", ["core.ipynb", "fetch.ipynb"])
def test_library_notebooks_run_all_in_jupyter(name, tmp_path, monkeypatch):
    monkeypatch.setenv("ESM2_AB_CLIP_OUT", str(tmp_path/"out"))     # the kernel inherits this environment
    nb = run_all(name)
    assert all(o.get("output_type") != "error" for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))

@needs_data
def test_notebook_00_runs_all_in_jupyter(tmp_path, monkeypatch):
    "Notebook 00 top to bottom, its slow cell (the ingest of every structure) included, in a fresh output folder."
    monkeypatch.setenv("ESM2_AB_CLIP_OUT", str(tmp_path/"out"))
    nb = run_all("00_sabdab.ipynb")
    text = outputs_text(nb)
    assert "ingest:" in text and "kept" in text, text[-2000:]
    assert (tmp_path/"out"/"ingest"/"proteinflow_sabdab"/"manifest.parquet").exists()   # the layout of `core.RunDirs`
