"""The locked environment: write `requirements.lock` from a green environment, check an environment against it, and
list how two environments differ.

    python tools/lock.py write  [--python PY]   # the lock from PY's environment (default: this interpreter's)
    python tools/lock.py check                  # this environment against the lock (setup.sh runs it)
    python tools/lock.py diff   [--python PY]   # PY's environment against the lock, one line per package, then JSON

The lock is `pip freeze --exclude-editable` of an environment that `bash setup.sh` made and `bash test.sh` passed,
with torch's local build tag removed (`torch==2.13.0`, not `torch==2.13.0+cpu`), so that one file serves the CPU and
the CUDA builds: pip treats `==2.13.0` as matching either. setup.sh hands it to pip as a constraints file, so packages
listed there but not needed on a platform are simply not installed, and the CUDA build's own libraries (nvidia-*),
which the torch wheel pins exactly, come in at the versions it names.
"""
from __future__ import annotations
import argparse, datetime, json, platform, re, subprocess, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT/"requirements.lock"

def canonical(name: str) -> str:
    "PEP 503 name: lower case, runs of `-_.` as one `-`."
    return re.sub(r"[-_.]+", "-", name).lower()

def base_version(v: str) -> str:
    "A version without its local build tag (`2.13.0+cpu` -> `2.13.0`)."
    return v.split("+", 1)[0]

def parse_pins(text: str) -> dict[str, str]:
    "`name==version` lines (comments and blank lines skipped) as {canonical name: version}."
    pins = {}
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line: continue
        m = re.fullmatch(r"([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?==([^;\s]+)", line)
        if not m: raise ValueError(f"{LOCK.name}: not a `name==version` line: {line!r}")
        pins[canonical(m.group(1))] = m.group(3)
    return pins

def freeze(python: str) -> dict[str, str]:
    "{canonical name: version} of the packages installed in `python`'s environment (not editable ones)."
    out = subprocess.run([python, "-m", "pip", "freeze", "--exclude-editable", "--disable-pip-version-check"],
                         capture_output=True, text=True, check=True).stdout
    pins = {}
    for line in out.splitlines():
        if "==" in line and not line.startswith("#"):
            name, v = line.split("==", 1)
            pins[canonical(name)] = v.strip()
    return pins

def differences(locked: dict[str, str], installed: dict[str, str]) -> dict[str, list]:
    "{package: [locked version or None, installed version or None]} where they differ (build tags ignored)."
    names = sorted(locked.keys() | installed.keys())
    return {n: [locked.get(n), installed.get(n)] for n in names
            if base_version(locked.get(n) or "") != base_version(installed.get(n) or "")}

def write(python: str) -> None:
    pins = {n: base_version(v) for n, v in freeze(python).items()}
    head = (f"# requirements.lock: the exact versions of a green run (bash setup.sh, then bash test.sh), used by setup.sh\n"
            f"# as pip constraints. Regenerate: bash tools/canary.sh --write-lock (writes it only when the canary passes).\n"
            f"# Written {datetime.date.today().isoformat()} on Python {platform.python_version()}, "
            f"{platform.system()} {platform.machine()}; torch without its build tag (CPU and CUDA builds alike).\n")
    LOCK.write_text(head + "".join(f"{n}=={v}\n" for n, v in sorted(pins.items())))
    print(f"wrote {LOCK.name}: {len(pins)} packages")

def check() -> int:
    "Compare this environment with the lock; print one line; non-zero exit when a locked package has another version."
    from importlib.metadata import distributions
    locked = parse_pins(LOCK.read_text())
    installed = {canonical(d.metadata["Name"]): d.version for d in distributions()}
    wrong = {n: (v, installed[n]) for n, v in locked.items() if n in installed and base_version(installed[n]) != v}
    absent = [n for n in locked if n not in installed]
    extra = sorted(n for n in installed.keys() - locked.keys() if n not in ("pip", "setuptools", "wheel", "esm2-ab-clip"))
    if wrong:
        print(f"set-up: {LOCK.name} NOT applied: " + ", ".join(f"{n} {a} locked, {b} installed" for n, (a, b) in wrong.items()))
        return 1
    note = f"; {len(absent)} locked but not needed here" if absent else ""
    note += f"; not in the lock: {', '.join(extra)}" if extra else ""
    print(f"set-up: {LOCK.name} applied: {len(locked) - len(absent)} packages at their locked versions{note}")
    return 0

def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("what", choices=("write", "check", "diff"))
    ap.add_argument("--python", default=sys.executable, help="the environment's interpreter")
    a = ap.parse_args(argv)
    if a.what == "write": write(a.python)
    elif a.what == "check": return check()
    else:
        d = differences(parse_pins(LOCK.read_text()), freeze(a.python))
        for n, (lo, new) in d.items(): print(f"  {n}: {lo or '-'} (lock) -> {new or '-'}")
        print(json.dumps({"differs_from_lock": {n: {"lock": lo, "env": new} for n, (lo, new) in d.items()}}))
    return 0

if __name__ == "__main__": sys.exit(main())
