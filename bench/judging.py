"""Judging a run's history: one decode for every checker, against each reading it itself.

    python bench/judging.py [--scenario incident-2025-dns --variant legacy --seed 4] [--samples 7]

One run of the scenario is made and its history kept; then, alternately, ``--samples``
times each: *each for itself* calls every checker the scenario is judged by (and the
DNS metrics, and the check for faults that never applied) on the history, each reading
and decoding the whole file again, as judging did before; *one pass* hands them all to
``checkers.read_once``, which decodes the file once and feeds them from that. CPU time of
the whole process (every thread: the readers of one pass run on threads), median, min
and max, and the ratio pair by pair. Both must find the same.
"""

from __future__ import annotations

import argparse
import functools
import statistics
import time
from typing import Any

from dnschaos import checkers, judging
from dnschaos.dns.metrics import dns_metrics
from dnschaos.faults.inject import unmatched
from dnschaos.runner import run
from dnschaos.scenario.resolve import resolve_built


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", default="incident-2025-dns")
    ap.add_argument("--variant", default="legacy")
    ap.add_argument("--seed", type=int, default=4)
    ap.add_argument("--samples", type=int, default=7)
    args = ap.parse_args()
    result = run(args.scenario, variant=args.variant, seed=args.seed)
    history = result.history
    _, scenario = resolve_built(result.spec)
    readers: dict[str, Any] = {n: inv.check for n, inv in judging.chosen(scenario).items()}
    if scenario.dns is not None:
        readers["dns metrics"] = dns_metrics
    readers["unmatched faults"] = functools.partial(unmatched, scenario.faults)

    def each() -> dict[str, Any]:
        return {name: (fn(history), None) for name, fn in readers.items()}

    def once() -> dict[str, Any]:
        return checkers.read_once(history, readers)

    costs: dict[str, list[float]] = {"each for itself": [], "one pass": []}
    for _ in range(args.samples):
        found = []
        for name, fn in (("each for itself", each), ("one pass", once)):
            start = time.process_time()
            found.append(fn())
            costs[name].append(time.process_time() - start)
        if found[0] != found[1]:
            raise SystemExit("the two ways found different things")
    print(
        f"{args.scenario} {args.variant} seed {args.seed}: {len(history)} history entries, "
        f"{len(readers)} readers ({', '.join(readers)}); CPU ms, {args.samples} samples each"
    )
    for name, values in costs.items():
        ms = [v * 1000 for v in values]
        print(
            f"  {name}: median {statistics.median(ms):.0f} (min {min(ms):.0f}, max {max(ms):.0f})"
        )
    ratios = [b / a for a, b in zip(costs["each for itself"], costs["one pass"], strict=True)]
    print(
        f"  one pass / each for itself, pair by pair: median {statistics.median(ratios):.2f} "
        f"(min {min(ratios):.2f}, max {max(ratios):.2f})"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
