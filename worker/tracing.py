"""The worker's part of an upload's trace (``config.tracing``; nothing at all while it is off).

A task's spans continue the gateway's publish span, whose context travels in the message
(``TaskMessage.trace_context``), not in AMQP headers: it survives redelivery, dead-lettering
and the queue migration with the message itself. Under the publish span:

- ``queue wait``: from the gateway accepting the upload to this worker starting it;
- ``process task`` (consumer), with ``preprocess``, ``inference``, ``store result`` and
  ``notify`` inside it.

Preprocess and inference are recorded from the stage timings the classifier measures anyway
(so the trace, the metrics and the result's ``timings`` agree, and a micro-batch, whose model
call runs on another thread, needs no context passing).
"""

import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager

from opentelemetry import propagate, trace

from config import tracing
from contracts.results import TaskRecord
from contracts.task_pb2 import TaskMessage

tracer = trace.get_tracer(__name__)

_NS_PER_MS = 1_000_000


@contextmanager
def processing(task: TaskMessage, *, attempt: int) -> Iterator[None]:
    """The task's ``queue wait`` span, then its ``process task`` span, current inside."""
    if not tracing.is_active():
        yield
        return
    published = propagate.extract(task.trace_context)
    started = time.time_ns()
    tracer.start_span(
        "queue wait", context=published, start_time=task.submitted_at.ToNanoseconds()
    ).end(end_time=started)
    with tracer.start_as_current_span(
        "process task",
        context=published,
        kind=trace.SpanKind.CONSUMER,
        start_time=started,
        attributes={
            "messaging.system": "rabbitmq",
            "messaging.message.id": task.task_id,
            "snapmatch.attempt": attempt,
        },
    ):
        yield


def stage(name: str) -> AbstractContextManager[None]:
    """A span around one step of the task (storing, notifying), current inside."""
    return tracing.span(tracer, name)


def record_stages(started_ns: int, *, preprocess_ms: float, inference_ms: float) -> None:
    """``preprocess`` and ``inference`` spans, back to back from ``started_ns``."""
    if not tracing.is_active():
        return
    preprocessed = started_ns + round(preprocess_ms * _NS_PER_MS)
    tracer.start_span("preprocess", start_time=started_ns).end(end_time=preprocessed)
    finished = preprocessed + round(inference_ms * _NS_PER_MS)
    tracer.start_span("inference", start_time=preprocessed).end(end_time=finished)


def record_outcome(record: TaskRecord) -> None:
    """The task's terminal status (and failure code) on the current span."""
    if not tracing.is_active():
        return
    span = trace.get_current_span()
    span.set_attribute("snapmatch.task.status", record.status.value)
    if record.error is not None:
        span.set_attribute("snapmatch.task.error", record.error.code.value)
