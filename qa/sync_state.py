"""What a sync remembers between runs, in ``<corpus>/.sync-state.json`` (written atomically,
like the releases): each item's address -> its release, content hash, validators for
conditional requests and its last failure; each release sync wrote -> its address, content
hash and the item it belongs to. A state file of another version is refused, not guessed at."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from qa.corpus import Release
from qa.errors import CorpusError
from qa.exports import write_atomically

STATE_FILE = ".sync-state.json"
STATE_VERSION = 1


@dataclass
class ItemState:
    """What the last sync learnt about one item."""

    feed: str
    release: str | None = None
    hash: str | None = None
    duplicate_of: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    error: str | None = None
    failures: int = 0
    checked: str = ""


@dataclass
class ReleaseState:
    """A release that sync wrote, and the item it belongs to."""

    url: str | None
    hash: str
    item: str


@dataclass
class SyncState:
    """The items and releases seen so far, read from and written to the state file."""

    items: dict[str, ItemState] = field(default_factory=dict)
    releases: dict[str, ReleaseState] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> SyncState:
        """Read the state file (an empty state when there is none)."""
        if not path.exists():
            return cls()
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if data.get("version") != STATE_VERSION:
                raise ValueError(f"version {data.get('version')!r}, expected {STATE_VERSION}")
            return cls(
                items={k: ItemState(**v) for k, v in data["items"].items()},
                releases={k: ReleaseState(**v) for k, v in data["releases"].items()},
            )
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise CorpusError(
                f"{path} is not a sync state file this version can read ({exc}): move it away "
                "and run `qa sync` again (known pages are then fetched once more)"
            ) from None

    def save(self, path: Path) -> None:
        """Write the state file atomically."""
        data = {
            "version": STATE_VERSION,
            "items": {k: asdict(v) for k, v in sorted(self.items.items())},
            "releases": {k: asdict(v) for k, v in sorted(self.releases.items())},
        }
        write_atomically(path, json.dumps(data, indent=1, ensure_ascii=False) + "\n")

    def release_with_hash(self, digest: str) -> str | None:
        """Return the id of a synced release with this content hash, if any."""
        return next((rid for rid, r in self.releases.items() if r.hash == digest), None)


def content_hash(release: Release) -> str:
    """Return a hash of what a release says (title and text), whatever its address."""
    return hashlib.sha256(f"{release.title}\n{release.text}".encode()).hexdigest()[:32]
