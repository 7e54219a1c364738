"""A non-editable install carries everything it needs: the wheel holds the chat page, and
`qa serve` from it, in a virtual environment that cannot see this checkout, serves the page."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import sysconfig
import time
import urllib.request
import zipfile
from pathlib import Path

import pytest
from conftest import REPO, SEED_DIR, _free_port

pytestmark = pytest.mark.model


def _build_wheel(tmp_path: Path) -> Path:
    """Build the wheel from a copy of the sources, so the checkout gets no build/ or egg-info."""
    src = tmp_path / "src"
    shutil.copytree(REPO / "qa", src / "qa", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, src / name)
    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q"]
        + ["-w", str(dist), str(src)],
        check=True,
        capture_output=True,
        text=True,
    )
    (wheel,) = dist.glob("releases_qa-*.whl")
    return wheel


def _venv_with(wheel: Path, tmp_path: Path) -> Path:
    """A fresh venv holding the wheel; the test environment's dependencies are visible to it
    through a .pth line (whose own .pth files, the editable install's among them, do not run)."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "-q"]
        + ["--target", purelib, str(wheel)],
        check=True,
        capture_output=True,
        text=True,
    )
    Path(purelib, "outer-site.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return python


def test_the_wheel_ships_the_page_and_serves_it(tmp_path: Path) -> None:
    wheel = _build_wheel(tmp_path)
    shipped = set(zipfile.ZipFile(wheel).namelist())
    page = {
        p.relative_to(REPO).as_posix() for p in (REPO / "qa" / "page").rglob("*") if p.is_file()
    }
    assert "qa/page/index.html" in page and page <= shipped
    # the fitted models answers are scored with
    fitted = {"qa/evidence.json", "qa/answer_types.json", "qa/joins.json", "qa/adapter.npz"}
    assert fitted <= shipped

    python = _venv_with(wheel, tmp_path)
    where = subprocess.run(
        [str(python), "-c", "import qa; print(qa.__file__)"],
        cwd=tmp_path,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    assert where.startswith(str(tmp_path / "venv")), where  # not this checkout

    port = _free_port()
    env = {
        **os.environ,
        "QA_CORPUS": str(SEED_DIR),
        "QA_INDEX_DIR": str(tmp_path / "index"),
        "QA_PORT": str(port),
        "QA_WORKERS": "1",
    }
    log = tmp_path / "serve.log"
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [str(python), "-m", "qa", "serve"], cwd=tmp_path, env=env, stdout=out, stderr=out
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 300
        while True:
            try:
                with urllib.request.urlopen(url + "/api/health", timeout=5):
                    break
            except OSError:
                assert proc.poll() is None and time.monotonic() < deadline, log.read_text()
                time.sleep(0.5)
        with urllib.request.urlopen(url + "/", timeout=10) as resp:
            html = resp.read().decode()
        assert resp.status == 200 and "<html" in html
        assets = re.findall(r'(?:src|href)="(/static/[^"]+)"', html)
        assert any(a.endswith(".js") for a in assets) and any(a.endswith(".css") for a in assets)
        for asset in assets:
            with urllib.request.urlopen(url + asset, timeout=10) as resp:
                assert resp.status == 200 and resp.read(), asset
                if asset.endswith(".js"):
                    assert "javascript" in resp.headers["Content-Type"], asset
    finally:
        proc.terminate()
        proc.wait(timeout=30)
