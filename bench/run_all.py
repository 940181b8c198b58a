"""Run All, timed: each numbered notebook through the project's Jupyter kernel, every cell, as a user's Run All runs it
(the slow cells reuse the finished outputs in the output folder; `force = False` at the top of each notebook).

    python bench/run_all.py [NOTEBOOK ...] [--save]

Prints one JSON line: seconds per notebook and in total, with the machine. `--save` writes the executed notebooks back
(tidied by `tools/tidy_outputs.py`; run `nbdev_clean` afterwards, as for any notebook edit)."""

import argparse, json, os, platform, sys, time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
from tidy_outputs import tidy_notebook  # noqa: E402
NOTEBOOKS = ["00_sabdab", "01_structure", "02a_towers", "02b_clip", "02c_train", "03_affinity", "04_zero_shot", "05_benchmark", "06_gp", "07_fold"]


def run_notebook(path: Path, kernel: str, timeout: int):
    "Execute every cell of the notebook at `path` from the notebooks folder; the executed notebook."
    nb = nbformat.read(path, as_version=4)
    NotebookClient(
        nb, kernel_name=kernel, timeout=timeout, resources={"metadata": {"path": str(path.parent)}}
    ).execute()
    return nb


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("notebooks", nargs="*", default=NOTEBOOKS, help="notebook names in nbs/ (default: 00-07)")
    ap.add_argument("--save", action="store_true", help="write the executed notebooks back")
    ap.add_argument("--kernel", default="esm2-ab-clip", help="Jupyter kernel (bash setup.sh registers esm2-ab-clip)")
    ap.add_argument("--timeout", type=int, default=3600, help="seconds one cell may take")
    a = ap.parse_args()
    from esm2_ab_clip.core import output_dir

    seconds = {}
    for name in a.notebooks:
        path = ROOT / "nbs" / f"{name.removesuffix('.ipynb')}.ipynb"
        t0 = time.time()
        nb = run_notebook(path, a.kernel, a.timeout)
        seconds[path.stem] = round(time.time() - t0, 1)
        if a.save:
            nbformat.write(nb, path)
            tidy_notebook(path)   # no stderr streams, no machine paths in what gets committed
        print(f"{path.stem}: {seconds[path.stem]} s", file=sys.stderr, flush=True)
    print(
        json.dumps(
            {
                "bench": "run_all",
                "seconds": seconds,
                "total_seconds": round(sum(seconds.values()), 1),
                "outputs": str(output_dir()),
                "cpus": os.cpu_count(),
                "machine": platform.machine(),
                "python": platform.python_version(),
            }
        )
    )


if __name__ == "__main__":
    main()
