"""Shared pytest set-up: point the data directory at ../shared/data when it exists (as .ci/run does)."""
import os
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent/"shared"/"data"
if not os.environ.get("ESM2_AB_CLIP_DATA") and SHARED.is_dir():
    os.environ["ESM2_AB_CLIP_DATA"] = str(SHARED)
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("MPLBACKEND", "Agg")

def _have_shared():
    from esm2_ab_clip.core import has_data
    return has_data("antibody_structures") and has_data("li2023_covid_scfv")

needs_data = pytest.mark.skipif(not _have_shared(), reason="shared data not found: set ESM2_AB_CLIP_DATA")
