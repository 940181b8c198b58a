"""The set-up's torch selection (issue: set-up on a user's own machine): dry runs with and without a GPU, overrides,
and no assumption about the build kind."""
import os, re, shutil, subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

def dry_run(tmp_path, gpu: bool, **env):
    "Run `setup.sh --dry-run` with a PATH holding only the tools it needs (and a stub nvidia-smi when `gpu`)."
    bin_ = tmp_path/("bin_gpu" if gpu else "bin_cpu"); bin_.mkdir()
    for tool in ("dirname", "head"): (bin_/tool).symlink_to(shutil.which(tool))
    if gpu:
        (bin_/"nvidia-smi").write_text("#!/bin/sh\necho 'GPU 0: NVIDIA H200 (UUID: GPU-stub)'\n"); (bin_/"nvidia-smi").chmod(0o755)
    r = subprocess.run([shutil.which("bash"), str(ROOT/"setup.sh"), "--dry-run"], capture_output=True, text=True, timeout=60,
                       env={"PATH": str(bin_), **env})
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout

def test_torch_step_with_and_without_gpu(tmp_path):
    with_gpu, without = dry_run(tmp_path, True), dry_run(tmp_path, False)
    assert "NVIDIA GPU found (GPU 0: NVIDIA H200" in with_gpu and "CUDA build" in with_gpu
    assert "no NVIDIA GPU found" in without
    for out in (with_gpu, without):  # the version pin, no build forced either way
        assert re.search(r"torch step: python -m pip install -q torch==2\.13\.0$", out, re.M), out

def test_torch_overrides(tmp_path):
    out = dry_run(tmp_path, True, ESM2_AB_CLIP_TORCH="torch==2.13.0+cu128", ESM2_AB_CLIP_TORCH_INDEX="https://download.pytorch.org/whl/cu128")
    assert "pip install -q torch==2.13.0+cu128 --extra-index-url https://download.pytorch.org/whl/cu128" in out

def test_setup_assumes_no_build_kind():
    text = (ROOT/"setup.sh").read_text()
    assert "not torch.version.cuda" not in text and not re.search(r"assert[^\n]*torch\.version\.cuda", text)
    assert "torchvision" in text and "torch==2.13.0" in (ROOT/"constraints.txt").read_text()  # the guard and the pin stay
