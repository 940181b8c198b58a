#!/usr/bin/env bash
# GPU check in one command, offline, within ten minutes: `esm2-ab-clip run --quick` end to end on the GPU, then the two
# benches (CLIP training: ours vs the original recipe for AntiBERTy and the ESM2-8M architecture; structure embedding),
# then one JSON summary line on stdout (the last line). Nothing here needs network access.
#
#   bash bench/gpu_check.sh [DATA_DIR] [OUT_DIR]
#
# DATA_DIR: the data directory (default: $ESM2_AB_CLIP_DATA, else ../shared/data); OUT_DIR: where the quick run and the
# logs go (default: a new temporary folder). Set ESM2_AB_CLIP_PYTHON to the interpreter to use (default: .venv/bin/python,
# else python3). Runs on a CPU too (it says so in the JSON), which is how it is tested here.
set -uo pipefail
cd "$(dirname "$0")/.."
PY="${ESM2_AB_CLIP_PYTHON:-$( [ -x .venv/bin/python ] && echo .venv/bin/python || echo python3 )}"
DATA="${1:-${ESM2_AB_CLIP_DATA:-../shared/data}}"
OUT="${2:-$(mktemp -d)}"
mkdir -p "$OUT"
export ESM2_AB_CLIP_DATA="$DATA" HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 PYTHONUNBUFFERED=1
EPOCHS="${GPU_CHECK_EPOCHS:-6}"
SCALE="${GPU_CHECK_LIMIT_SCALE:-1}"   # the step limits below add up to 590 s (under ten minutes); scale them on slow machines

step() {  # step NAME TIMEOUT_S CMD...: run with a time limit, log to OUT/NAME.log, remember rc and seconds
  local name=$1 limit=$(( $2 * SCALE )); shift 2
  local t0=$(date +%s%N)
  timeout "$limit" "$@" > "$OUT/$name.log" 2>&1
  local rc=$? ms=$(( ($(date +%s%N) - t0) / 1000000 ))
  echo "$name $rc $ms" >> "$OUT/steps.txt"
  echo "[gpu_check] $name: rc $rc ($ms ms)" >&2
}

: > "$OUT/steps.txt"
step quick_run 180 "$PY" -c "from esm2_ab_clip.cli import main; main()" run --quick --out "$OUT/quick"
step bench_clip_antiberty 130 "$PY" bench/clip_train.py --tower antiberty --epochs "$EPOCHS" --run "$OUT/quick"
step bench_clip_esm2_8m 100 "$PY" bench/clip_train.py --tower esm2-8m-random --epochs "$EPOCHS" --run "$OUT/quick"
step bench_embed 60 "$PY" bench/embed.py --n 50
# bf16 numerics where bf16 is native (emulated bf16 on other CPUs is far too slow): three fp32 seeds and one bf16 seed of
# the default recipe on the quick split, compared by precision_check
if "$PY" -c "import sys, torch; from esm2_ab_clip.core import resolve_precision; sys.exit(resolve_precision('cuda' if torch.cuda.is_available() else 'cpu') != 'bf16')"; then
  for p in fp32 bf16; do mkdir -p "$OUT/$p" && cp -r "$OUT/quick/ingest" "$OUT/quick/embeddings" "$OUT/$p/" 2>/dev/null; done
  step train_fp32 60 "$PY" -c "from esm2_ab_clip.cli import main; main()" train --out "$OUT/fp32" --seeds 0,1,2 --precision fp32
  step train_bf16 30 "$PY" -c "from esm2_ab_clip.cli import main; main()" train --out "$OUT/bf16" --seeds 0 --precision bf16
  step precision_check 30 "$PY" bench/precision_check.py --fp32 "$OUT/fp32" --bf16 "$OUT/bf16"
else
  echo "[gpu_check] no native bf16 here: the bf16 numerics check is skipped" >&2
fi

"$PY" - "$OUT" <<'EOF'
import json, sys
from pathlib import Path
import torch
out = Path(sys.argv[1])
steps = {l.split()[0]: {"rc": int(l.split()[1]), "seconds": round(int(l.split()[2]) / 1000, 1)} for l in (out/"steps.txt").read_text().splitlines()}
def last_json(name):
    lines = [l for l in (out/f"{name}.log").read_text(errors="replace").splitlines() if l.startswith("{")] if (out/f"{name}.log").exists() else []
    return json.loads(lines[-1]) if lines else None
summary = {"device": torch.cuda.get_device_name() if torch.cuda.is_available() else "cpu (no GPU visible)",
           "torch": torch.__version__, "cuda": torch.version.cuda,
           "quick_run_s": steps["quick_run"]["seconds"], "steps": steps,
           "clip_antiberty": last_json("bench_clip_antiberty"), "clip_esm2_8m": last_json("bench_clip_esm2_8m"),
           "embed": last_json("bench_embed"), "precision": last_json("precision_check"), "logs": str(out),
           "ok": all(s["rc"] == 0 for s in steps.values())}
print(json.dumps(summary))
sys.exit(0 if summary["ok"] else 1)
EOF
