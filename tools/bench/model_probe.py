"""One model in a fresh process, as a worker holds it: ``python -m tools.bench.model_probe``.

Prints one JSON line: the time to read, check, load and warm it, the resident memory it adds,
its inference p50 at batch 1 and the worker's whole classify (decode + preprocess + inference)
in img/s on 1.2 MP photos. A process of its own, so that the memory is this model's alone. The
model is loaded twice: the first load also pays for onnxruntime's own start-up (once per worker
process); the second is what one more loaded model costs, as in a worker's cache.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

from contracts.model_registry import read_manifest
from tools.bench.inputs import make_jpegs
from tools.bench.system import current_rss_mb
from worker.inference.classifier import Classifier
from worker.inference.registry import read_verified


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.bench.model_probe")
    parser.add_argument("registry", type=Path)
    parser.add_argument("model")
    parser.add_argument("--seconds", type=float, default=2.0)
    args = parser.parse_args()
    entry = read_manifest(args.registry).models[args.model]
    jpegs = make_jpegs(1.2)

    def load() -> Classifier:
        classifier = Classifier(entry, read_verified(args.registry, entry), intra_op_threads=1)
        classifier.warm_up()
        return classifier

    before = current_rss_mb()
    first = load()
    between = current_rss_mb()
    started = time.perf_counter()
    classifier = load()
    load_s = time.perf_counter() - started
    rss_mb = current_rss_mb() - between
    first_rss_mb = between - before
    del first
    inference, count = [], 0
    for jpeg in jpegs:
        classifier.classify(jpeg)
    started = time.perf_counter()
    while time.perf_counter() - started < args.seconds:
        inference.append(classifier.classify(jpegs[count % len(jpegs)]).inference_ms)
        count += 1
    images_per_s = count / (time.perf_counter() - started)
    print(
        json.dumps(
            {
                "load_s": load_s,
                "rss_mb": rss_mb,
                "first_rss_mb": first_rss_mb,
                "inference_ms": statistics.median(inference),
                "images_per_s": images_per_s,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
