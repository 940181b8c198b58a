"""`esm2-ab-clip fetch` and a first `run` on an empty data directory, without internet: a local HTTP server on 127.0.0.1
stands in for SAbDab, GitHub and fair-esm (through `$ESM2_AB_CLIP_MIRROR`). It serves a SAbDab-like archive built from
shared-data structures, the real 14H/14L CSVs (so the pinned git blob ids are checked for real) and a tiny ESM-IF1
checkpoint; the failure cases are a connection cut mid-file, a wrong file, a 404 and no network at all."""
import gzip, io, json, os, socket, sys, threading, time, zipfile
from http.server import ThreadingHTTPServer, BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import urlsplit
import pandas as pd
import pytest
from conftest import needs_data, SHARED
from test_cli import cli

def served_path(url: str) -> str: return "/" + urlsplit(url).netloc + urlsplit(url).path

class Server:
    "A local stand-in for the internet: files by path, HEAD, Range requests, a connection cut once mid-file, 404 otherwise."
    def __init__(self, files: dict):
        self.files, self.cut, self.log = dict(files), {}, []
        srv = self
        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a): pass
            def _head(self, body, start):
                self.send_response(206 if start else 200)
                if start: self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
                self.send_header("Content-Length", str(len(body) - start)); self.end_headers()
            def do_HEAD(self):
                body = srv.files.get(self.path)
                if body is None: self.send_error(404); return
                self._head(body, 0)
            def do_GET(self):
                srv.log.append((self.path, self.headers.get("Range")))
                body = srv.files.get(self.path)
                if body is None: self.send_error(404); return
                start = int(self.headers["Range"].split("=")[1].rstrip("-")) if self.headers.get("Range") else 0
                self._head(body, start)
                n = srv.cut.pop(self.path, None)
                self.wfile.write(body[start:start + n] if n is not None else body[start:])
                if n is not None: self.close_connection = True
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.httpd.server_port}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
    def close(self): self.httpd.shutdown(); self.httpd.server_close()

def sabdab_archive(n: int, seed: int=42) -> tuple[bytes, bytes]:
    "A SAbDab-like zip (`all_structures/chothia/{pdb}.pdb`, plus `imgt/` copies that must be ignored) and its summary TSV, from n shared-data structures."
    from esm2_ab_clip.sabdab import read_pdb_header
    idx = pd.read_csv(SHARED/"antibody_structures"/"structures_index.tsv", sep="\t", dtype=str, keep_default_na=False)
    idx = idx.drop_duplicates("pdb").sample(n=n, random_state=seed).sort_index()
    rows, buf = [], io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for r in idx.itertuples():
            text = gzip.decompress((SHARED/r.file).read_bytes())
            z.writestr(f"all_structures/chothia/{r.pdb}.pdb", text); z.writestr(f"all_structures/imgt/{r.pdb}.pdb", text)
            h = read_pdb_header(SHARED/r.file)
            rows.append({"pdb": r.pdb, "Hchain": r.H_chain, "Lchain": r.L_chain or "NA", "model": 0, "antigen_chain": "NA",
                         "antigen_type": "NA", "resolution": r.resolution_A, "method": h["method"] or "X-RAY DIFFRACTION",
                         "heavy_species": h["species"] or "NA", "light_species": h["species"] if r.L_chain else "NA"})
    return buf.getvalue(), pd.DataFrame(rows).to_csv(sep="\t", index=False).encode()

def internet(n_structures: int=3) -> dict:
    "Path -> bytes for every source of the default set-up, as the real hosts would serve them."
    from esm2_ab_clip.fetch import SOURCES
    archive, summary = sabdab_archive(n_structures)
    files = {}
    for s in SOURCES:
        if s.kind == "sabdab-archive": files[served_path(s.url)] = archive
        elif s.name == "SAbDab summary": files[served_path(s.url)] = summary
        elif "default" in s.setups: files[served_path(s.url)] = (SHARED/s.dest).read_bytes()
    return files

@pytest.fixture
def env(tmp_path):
    "Environment of a fresh machine: an empty data directory, its own output folder; the caller adds the mirror."
    return {**os.environ, "ESM2_AB_CLIP_DATA": str(tmp_path/"data"), "ESM2_AB_CLIP_OUT": str(tmp_path/"out")}

def source(name):
    from esm2_ab_clip.fetch import SOURCES
    return next(s for s in SOURCES if s.name == name)

def check_first_fetch(stdout: str, data: Path, out: Path) -> None:
    "What a first run on an empty data directory must have done (called by tests/test_cli.py's quick run end to end)."
    assert "lacks SAbDab summary, SAbDab Chothia structures, 14H valid" in stdout and "downloading 7 item(s)" in stdout
    assert "SAbDab Chothia structures: 60 structures" in stdout, stdout[:3000]
    man = json.loads((data/"fetch_manifest.json").read_text())
    assert len(man["items"]) == 7 and {v["source"] for v in man["items"].values()} == {"downloaded"}
    from esm2_ab_clip.core import file_sha256
    csv = source("14H valid")
    assert man["items"]["14H valid"]["sha256"] == file_sha256(SHARED/csv.dest) and (data/csv.dest).read_bytes() == (SHARED/csv.dest).read_bytes()
    assert len(list((data/"sabdab"/"all_structures"/"chothia").glob("*.pdb"))) == 60
    assert not list((out/"downloads").glob("*.part")), "partial files left behind"
    assert "ingest: 60 structures from " + str(data) in stdout       # the ingest read the fetched SAbDab layout

@needs_data
def test_interrupted_fetch_resumes_and_a_damaged_file_is_fetched_again(tmp_path, env):
    files = internet(3)
    srv = Server(files); path = served_path(source("14H valid").url)
    srv.cut[path] = 300_000              # the server closes the connection after 300 kB of this file, once
    e = {**env, "ESM2_AB_CLIP_MIRROR": srv.base}
    try:
        r = cli("fetch", "--retries", "1", "--no_progress", env=e, check=False)
        assert r.returncode == 1 and "1 of 7 item(s) could not be downloaded" in r.stderr and "14H/14H_valid.csv" in r.stderr
        assert "the connection closed after 300000 of 1094897 bytes" in r.stderr and "is kept and the next fetch resumes it" in r.stderr
        part = tmp_path/"out"/"downloads"/(source("14H valid").dest.replace("/", "__") + ".part")
        assert part.stat().st_size == 300_000 and not (tmp_path/"data"/source("14H valid").dest).exists()
        r = cli("fetch", "--no_progress", env=e)
        assert "14H valid: resuming the partial download" in r.stdout and "at byte 300000" in r.stdout
        assert (path, "bytes=300000-") in srv.log, srv.log     # resumed: asked only for the rest
        dest = tmp_path/"data"/source("14H valid").dest
        assert dest.read_bytes() == files[path] and not part.exists()
        # a file damaged after the fetch is noticed (pinned git blob) and fetched again
        other = tmp_path/"data"/source("14L test").dest
        other.write_bytes(other.read_bytes()[:-10])
        r = cli("fetch", "--no_progress", env=e)
        assert "git blob" in r.stdout and "fetching it again" in r.stdout and other.read_bytes() == (SHARED/source("14L test").dest).read_bytes()
    finally: srv.close()

@needs_data
def test_wrong_file_and_404_are_refused_naming_the_url(tmp_path, env):
    files = internet(3)
    bad = served_path(source("14L valid").url)
    files[bad] = files[bad].replace(b"MIT_Target", b"MIT_Targex", 1)      # one byte off: not the pinned commit's file
    del files[served_path(source("AbBiBench 14H").url)]                   # and one URL that does not exist
    srv = Server(files)
    try: r = cli("fetch", "--no_progress", env={**env, "ESM2_AB_CLIP_MIRROR": srv.base}, check=False)
    finally: srv.close()
    assert r.returncode == 1 and "2 of 7 item(s) could not be downloaded" in r.stderr, r.stderr
    assert f"{source('14L valid').url} (via {srv.base}{bad}): the downloaded file's git blob is" in r.stderr
    assert "the pinned commit's is a936d9bddc6e54ac92167c54f5f6808bcbe7f367" in r.stderr
    assert f"{source('AbBiBench 14H').url} (via {srv.base}" in r.stderr and "HTTP 404" in r.stderr
    assert not (tmp_path/"data"/source("14L valid").dest).exists()          # the wrong file never reached the data directory
    assert (tmp_path/"data"/source("14H valid").dest).exists()              # the others did
    assert f"download {source('AbBiBench 14H').url} to {tmp_path/'data'}" in r.stderr   # and what to do by hand

def test_no_network_lists_what_is_missing_and_where(tmp_path, env):
    s = socket.socket(); s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]; s.close()   # nothing listens there
    t0 = time.time()
    r = cli("fetch", env={**env, "ESM2_AB_CLIP_MIRROR": f"http://127.0.0.1:{port}"}, check=False)
    assert r.returncode == 1 and time.time() - t0 < 60
    assert "cannot reach 127.0.0.1" in r.stderr and "no network?" in r.stderr and "needs 7 item(s)" in r.stderr, r.stderr
    for name in ("SAbDab summary", "SAbDab Chothia structures", "14H valid", "14H test", "14L valid", "14L test", "AbBiBench 14H"):
        assert f"- {name}: " in r.stderr
    assert f"to {tmp_path/'data'/source('14H test').dest}" in r.stderr
    assert not (tmp_path/"data").exists()                   # nothing was created

def test_a_folder_of_other_files_is_not_written_into(tmp_path, env):
    (tmp_path/"data").mkdir(); (tmp_path/"data"/"my_notes.txt").write_text("mine")
    r = cli("fetch", env=env, check=False)      # refused before any network access
    assert r.returncode == 1 and "holds files fetch did not put there (my_notes.txt)" in r.stderr and "--into_existing" in r.stderr
    assert sorted(p.name for p in (tmp_path/"data").iterdir()) == ["my_notes.txt"]

@needs_data
def test_offline_copy_is_used_as_it_is(tmp_path, env):
    r = cli("fetch", env={**env, "ESM2_AB_CLIP_DATA": str(SHARED)})
    assert "nothing to download" in r.stdout
    man = json.loads((tmp_path/"out"/"fetch_manifest.json").read_text())   # the manifest goes to the output folder, not the data
    assert {v["source"] for v in man["items"].values()} == {"present before fetch"}
    assert man["items"]["SAbDab summary"]["path"].endswith("structures_index.tsv")
    assert not (SHARED/"fetch_manifest.json").exists()

def test_esmif1_checkpoint_is_fetched_into_the_torch_hub_cache_and_loads(tmp_path, env, monkeypatch):
    import torch
    from esm2_ab_clip.structure import load_esmif1, esmif1_args
    from esm2_ab_clip.locations import ESMIF1_NAME
    from esm2_ab_clip.fetch import fetch
    model, _, _ = load_esmif1(random_init="tiny")
    buf = io.BytesIO(); torch.save({"args": esmif1_args(tiny=True), "model": model.state_dict()}, buf)
    srv = Server({served_path(source("ESM-IF1 weights").url): buf.getvalue()})
    monkeypatch.setenv("ESM2_AB_CLIP_MIRROR", srv.base); monkeypatch.setenv("ESM2_AB_CLIP_OUT", str(tmp_path/"out"))
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path/"hub"))
    try: man = fetch("paper", tmp_path/"data", only=("ESM-IF1 weights",), progress=False, say=lambda m: None)
    finally: srv.close()
    ck = tmp_path/"hub"/"checkpoints"/f"{ESMIF1_NAME}.pt"
    assert man["items"]["ESM-IF1 weights"]["path"] == str(ck) and man["items"]["ESM-IF1 weights"]["bytes"] == len(buf.getvalue())
    loaded, _, path = load_esmif1()                       # the default location: what a --paper run loads
    same = {k: torch.equal(v, loaded.state_dict()[k]) or torch.allclose(v, loaded.state_dict()[k], equal_nan=True)
            for k, v in model.state_dict().items()}
    assert path == ck and all(same.values()), [k for k, v in same.items() if not v]
    assert {p.name for p in (tmp_path/"data").iterdir()} <= {"fetch_manifest.json"}   # a model never goes into the data directory

@needs_data
def test_benchmark_files_are_fetched_pinned(tmp_path, env):
    "`fetch --benchmark`: the registry's assay CSVs and AbBiBench model files, each checked against its pinned git blob."
    from esm2_ab_clip.benchmark import read_registry, registry_sources
    srcs = registry_sources(read_registry())
    files = {**internet(3), **{served_path(s.url): (SHARED/s.dest).read_bytes() for s in srcs}}
    bad = next(s for s in srcs if s.name == "1n8z FoldX")
    files[served_path(bad.url)] = files[served_path(bad.url)].replace(b",", b";", 1)   # not the pinned commit's file
    srv = Server(files)
    try: r = cli("fetch", "--benchmark", "--no_progress", env={**env, "ESM2_AB_CLIP_MIRROR": srv.base}, check=False)
    finally: srv.close()
    # 14H/14L test and the AbBiBench 14H file came with the default set-up just before: 24 left to download
    assert r.returncode == 1 and f"1 of {len(srcs) - 3} item(s) could not be downloaded" in r.stderr, r.stderr
    assert "1n8z_benchmarking_data_FoldX_scores.csv" in r.stderr and "git blob" in r.stderr
    assert not (tmp_path/"data"/bad.dest).exists()
    landed = [s for s in srcs if s is not bad]
    assert all((tmp_path/"data"/s.dest).read_bytes() == (SHARED/s.dest).read_bytes() for s in landed)
