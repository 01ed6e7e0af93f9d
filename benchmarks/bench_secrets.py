"""What the secret filter costs: per text, for ordinary memories and for long hostile inputs.

Hostile inputs are the shapes that make careless patterns backtrack (a keyword repeated
thousands of times, a long digit run, digits and spaces, a token prefix repeated); each is
timed beside a plain linear scan of the same text (``re.findall(r"\\w+")``) measured in the
same run, so the ratio says how far from linear the filter is on that shape.

Run: ``python benchmarks/bench_secrets.py [--repeat 5]``
"""

from __future__ import annotations

import argparse
import re
import statistics
import time
from collections.abc import Callable

from langmem_agno.secrets_filter import SecretFilter

HOSTILE = {
    "'password is ' x 2,000": "password is " * 2_000,
    "'4' x 20,000": "4" * 20_000,
    "'1 ' x 10,000": "1 " * 10_000,
    "'sk-' + 'a-' x 5,000": "sk-" + "a-" * 5_000,
}
ORDINARY = [
    "Sarah prefers email over phone calls",
    "The user's flight LH 4521 leaves at 07:45 from gate B12",
    "Their order number is 4111-2093-5521 and it ships Tuesday",
    "John Doe likes to play basketball on the weekends",
]
_WORDS = re.compile(r"\w+")


def median_ms(run: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    flt = SecretFilter()
    print(f"{'text':28} {'chars':>7} {'filter ms':>10} {'scan ms':>9} {'ratio':>7}")
    for name, text in HOSTILE.items():
        ours = median_ms(lambda t=text: flt.find(t), args.repeat)
        scan = median_ms(lambda t=text: _WORDS.findall(t), args.repeat)
        print(f"{name:28} {len(text):>7} {ours:>10.2f} {scan:>9.3f} {ours / max(scan, 1e-6):>7.0f}")
    batch = ORDINARY * 250
    ours = median_ms(lambda: [flt.find(t) for t in batch], args.repeat) / len(batch) * 1000
    scan = median_ms(lambda: [_WORDS.findall(t) for t in batch], args.repeat) / len(batch) * 1000
    print(f"ordinary memory (median of {len(batch)}): filter {ours:.1f} µs, scan {scan:.1f} µs")


if __name__ == "__main__":
    main()
