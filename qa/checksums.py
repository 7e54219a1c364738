"""A build's files on disk: their checksums, and making them durable before publishing."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path


def build_files(path: Path) -> list[str]:
    """Every file of a build but its manifest, as paths relative to the build, sorted."""
    return sorted(
        p.relative_to(path).as_posix()
        for p in path.rglob("*")
        if p.is_file() and p.name != "manifest.json"
    )


def checksums(path: Path) -> dict[str, str]:
    return {name: sha256(path / name) for name in build_files(path)}


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fsync_tree(root: Path) -> None:
    for path in root.rglob("*"):
        if path.is_file():
            fd = os.open(path, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
