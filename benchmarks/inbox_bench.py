"""Coordinator workspace at scale: list and search a synthetic inbox of N reports.

``bench_inbox(n)`` builds N inbox items in memory (nothing is written to disk, so no
plaintext either), then times what a coordinator waits for after unlock:

* building the in-memory search index;
* listing the first page, unfiltered and with filters;
* full-text searches: one common word, one rare word, a Cyrillic word that matches by
  prefix, two words (AND), and a quoted phrase.

Goals (issue 7): first page <= 0.1 s and a search <= 0.5 s, with 100,000 reports.

Run alone: ``python -m benchmarks.inbox_bench [N] [--vault]``. With ``--vault`` it also
times decrypting N inbox records from a real vault (``bench_inbox_load``), which is what a
coordinator waits for at unlock before any of the above.
"""

from __future__ import annotations

import gc
import random
import re
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from securesubmit.core import inbox
from securesubmit.core.exchange import InboxItem

LIST_GOAL_S = 0.1
SEARCH_GOAL_S = 0.5


def _words(text: str) -> list[str]:
    return re.findall(r"\S+", text)


_LATIN_SYLLABLES = _words("ar be ki lo mu na ta si de ro pa vi en or st an ul ga")
_CYRILLIC_SYLLABLES = _words("ар бе ки ло му на та си де ро па ви ен ор ст ан ул га жу ще")
_COMMON = _words(
    "the of and to in was were by police journalist арест журналист полиция "
    "суд власти и в на не что blogger court detained released"
)
_NAMES = _words("Aigerim Nurlan Dana Timur Zhanna Ivan Анна Айгерим Нурлан Марат Гульнара")
_SURNAMES = _words("Petrov Seitkali Abenova Иванов Садыков Омарова Тохтаров")


def _vocabulary(rng: random.Random, size: int) -> list[str]:
    words = set(_COMMON)
    while len(words) < size:
        syllables = _CYRILLIC_SYLLABLES if rng.random() < 0.5 else _LATIN_SYLLABLES
        words.add("".join(rng.choice(syllables) for _ in range(rng.randint(2, 4))))
    ordered = list(_COMMON) + sorted(words - set(_COMMON))
    return ordered


def synthetic_items(n: int, *, seed: int = 7) -> list[InboxItem]:
    """N inbox items with text drawn from a Zipf-like vocabulary of English and Russian
    words: about 80 description words each, as real reports are a few paragraphs."""
    rng = random.Random(seed)
    vocabulary = _vocabulary(rng, 30_000)
    weights = [1 / (rank + 1) for rank in range(len(vocabulary))]
    cumulative = []
    total = 0.0
    for w in weights:
        total += w
        cumulative.append(total)
    senders = [(f"{k:02x}" * 32, f"Reporter {k}") for k in range(40)]
    categories = ["media", "repression", "environment", "other"]
    countries = ["KZ", "KG", "TJ", "TM", "UZ", "other", ""]
    items = []
    for number in range(n):
        words = rng.choices(vocabulary, cum_weights=cumulative, k=rng.randint(40, 120))
        title = " ".join(rng.choices(vocabulary, cum_weights=cumulative, k=8))
        year = rng.randint(2015, 2026)
        shape = rng.random()
        incident = (
            f"{year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
            if shape < 0.7
            else (f"{year}-{rng.randint(1, 12):02d}" if shape < 0.85 else str(year))
        )
        fp, name = senders[number % len(senders)]
        people = [
            {
                "name": f"{rng.choice(_NAMES)} {rng.choice(_SURNAMES)}",
                "role": "witness",
                "sensitive": rng.random() < 0.2,
                "organisation": False,
            }
            for _ in range(rng.randint(0, 3))
        ]
        report = {
            "title": title,
            "category": rng.choice(categories),
            "template": "",
            "incident_date": incident,
            "date_approximate": shape >= 0.7,
            "country": rng.choice(countries),
            "place": rng.choice(["Almaty", "Бишкек", "Dushanbe", "Ташкент", "Astana"]),
            "people": people,
            "description": " ".join(words),
            "sources": [f"https://example.org/{number}"] if rng.random() < 0.5 else [],
            "tags": rng.sample(["press", "arrest", "water", "court", "протест"], k=2),
            "language": rng.choice(["en", "ru"]),
            "fields": {},
            "created": "2026-01-01T00:00:00Z",
            "updated": "2026-01-01T00:00:00Z",
            "status": "sealed",
        }
        items.append(
            InboxItem(
                id=f"{number:032x}",
                report_id=f"r{number:031x}",
                report=report,
                sender_fingerprint=fp,
                sender_name=name,
                bundle_id=f"b{number // 10}",
                sequence=number // 10 + 1,
                created="2026-01-01T00:00:00Z",
                sealed=f"2026-{1 + number % 12:02d}-01T00:00:00Z",
                imported="2026-02-01T00:00:00Z",
                attachments=[],
                sealed_blob={},
                status=inbox.STATUSES[number % len(inbox.STATUSES)],
                tags=["urgent"] if number % 17 == 0 else [],
                warnings=["gap: bundle 3 missing"] if number % 101 == 0 else [],
            )
        )
    return items


def _time(fn: Callable[[], Any], repeat: int = 3) -> tuple[float, Any]:
    """Best of ``repeat`` runs (the machine is shared and noisy) and the last result."""
    best, result = float("inf"), None
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bench_inbox(n: int = 100_000) -> dict[str, Any]:
    """Time listing and searching an in-memory inbox of ``n`` reports.

    Returns ``{"n", "timings": {case: seconds}, "hits": {case: count}, "rss_mib",
    "list_goal_met", "search_goal_met"}``. Every timing is the best of three runs.
    """
    start = time.perf_counter()
    items = synthetic_items(n)
    generate_s = time.perf_counter() - start
    timings: dict[str, float] = {"generate items (not the program)": generate_s}
    hits: dict[str, int] = {}

    load_s, workspace = _time(lambda: inbox.Workspace(items), repeat=1)
    timings["workspace: sort + filter facets (once)"] = load_s
    index_s, _ = _time(lambda: workspace.index, repeat=1)
    timings["index build (once, at the first search)"] = index_s
    # The sum, under the name benchmarks/probe.py reads ("first page…" and "search…"
    # keys are read too: keep these names stable).
    timings["build workspace + index"] = load_s + index_s

    lists: dict[str, Callable[[], inbox.Page]] = {
        "first page, no filter": lambda: workspace.view(),
        "first page, category+country": lambda: workspace.view(category="media", country="KZ"),
        "first page, date range": lambda: workspace.view(date_from="2020-03", date_to="2021"),
        "first page, tag+status": lambda: workspace.view(tag="urgent", status="flagged"),
        "first page, sender": lambda: workspace.view(sender="Reporter 7"),
    }
    for name, fn in lists.items():
        seconds, page = _time(fn)
        timings[name] = seconds
        hits[name] = page.total

    searches = {
        "search common word 'journalist'": "journalist",
        "search rare word": "киарбе",
        "search Cyrillic prefix 'журналист'": "журналист",
        "search two words (AND)": "police арест",
        "search quoted phrase": '"police journalist"',
        "search one letter (worst case)": "a",
        "search + filter page": "court",
    }
    for name, query in searches.items():
        if name == "search + filter page":
            seconds, page = _time(lambda q=query: workspace.view(query=q, country="KZ"))
            hits[name] = page.total
        else:
            seconds, found = _time(lambda q=query: workspace.index.search(q))
            hits[name] = len(found)
        timings[name] = seconds

    stats_s, _ = _time(lambda: inbox.statistics(items), repeat=1)
    timings["statistics (all reports)"] = stats_s
    list_worst = max(v for k, v in timings.items() if k.startswith("first page"))
    # The goals are for a coordinator working after unlock: the one-off costs above
    # (decrypting, facets, index) are reported, not counted against them.
    search_worst = max(v for k, v in timings.items() if k.startswith("search"))
    return {
        "n": n,
        "timings": timings,
        "hits": hits,
        "rss_mib": _rss_mib(),
        "list_goal_met": list_worst <= LIST_GOAL_S,
        "search_goal_met": search_worst <= SEARCH_GOAL_S,
    }


def bench_inbox_load(n: int, directory: Path) -> dict[str, float]:
    """Time what unlock costs before the workspace exists: decrypting ``n`` inbox records
    from a real (encrypted) vault in ``directory``, then building the workspace.

    The records are written straight into one transaction (importing ``n`` real bundles
    would take hours); ``list_inbox`` then reads them exactly as after a real import.
    Only the encrypted vault file is written to disk.
    """
    from securesubmit.core import crypto
    from securesubmit.core.service import create_vault, unlock_vault
    from securesubmit.core.vault import Vault

    path = directory / "inbox-bench.db"
    passphrase = "benchmark passphrase"  # noqa: S105 - a throwaway vault
    with (
        create_vault(path, passphrase, kdf=crypto.TEST_KDF, role="coordinator") as session,
        session.vault.transaction("benchmark.filled", {"items": n}),
    ):
        for item in synthetic_items(n):
            session.vault.put(Vault.new_id(), item.to_record())
    with unlock_vault(path, passphrase) as session:
        start = time.perf_counter()
        items = session.list_inbox()
        decrypt_s = time.perf_counter() - start
        start = time.perf_counter()
        inbox.Workspace(items)
        workspace_s = time.perf_counter() - start
    return {"decrypt list_inbox": decrypt_s, "workspace from decrypted items": workspace_s}


def main(argv: list[str]) -> int:
    numbers = [a for a in argv if a.isdigit()]
    n = int(numbers[0]) if numbers else 100_000
    result = bench_inbox(n)
    print(f"inbox of {n:,} synthetic reports (in memory only)")
    for name, seconds in result["timings"].items():
        count = result["hits"].get(name)
        shown = f"{count:,} matches" if count is not None else ""
        print(f"  {name:40} {seconds * 1000:9.1f} ms  {shown}")
    print(f"  peak RSS {result['rss_mib']:.0f} MiB")
    if "--vault" in argv:
        import tempfile

        with tempfile.TemporaryDirectory() as tmp:
            for name, seconds in bench_inbox_load(n, Path(tmp)).items():
                print(f"  {'unlock: ' + name:40} {seconds * 1000:9.1f} ms")
    print(
        f"  list goal <= {LIST_GOAL_S} s: {'met' if result['list_goal_met'] else 'MISSED'}; "
        f"search goal <= {SEARCH_GOAL_S} s: {'met' if result['search_goal_met'] else 'MISSED'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
