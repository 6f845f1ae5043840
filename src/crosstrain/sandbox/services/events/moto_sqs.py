"""moto's SQS as the sandbox needs it: on the sandbox clock, linear, and not polling for Lambda.

- Message timestamps, visibility and delays read the sandbox clock, so advancing it expires
  visibility timeouts (a failed batch comes back, redrive happens) without waiting.
- moto's own synchronous event-source polling (which sends SQS batches to Lambda through Docker
  and would steal the messages) sees no mappings; crosstrain's poller serves them.
- Receiving and deleting are linear in the queue's length (moto rebuilt every queue attribute
  per received message and the whole queue per deleted one), with the same answers.
"""

from __future__ import annotations

import threading
from time import time as _time

_CLOCK: dict = {}  # "clock" -> the sandbox clock
_installed = False
_lock = threading.Lock()


def install(clock) -> None:
    global _installed
    _CLOCK["clock"] = clock
    with _lock:
        if not _installed:
            _installed = True
            _patch()


class _Inert(dict):
    """Holds moto's SQS event-source mappings but shows none to moto's synchronous poller."""

    def items(self):
        return []

    def __reduce__(self):
        return (_Inert, (dict(self),))


def _patch() -> None:
    from moto.sqs import models

    def get(self):
        return self.__dict__.setdefault("_crosstrain_esms", _Inert())

    def set_(self, value):
        self.__dict__["_crosstrain_esms"] = _Inert(value or {})

    models.Queue.lambda_event_source_mappings = property(get, set_)

    def valid(self, queue_name, message):
        # moto builds every queue attribute (counting all messages) per message received:
        # O(n^2) in the queue's length. Same answer, read straight from the queue.
        queue = self.get_queue(queue_name)
        return int(queue.message_retention_period) + message.sent_timestamp / 1000 > _now()

    models.SQSBackend.is_message_valid_based_on_retention_period = valid

    def delete_message(self, receipt_handle):
        # moto scans the queue twice and rebuilds it per deleted message; one scan, same result
        if receipt_handle in self.deleted_messages:
            return
        for index, message in enumerate(self._messages):
            if message.had_receipt_handle(receipt_handle):
                self.pending_messages.discard(message)
                self.deleted_messages.update(message.all_receipt_handles)
                del self._messages[index]
                return
        raise models.ReceiptHandleIsInvalid()

    models.Queue.delete_message = delete_message

    def visible_messages(self):
        # moto reads the clock twice per message; once per call, same answer
        now = _now() * 1000.0
        return [m for m in self._messages if now > m.visible_at and now >= m.delayed_until]

    models.Queue.messages = property(visible_messages)
    models.generate_receipt_handle = _receipt_handle
    models.unix_time = lambda *a: _now()
    models.unix_time_millis = lambda *a: _now() * 1000.0


def _receipt_handle() -> str:
    import base64
    import os

    return base64.b64encode(os.urandom(132)).decode()  # moto's: 176 random.choice calls


def _now() -> float:
    clock = _CLOCK.get("clock")
    return _time() + clock.offset if clock is not None else _time()
