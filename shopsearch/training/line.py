"""TrainingQueue: one fine-tune trains at a time; each client may hold one place; the line has a length limit.

Gradio's own queue cannot tell who is waiting, so a script could stack fine-tunes behind one another for hours. This
queue is first come, first served, and refuses at the door (with a bilingual message, at once) a client that
already has a fine-tune waiting or running, or any client when the line is full.
"""

from __future__ import annotations

import threading

from shopsearch.common.errors import UserError


class Ticket:
    """A place in the line. `wait()` until it is this ticket's turn to train; `leave()` in every case."""

    def __init__(self, queue: TrainingQueue, client: str) -> None:
        self._queue = queue
        self.client = client

    @property
    def position(self) -> int:
        """0 when training (or allowed to), else how many fine-tunes are ahead. -1 once it has left."""
        return self._queue._position(self)

    def wait(self, timeout: float) -> bool:
        """Block up to `timeout` seconds for this ticket's turn; True when it may train."""
        return self._queue._wait(self, timeout)

    def leave(self) -> None:
        self._queue._leave(self)

    def __enter__(self) -> Ticket:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.leave()


class TrainingQueue:
    def __init__(self, max_waiting: int) -> None:
        self.max_waiting = max_waiting
        self._line: list[Ticket] = []  # the first one trains
        self._turn = threading.Condition()

    def enter(self, client: str) -> Ticket:
        """A place at the end of the line for `client`.

        Raises:
            UserError: the client already has a fine-tune waiting or running, or `max_waiting` others are waiting.
        """
        with self._turn:
            if any(t.client == client for t in self._line):
                raise UserError(
                    "你已经有一个微调在运行或排队，请等它结束（或先停止它）。",
                    "You already have a fine-tune running or waiting; wait for it to finish (or stop it) first.",
                )
            if len(self._line) > self.max_waiting:
                raise UserError(
                    f"已有 {len(self._line) - 1} 个微调在排队，请稍后再试。",
                    f"{len(self._line) - 1} fine-tunes are already waiting; please try again later.",
                )
            ticket = Ticket(self, client)
            self._line.append(ticket)
            return ticket

    def _position(self, ticket: Ticket) -> int:
        with self._turn:
            return self._line.index(ticket) if ticket in self._line else -1

    def _wait(self, ticket: Ticket, timeout: float) -> bool:
        with self._turn:
            return self._turn.wait_for(lambda: bool(self._line) and self._line[0] is ticket, timeout)

    def _leave(self, ticket: Ticket) -> None:
        with self._turn:
            if ticket in self._line:
                self._line.remove(ticket)
                self._turn.notify_all()

    @property
    def busy(self) -> bool:
        """Whether a fine-tune is training (or about to): someone holds the first place in line."""
        with self._turn:
            return bool(self._line)

    @property
    def waiting(self) -> int:
        with self._turn:
            return max(0, len(self._line) - 1)
