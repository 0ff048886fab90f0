"""pika's connection reads a photo in a few large reads, not 4 KiB at a time."""

import pytest
from pika.adapters.utils import io_services_utils

from worker.queue.socket_reads import RECV_BYTES, read_larger_chunks


def test_reads_grow_to_the_larger_size(monkeypatch: pytest.MonkeyPatch) -> None:
    transport = io_services_utils._AsyncTransportBase
    monkeypatch.setattr(transport, "_MAX_RECV_BYTES", 4096)
    read_larger_chunks()
    assert transport._MAX_RECV_BYTES == RECV_BYTES
    assert io_services_utils._AsyncPlaintextTransport._MAX_RECV_BYTES == RECV_BYTES


def test_a_larger_size_already_set_is_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    transport = io_services_utils._AsyncTransportBase
    monkeypatch.setattr(transport, "_MAX_RECV_BYTES", 2 * RECV_BYTES)
    read_larger_chunks()
    assert transport._MAX_RECV_BYTES == 2 * RECV_BYTES
