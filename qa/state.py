"""User state that outlives builds: watched questions and kept answers, in one SQLite file.

It lives in a folder of its own (``QA_STATE_DIR``, by default ``state/`` beside ``index/``):
a rebuild replaces builds, never this. The schema moves forward by numbered migrations
(``PRAGMA user_version``). Every write is one transaction, so a killed process loses nothing
that was written, and readers (the server's workers) see each change whole.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from qa.errors import BadRequest, NotFound

FILE = "state.sqlite"
# Each entry moves the schema from version n to n + 1; never edit one that has shipped.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE watches (
        id TEXT PRIMARY KEY,
        question TEXT NOT NULL,
        filters TEXT NOT NULL,
        created_at TEXT NOT NULL,
        webhook_url TEXT,
        webhook_secret TEXT,
        seen_upto INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE watch_answers (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        watch_id TEXT NOT NULL REFERENCES watches (id) ON DELETE CASCADE,
        build_id TEXT NOT NULL,
        at TEXT NOT NULL,
        kind TEXT NOT NULL,
        signature TEXT NOT NULL,
        answer TEXT NOT NULL
    );
    CREATE INDEX watch_answers_of ON watch_answers (watch_id, id);
    CREATE TABLE answers (
        id TEXT PRIMARY KEY,
        created_at TEXT NOT NULL,
        build_id TEXT NOT NULL,
        question TEXT NOT NULL,
        history TEXT NOT NULL,
        filters TEXT NOT NULL,
        answer TEXT NOT NULL,
        markdown TEXT NOT NULL
    );
    """,
    """
    CREATE TABLE deliveries (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        watch_answer_id INTEGER NOT NULL REFERENCES watch_answers (id) ON DELETE CASCADE,
        url TEXT NOT NULL,
        at TEXT NOT NULL,
        attempts INTEGER NOT NULL,
        status TEXT NOT NULL
    );
    """,
)
MAX_WATCHES = 1000


def now() -> str:
    """The time as stored: UTC, ISO 8601, seconds."""
    return datetime.now(UTC).isoformat(timespec="seconds")


class State:
    """Watches and kept answers in ``folder/state.sqlite`` (created and migrated on first use)."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / FILE
        self._ready = False

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        if not self._ready:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        con = sqlite3.connect(self.path, timeout=30)
        try:
            con.row_factory = sqlite3.Row
            con.execute("PRAGMA foreign_keys = ON")
            if not self._ready:
                con.execute("PRAGMA journal_mode = WAL")
                self._migrate(con)
                self._ready = True
            with con:  # one transaction: committed whole or not at all
                yield con
        finally:
            con.close()

    @staticmethod
    def _migrate(con: sqlite3.Connection) -> None:
        version = con.execute("PRAGMA user_version").fetchone()[0]
        if version > len(MIGRATIONS):
            raise RuntimeError(
                f"the state database is version {version}, this version of qa knows "
                f"{len(MIGRATIONS)}: upgrade qa"
            )
        for n in range(version, len(MIGRATIONS)):
            with con:
                con.executescript(f"BEGIN; {MIGRATIONS[n]}; PRAGMA user_version = {n + 1}; COMMIT;")

    @property
    def version(self) -> int:
        """The schema version of the database."""
        with self._db() as con:
            return int(con.execute("PRAGMA user_version").fetchone()[0])

    # --- watches ---------------------------------------------------------------------------

    def add_watch(
        self, question: str, filters: dict[str, Any], webhook_url: str | None = None
    ) -> dict[str, Any]:
        """Add a watched question; a webhook URL must be http(s) and gets a signing secret."""
        question = " ".join(question.split())
        if not question:
            raise BadRequest("a watch needs a question")
        if webhook_url is not None:
            parts = urlsplit(webhook_url)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise BadRequest(f"the webhook must be an http(s) URL, not {webhook_url!r}")
        watch_id = secrets.token_urlsafe(9)
        with self._db() as con:
            if con.execute("SELECT COUNT(*) FROM watches").fetchone()[0] >= MAX_WATCHES:
                raise BadRequest(f"there are already {MAX_WATCHES} watches; remove some first")
            con.execute(
                "INSERT INTO watches (id, question, filters, created_at, webhook_url, "
                "webhook_secret) VALUES (?, ?, ?, ?, ?, ?)",
                (
                    watch_id,
                    question,
                    json.dumps(filters),
                    now(),
                    webhook_url,
                    secrets.token_hex(32) if webhook_url else None,
                ),
            )
        return self.watch(watch_id, secrets_too=True)

    def watches(self) -> list[dict[str, Any]]:
        """Every watch, oldest first, with its last answer and its unseen changes."""
        with self._db() as con:
            ids = [r[0] for r in con.execute("SELECT id FROM watches ORDER BY created_at, id")]
        return [self.watch(i) for i in ids]

    def watch(self, watch_id: str, secrets_too: bool = False) -> dict[str, Any]:
        """One watch as the API shows it; ``NotFound`` if there is none with this id."""
        with self._db() as con:
            row = con.execute("SELECT * FROM watches WHERE id = ?", (watch_id,)).fetchone()
            if row is None:
                raise NotFound(f"no watch with id {watch_id!r}")
            last = con.execute(
                "SELECT * FROM watch_answers WHERE watch_id = ? ORDER BY id DESC LIMIT 1",
                (watch_id,),
            ).fetchone()
            changes, unseen = con.execute(
                "SELECT COUNT(*), COALESCE(SUM(id > ?), 0) FROM watch_answers "
                "WHERE watch_id = ? AND kind = 'changed'",
                (row["seen_upto"], watch_id),
            ).fetchone()
        watch: dict[str, Any] = {
            "id": row["id"],
            "question": row["question"],
            "filters": json.loads(row["filters"]),
            "created_at": row["created_at"],
            "webhook": row["webhook_url"],
            "changes": changes,
            "unseen": unseen,
            "last": None,
        }
        if last is not None:
            answer = json.loads(last["answer"])
            watch["last"] = {
                "at": last["at"],
                "build_id": last["build_id"],
                "text": answer.get("answer", ""),
                "abstained": bool(answer.get("abstained")),
            }
        if secrets_too:
            watch["webhook_secret"] = row["webhook_secret"]
        return watch

    def history(self, watch_id: str) -> list[dict[str, Any]]:
        """The answers a watch was given, oldest first: the first, then each change."""
        self.watch(watch_id)  # NotFound
        with self._db() as con:
            rows = con.execute(
                "SELECT * FROM watch_answers WHERE watch_id = ? ORDER BY id", (watch_id,)
            ).fetchall()
        return [
            {
                "at": r["at"],
                "build_id": r["build_id"],
                "kind": r["kind"],
                "answer": json.loads(r["answer"]),
            }
            for r in rows
        ]

    def remove_watch(self, watch_id: str) -> None:
        """Remove a watch and its history; ``NotFound`` if there is none with this id."""
        with self._db() as con:
            if not con.execute("DELETE FROM watches WHERE id = ?", (watch_id,)).rowcount:
                raise NotFound(f"no watch with id {watch_id!r}")

    def mark_seen(self, watch_id: str) -> None:
        """Mark every change of a watch so far as seen."""
        with self._db() as con:
            top = con.execute(
                "SELECT COALESCE(MAX(id), 0) FROM watch_answers WHERE watch_id = ?", (watch_id,)
            ).fetchone()[0]
            if not con.execute(
                "UPDATE watches SET seen_upto = ? WHERE id = ?", (top, watch_id)
            ).rowcount:
                raise NotFound(f"no watch with id {watch_id!r}")

    def record(self, watch_id: str, build_id: str, reply: dict[str, Any]) -> dict[str, Any] | None:
        """Record a watch's answer on a build; return the entry if it is new (the first answer
        or a change: another sentence, a newly cited release, an answer after an abstention),
        None when it says what the last one said."""
        signature = answer_signature(reply)
        with self._db() as con:
            last = con.execute(
                "SELECT signature FROM watch_answers WHERE watch_id = ? ORDER BY id DESC LIMIT 1",
                (watch_id,),
            ).fetchone()
            if last is not None and last[0] == signature:
                return None
            kind = "first" if last is None else "changed"
            at = now()
            cursor = con.execute(
                "INSERT INTO watch_answers (watch_id, build_id, at, kind, signature, answer) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (watch_id, build_id, at, kind, signature, json.dumps(reply, ensure_ascii=False)),
            )
        return {"id": cursor.lastrowid, "at": at, "build_id": build_id, "kind": kind}

    def previous_answer(self, watch_id: str, before: int) -> dict[str, Any] | None:
        """The answer a watch had before entry ``before``."""
        with self._db() as con:
            row = con.execute(
                "SELECT answer FROM watch_answers WHERE watch_id = ? AND id < ? "
                "ORDER BY id DESC LIMIT 1",
                (watch_id, before),
            ).fetchone()
        return json.loads(row[0]) if row else None

    def webhook(self, watch_id: str) -> tuple[str, str] | None:
        """A watch's webhook URL and secret, if it has one."""
        with self._db() as con:
            row = con.execute(
                "SELECT webhook_url, webhook_secret FROM watches WHERE id = ?", (watch_id,)
            ).fetchone()
        return (row[0], row[1]) if row and row[0] else None

    def log_delivery(self, entry_id: int, url: str, attempts: int, status: str) -> None:
        """Record how a webhook delivery went."""
        with self._db() as con:
            con.execute(
                "INSERT INTO deliveries (watch_answer_id, url, at, attempts, status) "
                "VALUES (?, ?, ?, ?, ?)",
                (entry_id, url, now(), attempts, status),
            )

    def changes(self, limit: int = 100) -> list[dict[str, Any]]:
        """The latest changes of every watch, newest first (what the Atom feed shows)."""
        with self._db() as con:
            rows = con.execute(
                "SELECT a.id, a.watch_id, a.build_id, a.at, a.answer, w.question "
                "FROM watch_answers a JOIN watches w ON w.id = a.watch_id "
                "WHERE a.kind = 'changed' ORDER BY a.id DESC LIMIT ?",
                (limit,),
            ).fetchall()
        return [
            {
                "id": r["id"],
                "watch_id": r["watch_id"],
                "build_id": r["build_id"],
                "at": r["at"],
                "question": r["question"],
                "answer": json.loads(r["answer"]),
            }
            for r in rows
        ]

    # --- kept answers ----------------------------------------------------------------------

    def keep_answer(
        self,
        question: str,
        history: Sequence[dict[str, str]],
        filters: dict[str, Any],
        build_id: str,
        reply: dict[str, Any],
    ) -> dict[str, Any]:
        """Keep an answer as given, with everything needed to show it again after any rebuild;
        return it with its unguessable id."""
        answer_id = secrets.token_urlsafe(16)
        markdown = answer_markdown(reply)
        with self._db() as con:
            con.execute(
                "INSERT INTO answers VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    answer_id,
                    now(),
                    build_id,
                    question,
                    json.dumps(list(history), ensure_ascii=False),
                    json.dumps(filters),
                    json.dumps(reply, ensure_ascii=False),
                    markdown,
                ),
            )
        return self.answer(answer_id)

    def answer(self, answer_id: str) -> dict[str, Any]:
        """A kept answer; ``NotFound`` if there is none with this id."""
        with self._db() as con:
            row = con.execute("SELECT * FROM answers WHERE id = ?", (answer_id,)).fetchone()
        if row is None:
            raise NotFound(f"no kept answer with id {answer_id!r}")
        return {
            "answer_id": row["id"],
            "permalink": f"/a/{row['id']}",
            "created_at": row["created_at"],
            "build_id": row["build_id"],
            "question": row["question"],
            "history": json.loads(row["history"]),
            "filters": json.loads(row["filters"]),
            "answer": json.loads(row["answer"]),
            "markdown": row["markdown"],
        }


def answer_signature(reply: dict[str, Any]) -> str:
    """What makes two answers the same for a watch: abstained or not, the sentences quoted,
    the releases cited."""
    return json.dumps(
        [
            bool(reply.get("abstained")),
            [s["text"] for s in reply.get("sentences", [])],
            sorted(s["release_id"] for s in reply.get("sources", [])),
        ],
        ensure_ascii=False,
    )


def answer_markdown(reply: dict[str, Any]) -> str:
    """An answer in Markdown: the question, the answer with footnote citations, and one
    footnote per source with its title, date, URL and the quoted passage."""
    lines = [f"**Q:** {_md(reply['question'])}", ""]
    sentences = reply.get("sentences") or []
    if not sentences:
        lines.append(_md(reply.get("message") or reply.get("answer") or ""))
    else:
        paragraph: list[str] = []
        for s in sentences:
            marks = "".join(f"[^{n}]" for n in s["citations"])
            text = f"{_md(s['text'])} {marks}".rstrip()
            if s["kind"] == "bullet":
                if paragraph:
                    lines += [" ".join(paragraph), ""]
                    paragraph = []
                lines.append(f"- {text}")
            else:
                if lines[-1].startswith("- "):
                    lines.append("")
                paragraph.append(text)
        if paragraph:
            lines.append(" ".join(paragraph))
    sources = reply.get("sources") or []
    if sources:
        lines.append("")
        for s in sources:
            where = f", {s['url']}" if s.get("url") else ""
            lines.append(f"[^{s['n']}]: {_md(s['title'])} ({s.get('date') or 'undated'}){where}")
            for passage_line in (s.get("passage") or "").splitlines():
                if passage_line.strip():
                    lines.append(f"    > {_md(passage_line.strip())}")
    return "\n".join(lines) + "\n"


def _md(text: str) -> str:
    """Text as Markdown shows it, not as HTML a renderer would run."""
    return text.replace("&", "&amp;").replace("<", "&lt;")
