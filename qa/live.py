"""The live build behind the faces: loaded on first use, switched to when a newer one is
published, and kept serving when a newer one fails to load."""

from __future__ import annotations

import logging
import threading

from qa import store
from qa.config import Settings
from qa.embedding import Encoder
from qa.engine import Engine
from qa.errors import QAError

logger = logging.getLogger(__name__)


class EngineHolder:
    """Load the live build lazily, once, and switch to a newly published build.

    A new build that fails to load (damaged, wrong model) is not switched to: the last good
    build keeps serving and ``problem`` says why. With no good build at all, the error is
    raised (the API answers 503 with it).
    """

    def __init__(self, settings: Settings, encoder: Encoder | None = None) -> None:
        self.settings = settings
        self._encoder = encoder
        self._engine: Engine | None = None
        self._refused: str | None = None  # a build id that failed to load
        self._refusal: str | None = None  # why
        self._refused_error: QAError | None = None
        self._pointer: str | None = None  # what is wrong with index/CURRENT, if anything
        self._lock = threading.Lock()

    @property
    def problem(self) -> str | None:
        """Why the build being served is not the published one (None when it is)."""
        return self._pointer or self._refusal

    def get(self) -> Engine:
        """Return the engine for the live build, loading or reloading it when needed.

        A ``CURRENT`` pointer that goes missing, empty or wrong while a build is loaded does not
        stop answers: the loaded build keeps serving and ``problem`` says why.
        """
        engine = self._engine
        try:
            live = store.live_build_id(self.settings.index_dir)
        except QAError as exc:
            if engine is None:
                raise
            if self._pointer != exc.message:
                logger.error("index pointer damaged, still serving: %s", exc.message)
            self._pointer = exc.message
            return engine
        self._pointer = None
        if engine is not None and live in (engine.index.manifest.build_id, self._refused):
            return engine
        if engine is None and live == self._refused and self._refused_error is not None:
            raise self._refused_error  # not read and verified again on every request
        with self._lock:
            engine = self._engine
            if engine is not None and live in (engine.index.manifest.build_id, self._refused):
                return engine
            if self._encoder is None:
                from qa.build_engines import default_encoder

                self._encoder = default_encoder(self.settings)
            try:
                index = store.open_index(self.settings.index_dir, self.settings.model_id)
            except QAError as exc:
                self._refused, self._refusal, self._refused_error = live, exc.message, exc
                if engine is None:
                    raise
                logger.error("not switching to build %s: %s", live, exc.message)
                return engine
            self._engine = engine = Engine(self.settings, index, self._encoder)
            self._refused = self._refusal = self._refused_error = None
        return engine
