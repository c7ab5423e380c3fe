"""Two processes on one vault: each runs command-line operations against it, as fast as it can.

Each worker is a process that calls the real command-line entry point
(``securesubmit.cli.main``) again and again, in-process, so that a thousand operations do
not pay a thousand interpreter starts: new reports, edits, attachments, deletions, lists,
``vault info`` and ``audit verify``. Every call must end with exit code 0 or with exit code
4 and a "vault in use" message: never a crash, a "damaged vault" or a wrong passphrase.
At the end the vault must pass ``audit verify``, and hold exactly the reports that the two
workers created and did not delete, each with the title of its last successful edit.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import random
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PASSPHRASE = "correct horse battery staple"


def worker(args: argparse.Namespace) -> int:
    from securesubmit.cli import main as cli

    rng = random.Random(args.seed)
    attachment = Path(args.work) / f"attachment-{args.name}.txt"
    attachment.write_bytes(b"evidence " * 500)
    live: dict[str, str] = {}  # report id -> title of the last successful save
    codes: Counter[str] = Counter()
    problems: list[str] = []
    for n in range(args.ops):
        choice = rng.random()
        own = sorted(live)
        if choice < 0.3 or not own:
            title = f"{args.name} report {n}"
            argv = ["report", "new", "--title", title, "--category", "media"]
        elif choice < 0.45:
            target = rng.choice(own)
            title = f"{args.name} report {n} (edited)"
            argv = ["report", "edit", target, "--title", title]
        elif choice < 0.55:
            argv = ["report", "attach", rng.choice(own), str(attachment), "--no-scrub"]
        elif choice < 0.65:
            argv = ["report", "delete", rng.choice(own), "--yes"]
        elif choice < 0.8:
            argv = ["report", "list", "--json"]
        elif choice < 0.9:
            argv = ["vault", "info"]
        else:
            argv = ["audit", "verify"]
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = cli(argv)
            except SystemExit as stop:  # argparse errors
                code = int(stop.code or 0)
        operation = " ".join(argv[:2])
        codes[f"{operation}: {code}"] += 1
        if code == 0:
            if argv[1] == "new":
                live[out.getvalue().strip()] = title
            elif argv[1] == "edit":
                live[argv[2]] = title
            elif argv[1] == "delete":
                live.pop(argv[2])
        elif code == 4:
            if "in use" not in err.getvalue():
                problems.append(f"exit 4 without 'in use': {err.getvalue()[:200]}")
        else:
            problems.append(f"{operation} exited {code}: {err.getvalue()[-300:]}")
    print(json.dumps({"live": live, "codes": codes, "problems": problems}))
    return 0


@dataclass
class ConcurrencyResult:
    operations: int = 0
    codes: Counter[str] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)
    reports: int = 0
    seconds: float = 0.0

    @property
    def in_use(self) -> int:
        return sum(n for k, n in self.codes.items() if k.endswith(": 4"))

    @property
    def succeeded(self) -> int:
        return sum(n for k, n in self.codes.items() if k.endswith(": 0"))


def run_concurrency(root: Path, operations: int, *, seed: int = 3) -> ConcurrencyResult:
    """Two workers, ``operations`` command-line calls in total, on one vault in ``root``."""
    from securesubmit.core.service import create_vault, unlock_vault, verify_audit
    from tests.helpers import FAST_KDF

    root.mkdir(parents=True, exist_ok=True)
    vault = root / "vault.db"
    create_vault(vault, PASSPHRASE, name="Shared", kdf=FAST_KDF).close()
    passphrase = root / "passphrase.txt"
    passphrase.write_text(PASSPHRASE + "\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SECURESUBMIT_")}
    env.update(
        SECURESUBMIT_VAULT=str(vault),
        SECURESUBMIT_PASSPHRASE_FILE=str(passphrase),
        PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""),
        TMPDIR=str(root),
    )
    result = ConcurrencyResult()
    started = time.monotonic()
    workers = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.security.concurrency",
                "--worker",
                "--name",
                name,
                "--ops",
                str(operations // 2 + (operations % 2 if name == "a" else 0)),
                "--seed",
                str(seed * 10 + number),
                "--work",
                str(root),
            ],
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for number, name in enumerate(("a", "b"))
    ]
    expected: dict[str, str] = {}
    for process in workers:
        out, err = process.communicate(timeout=1800)
        if process.returncode != 0:
            result.problems.append(f"a worker failed: {err[-500:]}")
            continue
        summary = json.loads(out.strip().splitlines()[-1])
        expected.update(summary["live"])
        result.codes.update(summary["codes"])
        result.problems += summary["problems"]
    result.operations = sum(result.codes.values())
    result.seconds = time.monotonic() - started
    try:
        verify_audit(vault)
        with unlock_vault(vault, PASSPHRASE) as session:
            found = {r.id: r.title for r in session.list_reports()}
    except Exception as error:  # what this suite looks for
        result.problems.append(f"the vault is damaged after the run: {error!r}")
        return result
    result.reports = len(found)
    if found != expected:
        missing = sorted(set(expected) - set(found))
        extra = sorted(set(found) - set(expected))
        wrong = sorted(k for k in set(found) & set(expected) if found[k] != expected[k])
        result.problems.append(
            f"the vault does not hold what the workers saved: missing {missing[:3]}, "
            f"unexpected {extra[:3]}, other titles {wrong[:3]}"
        )
    return result


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.security.concurrency")
    parser.add_argument("--worker", action="store_true")
    parser.add_argument("--name", default="a")
    parser.add_argument("--ops", type=int, default=500)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--work", default=".")
    args = parser.parse_args(argv)
    if args.worker:
        return worker(args)
    import tempfile

    result = run_concurrency(Path(tempfile.mkdtemp(prefix="securesubmit-conc-")), args.ops)
    print(json.dumps({"operations": result.operations, "codes": result.codes}, indent=1))
    for problem in result.problems:
        print(f"PROBLEM: {problem}")
    return 1 if result.problems else 0


if __name__ == "__main__":
    sys.exit(main())
