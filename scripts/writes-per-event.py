#!/usr/bin/env python3
"""How many state writes a delivery would make per event on a recorded stream.

The handler writes each service's state once per invocation (one conditional
PutItem per service in a batch), so its AWS calls, and with them its CPU, follow
the number of distinct services per batch. This reads a stream of EventBridge ECS
events (one JSON object per line, in delivery order, as `replay` reads them) and
prints, for batches of N consecutive events (what one FIFO message group hands a
Lambda mapping: at most 10) and for windows of T seconds of event time (what a
batching window would gather), the distinct services per event, and the gaps
between consecutive events of one service.

    python3 scripts/writes-per-event.py target/tmp/busy-day-81k.jsonl

(`cargo bench -p rollout-watcher-cli --bench replay -- busy` writes that file.)
Standard library only.
"""

import collections
import datetime
import json
import sys


def service_of(event):
    """The service an ECS event belongs to, as cluster/name."""
    detail = event.get("detail") or {}
    group = detail.get("group") or ""
    if group.startswith("service:"):
        cluster = (detail.get("clusterArn") or "").rsplit("/", 1)[-1]
        return f"{cluster}/{group[len('service:'):]}"
    for arn in event.get("resources") or []:
        if ":service/" in arn:
            return arn.split(":service/", 1)[1]
    return None


def main(path):
    order, timed = [], []
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                event = json.loads(line)
            except json.JSONDecodeError as e:
                sys.exit(f"{path}:{number}: not JSON: {e}")
            service = service_of(event)
            if service is None:
                continue
            at = datetime.datetime.fromisoformat(event["time"].replace("Z", "+00:00"))
            order.append(service)
            timed.append((at.timestamp(), service))
    if not order:
        sys.exit(f"{path}: no ECS service event")
    timed.sort()
    n = len(order)
    print(f"{n} events of {len(set(order))} services over {timed[-1][0] - timed[0][0]:.0f} s")
    for size in (1, 10, 100, 1000):
        writes = sum(len(set(order[i : i + size])) for i in range(0, n, size))
        print(f"batches of {size:>4} consecutive events: {writes / n:.3f} writes per event")
    for seconds in (1, 5, 10, 30, 60):
        windows = collections.defaultdict(set)
        for at, service in timed:
            windows[int((at - timed[0][0]) // seconds)].add(service)
        writes = sum(len(s) for s in windows.values())
        print(f"windows of {seconds:>2} s of event time:      {writes / n:.3f} writes per event")
    last, gaps = {}, []
    for at, service in timed:
        if service in last:
            gaps.append(at - last[service])
        last[service] = at
    gaps.sort()
    if gaps:
        pick = lambda q: gaps[min(len(gaps) - 1, int(q * len(gaps)))]
        print(
            "gap between a service's consecutive events: "
            f"p10 {pick(0.1):.0f} s, p50 {pick(0.5):.0f} s, p90 {pick(0.9):.0f} s"
        )


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: writes-per-event.py STREAM.jsonl")
    main(sys.argv[1])
