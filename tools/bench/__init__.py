"""Measure the raw model kernel and the whole pipeline side by side; write docs/BENCHMARKS.md.

    python -m tools.bench [--vhost V] [--redis-db N] [--out docs/BENCHMARKS.md] [--quick]

Raw kernel (``kernel``): the worker's own decode + preprocess + inference code
(``Classifier.classify``) in a tight loop in this process, with the worker's thread settings.
Pipeline (``pipeline``): a real gateway and real worker processes on the local RabbitMQ and
Redis, real HTTP uploads with an Auth Emulator token, the client waiting for each result with
the long-poll ``GET /result/{id}?wait=``, the CPU of every process sampled from /proc
(``system``). ``report`` and ``conclusions`` turn the numbers into the Markdown file.
Benchmarks time things; tests never do.
"""
