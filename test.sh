#!/usr/bin/env bash
# The test command: library/notebook sync, README freshness, nbdev_test over the notebooks, pytest over tests/.
# Exits non-zero on any failure, and when no notebook or no test ran.
set -euo pipefail
cd "$(dirname "$0")"
VENV=${ESM2_AB_CLIP_VENV:-.venv}   # the environment setup.sh made (another one: tools/canary.sh)
[ -f "$VENV/bin/activate" ] && . "$VENV/bin/activate"
if [ -z "${ESM2_AB_CLIP_DATA:-}" ] && [ -d ../shared/data ]; then export ESM2_AB_CLIP_DATA="$(cd ../shared/data && pwd)"; fi
export PYTHONHASHSEED=0 TOKENIZERS_PARALLELISM=false HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 MPLBACKEND=Agg

echo "== 1/4 notebooks and library in sync, notebooks clean"
snap() { find nbs esm2_ab_clip README.md -type f \( -name '*.ipynb' -o -name '*.py' -o -name '*.md' \) -not -path '*/.ipynb_checkpoints/*' -print0 | sort -z | xargs -0 sha1sum; }
before=$(snap)
nbdev_export
nbdev_clean
python -c "from esm2_ab_clip.core import render_readme; from pathlib import Path; Path('README.md').write_text(render_readme('nbs/index.ipynb'))"
after=$(snap)
if [ "$before" != "$after" ]; then
  echo "FAIL: nbdev_export / nbdev_clean / the README generator changed these files (commit what they write):"
  diff <(echo "$before") <(echo "$after") | grep '^[<>]' || true
  exit 1
fi

echo "== 2/4 data directory"
FLAGS=""
if python -c "from esm2_ab_clip.core import has_data; import sys; sys.exit(0 if has_data('antibody_structures') and has_data('li2023_covid_scfv') else 1)"; then
  FLAGS="data"; echo "data found at ${ESM2_AB_CLIP_DATA:-data/}: running the cells flagged 'data' too"
else
  echo "no data directory with the shared files: cells flagged 'data' are skipped"
fi

# nothing may write into the data directory: its listing (names, sizes, mtimes) before the tests must equal the one after
datasnap() { if [ -n "${ESM2_AB_CLIP_DATA:-}" ] && [ -d "$ESM2_AB_CLIP_DATA" ]; then find "$ESM2_AB_CLIP_DATA" -printf '%P %s %T@ %m\n' | sort; fi; }
data_before=$(datasnap)

echo "== 3/4 nbdev_test"
n_nbs=$(find nbs -name '*.ipynb' -not -name '_*' -not -path '*/.ipynb_checkpoints/*' | wc -l)
[ "$n_nbs" -gt 0 ] || { echo "FAIL: no notebooks to test"; exit 1; }
nbdev_test --flags "$FLAGS" --n_workers 2 --timing

echo "== 4/4 pytest"
python -m pytest tests/ -q -p no:cacheprovider
if [ "$data_before" != "$(datasnap)" ]; then
  echo "FAIL: the tests changed the data directory $ESM2_AB_CLIP_DATA:"; diff <(echo "$data_before") <(datasnap) | head -20; exit 1
fi
echo "data directory unchanged by the tests"
