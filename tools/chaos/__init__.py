"""Chaos run: a few hundred uploads while workers are SIGKILLed and replaced, RabbitMQ is
restarted and Redis is killed and restarted; then a table of what became of every upload.

    make chaos                      (or: .venv/bin/python -m tools.chaos --uploads 300)

Loopback only. It uses its own RabbitMQ vhost (``snapmatch-chaos``, created by `make chaos`)
and a queue of its own, and a private redis-server with an append-only file (fsync always) on a
free port, so killing that Redis loses nothing and touches no other Redis user. RabbitMQ itself
is the shared local node: it is restarted for real (``rabbitmqctl stop_app``/``start_app``) and
always left running.

Columns: sent; accepted (202); refused (503/429 with Retry-After, never retried here);
completed (``done``); failed (``failed``, e.g. the deliberately truncated uploads); LOST
(accepted but no terminal result by the end, or a result that was answered and is gone when
every result is read again at the end); duplicates executed (model runs beyond the first per
task, counted from the workers' "running the model" log lines, which come before each run). The
last line says ``lost: N``. Exit status 1 when anything is lost or an answer was unexpected.

Modules: ``disruptions`` (what happens to the system, and when), ``traffic`` (the uploads and the
ledger of their answers), ``run`` (start, upload under disruption, settle, read again),
``report`` (the table), ``__main__`` (the chaos run). The failover drills (``tools.drill``)
reuse ``traffic``, ``run`` and ``report`` with disruptions of their own.
"""
