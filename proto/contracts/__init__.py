"""Cross-process contracts, defined once and imported by the gateway and the worker.

- ``task_pb2``: the queue message (generated from ``task.proto`` by ``make proto``);
- ``redis_keys``: where a task's state lives in Redis;
- ``results``: the JSON stored under that key, from ``pending`` to ``done``/``failed``.
"""
