"""What the tabs share: the app-wide context (read-only after start) and one visitor's session state."""

from __future__ import annotations

import functools
import threading
import html
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import ParamSpec, TypeVar

import gradio as gr

from shopsearch.catalog import Catalog
from shopsearch.config import Settings
from shopsearch.downloads import Downloads
from shopsearch.errors import UserError
from shopsearch.feedback import FeedbackLog
from shopsearch.evaluation import EvalQuery
from shopsearch.models import SHIPPED, ModelStore
from shopsearch.triplets import TripletSet
from shopsearch.ui import text

log = logging.getLogger("shopsearch.ui")
P = ParamSpec("P")
R = TypeVar("R")


@dataclass
class AppContext:
    settings: Settings
    store: ModelStore
    catalog: Catalog
    eval_queries: list[EvalQuery]
    downloads: Downloads = field(default_factory=Downloads)
    warming: threading.Thread | None = None  # start-up warm-up of the other shared models (ModelStore.warm)


@dataclass
class Visitor:
    """One browser session's state (held in gr.State, never shared)."""

    active: str = SHIPPED
    catalog: Catalog | None = None  # an uploaded catalog, for this session only
    feedback: FeedbackLog = field(default_factory=FeedbackLog)  # 👍/👎 marks and the triplets they make
    pending: TripletSet | None = None  # triplets generated or sent from search, waiting for a fine-tune

    def active_model(self, store: ModelStore, session: str | None) -> tuple[str, str | None]:
        """The model this session searches with, and a one-line notice when its run expired (it falls back)."""
        self.active, expired = store.usable(self.active, session)
        return self.active, (text.RUN_EXPIRED if expired else None)

    def catalog_or(self, shipped: Catalog) -> Catalog:
        return self.catalog or shipped


def session_id(request: gr.Request | None) -> str | None:
    return getattr(request, "session_hash", None)


def user_errors(handler: Callable[P, R]) -> Callable[P, R]:
    """Turn a domain `UserError` into a visible gr.Error (as text, not HTML); log anything else and show a generic message."""

    @functools.wraps(handler)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return handler(*args, **kwargs)
        except gr.Error:
            raise
        except UserError as err:
            # gr.Error renders its message as HTML; messages quote user text (ids, prices), so it is escaped here.
            raise gr.Error(html.escape(str(err), quote=False), print_exception=False) from None
        except Exception as err:
            log.exception("handler %s failed", handler.__name__)
            raise gr.Error(text.INTERNAL_ERROR, print_exception=False) from err

    return wrapper
