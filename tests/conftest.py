"""Shared pytest set-up: point the data directory at ../shared/data when it exists (as .ci/run does)."""
import os
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parent.parent
if not os.environ.get("ESM2_AB_CLIP_DATA") and (ROOT.parent/"shared"/"data").is_dir():
    os.environ["ESM2_AB_CLIP_DATA"] = str(ROOT.parent/"shared"/"data")
SHARED = Path(os.environ.get("ESM2_AB_CLIP_DATA") or ROOT.parent/"shared"/"data")   # the shared data, wherever it is
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("MPLBACKEND", "Agg")

def _have_shared():
    from esm2_ab_clip.core import has_data
    return has_data("antibody_structures") and has_data("li2023_covid_scfv")

needs_data = pytest.mark.skipif(not _have_shared(), reason="shared data not found: set ESM2_AB_CLIP_DATA")

def data_snapshot(root) -> dict:
    "Path -> (size, mtime_ns, mode) of every file and folder under `root` (empty when there is no data directory)."
    root = Path(root)
    if not root.is_dir(): return {}
    return {str(p.relative_to(root)): (p.stat().st_size if p.is_file() else -1, p.stat().st_mtime_ns, p.stat().st_mode)
            for p in [root, *root.rglob("*")]}

@pytest.fixture(scope="session", autouse=True)
def data_directory_untouched():
    "The whole suite must leave the data directory exactly as it found it: no file created, changed or deleted."
    root = os.environ.get("ESM2_AB_CLIP_DATA")
    before = data_snapshot(root) if root else {}
    yield
    after = data_snapshot(root) if root else {}
    changed = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
    assert not changed, f"the test suite changed the data directory {root}: {changed[:10]}"

@pytest.fixture(scope="session")
def ingest_60(tmp_path_factory):
    "The `ingest/` folder of `esm2-ab-clip ingest --max_structures 60`, made once per session; tests copy it into their run."
    import subprocess, sys
    out = tmp_path_factory.mktemp("ingest60")
    r = subprocess.run([sys.executable, "-c", "from esm2_ab_clip.cli import main; main()", "ingest", "--out", str(out),
                        "--max_structures", "60"], capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    return out/"ingest"
