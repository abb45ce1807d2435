"""What the tabs share: the app-wide context (read-only after start) and one visitor's session state."""

from __future__ import annotations

import contextlib
import functools
import html
import inspect
import logging
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import ParamSpec, TypeVar

import gradio as gr

from shopsearch.common.config import Settings
from shopsearch.common.errors import UserError
from shopsearch.data.catalog import Catalog
from shopsearch.data.feedback import FeedbackLog
from shopsearch.data.triplets import TripletSet
from shopsearch.retrieval.evaluation import EvalQuery
from shopsearch.serving.downloads import Downloads
from shopsearch.serving.fairness import Budgets
from shopsearch.serving.janitor import Janitor
from shopsearch.serving.models import SHIPPED, ModelStore
from shopsearch.serving.session_store import SessionStore
from shopsearch.training.job import Finetuner, Limits, merge
from shopsearch.training.line import TrainingQueue
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
    uploads: SessionStore  # uploaded catalogs and waiting triplets, on disk; sessions hold only their keys
    downloads: Downloads  # inside gradio's cache folder, so a download is served from there, never copied
    training: TrainingQueue  # one fine-tune at a time, one place in line per session
    finetuner: Finetuner  # fine-tune jobs: the line above, the pace of recent runs, measured figures
    warming: threading.Thread | None = None  # start-up warm-up of the other shared models (ModelStore.warm)
    janitor: Janitor | None = None  # expires runs and keeps visitors' files under the disk budget, on a timer
    budgets: Budgets = field(default_factory=Budgets)  # each visitor's share, enforced at the door (app.launch_kwargs)

    @classmethod
    def create(
        cls,
        settings: Settings,
        store: ModelStore,
        catalog: Catalog,
        eval_queries: list[EvalQuery],
        warming: threading.Thread | None = None,
    ) -> AppContext:
        """The context with its session store, downloads folder (inside gradio's cache) and training queue."""
        line = TrainingQueue(settings.max_waiting_finetunes)
        limits = Limits(
            max_steps=settings.max_train_steps,
            max_seconds=settings.max_train_seconds,
            max_epochs=settings.max_epochs,
            max_chinese_steps=settings.max_chinese_steps,
        )
        return cls(
            settings=settings,
            store=store,
            catalog=catalog,
            eval_queries=eval_queries,
            uploads=SessionStore(settings.sessions_dir),
            downloads=Downloads(settings.gradio_cache_dir / "shopsearch-downloads"),
            training=line,
            finetuner=Finetuner(store, catalog, eval_queries, limits, line),
            warming=warming,
            budgets=Budgets(
                proxy_hops=settings.proxy_hops,
                max_queue=settings.max_queue,
                max_queued_per_visitor=settings.max_queued_per_visitor,
                max_queued_per_network=settings.max_queued_per_network,
                max_queued_per_session=settings.max_queued_per_session,
                max_finetunes=settings.max_waiting_finetunes + 1,
                max_finetunes_per_visitor=settings.max_finetunes_per_visitor,
                max_sessions_per_visitor=settings.max_sessions_per_visitor,
                max_uploads_per_visitor=settings.max_uploads_per_visitor,
                max_form_field_bytes=settings.max_form_field_bytes,
                max_files_per_request=settings.max_files_per_request,
                max_upload_bytes=max_request_mb(settings) * 2**20,
                gradio_cache=settings.gradio_cache_dir,
                max_feedback_triplets=settings.max_feedback_triplets,
                max_feedback_marks_per_visitor=settings.max_feedback_marks_per_visitor,
            ),
        )

    def visitor(self, request: gr.Request | None) -> str | None:
        """The visitor's address (what budgets and the disk's owners are keyed by), None outside a request."""
        scope = getattr(getattr(request, "request", None), "scope", None)
        return self.budgets.address(scope) if scope else None

    def catalog_of(self, state: Visitor) -> Catalog:
        """The catalog this session searches: its upload while it is stored, else the shipped catalog."""
        if state.catalog_key is None:
            return self.catalog
        catalog = self.uploads.get(state.catalog_key)
        if catalog is None:  # deleted by the janitor (age or disk budget): back to the shipped catalog, and say why
            log.info("a session's catalog %s is gone; using the shipped catalog", state.catalog_key[:6])
            state.notice = text.CATALOG_EVICTED if self.uploads.gone_reason(state.catalog_key) == "budget" else text.CATALOG_EXPIRED
            state.catalog_key = None
            return self.catalog
        return catalog

    def pending_of(self, state: Visitor) -> tuple[TripletSet | None, TripletSet | None]:
        """The triplets this session has waiting for a fine-tune: (from its file or generated, from its feedback)."""
        upload, feedback = self.uploads.get(state.pending_key), self.uploads.get(state.feedback_key)
        state.pending_key = state.pending_key if upload is not None else None
        state.feedback_key = state.feedback_key if feedback is not None else None
        return upload, feedback

    def pending_triplets(self, state: Visitor) -> TripletSet | None:
        """Everything waiting (file or generated, then feedback), each distinct triplet once; None when nothing is."""
        upload, feedback = self.pending_of(state)
        return merge(upload, feedback) if upload or feedback else None

    def set_pending(self, state: Visitor, triplets: TripletSet | None) -> None:
        """The session's file or generated triplets (None: cleared); its feedback stays."""
        state.pending_key = None if triplets is None else self.uploads.put(triplets)

    def set_feedback(self, state: Visitor, triplets: TripletSet | None) -> None:
        """The feedback triplets sent to Fine-tune (None: cleared); a file's stay."""
        state.feedback_key = None if not triplets else self.uploads.put(triplets)


@dataclass
class Visitor:
    """One browser session's state (held in gr.State, never shared). Small by design: gradio keeps up to 10,000
    sessions' state, so it holds ids and keys, never a catalog or a model."""

    active: str = SHIPPED
    catalog_key: str | None = None  # the session's uploaded catalog, a key into AppContext.uploads (never the catalog)
    feedback: FeedbackLog = field(default_factory=FeedbackLog)  # (+)/(−) marks and the triplets they make
    pending_key: str | None = None  # triplets uploaded or generated, waiting for a fine-tune (a key)
    feedback_key: str | None = None  # feedback triplets sent from search, waiting for a fine-tune (trained with the above)
    notice: str | None = None  # a one-time line for the next results (the session's catalog was deleted, and why)
    feedback_file: str | None = None  # the session's feedback download (replaced, not added to, by each mark)
    searches: int = 0  # searches this page started: one that ends after a newer one began is not drawn
    live: set[int] = field(default_factory=set)  # the recent ones that have not failed (a failed one draws nothing)
    drawn: int = 0  # the number of the search whose results the page last drew (each is drawn once)
    compared: int = 0  # the number of the search whose results the comparison last followed

    def start_search(self) -> int:
        """A ticket for a search starting now (gradio hands a session's events this same object)."""
        self.searches += 1
        self.live = {t for t in self.live if t > self.searches - 16} | {self.searches}  # a page runs ≤ 4 at once
        return self.searches

    def search_failed(self, ticket: int) -> None:
        """The search holding `ticket` failed (an empty query, a catalog that cannot load): it no longer hides an older
        search's results, which the page then draws."""
        self.live.discard(ticket)

    def is_latest(self, ticket: int) -> bool:
        """Whether no search of this page started after the one holding `ticket` and has not failed: two of a page can
        run at once (a price box left, then Enter in the other), and the older one may end last.

        Example: tickets 1 and 2 started -> is_latest(1) is False; once 2 failed, True."""
        return not any(t > ticket for t in self.live)

    def active_model(self, store: ModelStore, session: str | None) -> tuple[str, str | None]:
        """The model this session searches with, and a one-line notice when its run expired (it falls back)."""
        before = self.active
        self.active, expired = store.usable(self.active, session)
        if not expired:
            return self.active, None
        return self.active, (text.RUN_EVICTED if store.gone_reason(before) == "budget" else text.RUN_EXPIRED)


def max_request_mb(settings: Settings) -> int:
    """gradio's own cap on an uploaded file (its message is English-only), far above ours, so a 100 MB file still reaches
    the handlers and gets the bilingual "over the 5 MB limit" message; the door caps a whole upload request at it."""
    return max(128, 4 * settings.max_upload_mb)


def session_id(request: gr.Request | None) -> str | None:
    return getattr(request, "session_hash", None)


def user_errors(handler: Callable[P, R]) -> Callable[P, R]:
    """Turn a domain `UserError` into a visible gr.Error (as text, not HTML); log anything else and show a generic message.

    Works for streaming (generator) handlers too: an error raised between two updates ends the stream the same way.
    """

    @contextlib.contextmanager
    def translated() -> Iterator[None]:
        try:
            yield
        except gr.Error:
            raise
        except UserError as err:
            # gr.Error renders its message as HTML; messages quote user text (ids, prices), so it is escaped here.
            raise gr.Error(html.escape(str(err), quote=False), print_exception=False) from None
        except Exception as err:
            log.exception("handler %s failed", handler.__name__)
            raise gr.Error(text.INTERNAL_ERROR, print_exception=False) from err

    if inspect.isgeneratorfunction(handler):

        @functools.wraps(handler)
        def streaming(*args: P.args, **kwargs: P.kwargs) -> R:  # type: ignore[misc]  # R is the handler's own generator type
            with translated():
                yield from handler(*args, **kwargs)

        return streaming

    @functools.wraps(handler)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with translated():
            return handler(*args, **kwargs)

    return wrapper


def bounded_slider(*args: object, **kwargs: object) -> gr.Slider:
    """A gr.Slider whose value typed past either end is taken as that end.

    gradio's own slider refuses such a value with an English-only "Value 500 is greater than maximum value 50." (and a
    traceback in the log) while the box keeps the number; the nearest end is what the visitor meant. An emptied box
    counts as the slider's initial value. The slider's `preprocess` is wrapped on the instance: a subclass of a gradio
    component makes gradio write a .pyi stub beside this module at import. Do not make it a listener's output: an update
    makes gradio rebuild it for that session as a plain gr.Slider, without the wrapper.
    Example: top-k typed as 500 on a 1–50 slider searches for 50.
    """
    slider = gr.Slider(*args, **kwargs)  # type: ignore[arg-type]  # the caller's arguments are gr.Slider's own
    checked = slider.preprocess

    def preprocess(payload: float | None) -> float:
        if payload is None:
            payload = slider.value
        if isinstance(payload, int | float) and payload == payload:  # NaN passes on, to be refused where it is used
            payload = min(max(payload, slider.minimum), slider.maximum)
        return checked(payload)

    slider.preprocess = preprocess  # type: ignore[method-assign]  # this instance only
    return slider
