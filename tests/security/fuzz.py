"""Fuzz every parser of outside input for a bounded time: ``python -m tests.security.fuzz``.

Each target of tests/security/fuzz_targets.py runs in its own child process, seeded from
tests/vectors/. With atheris installed (``pip install atheris``) the child is coverage-guided
(libFuzzer); without it, a plain mutation loop over the seeds runs instead, with the same
targets and the same accounting. A child stops at ``--seconds`` or ``--runs``, whichever
comes first. A finding is an exception other than SecureSubmitError, a broken invariant, a
hang (``--timeout`` seconds for one input) or a peak RSS above ``--rss-mib``; its input is
saved under the output folder as the reproducer.

Examples::

    python -m tests.security.fuzz --seconds 1500 --budget-minutes 27 --jobs 2   # make fuzz
    python -m tests.security.fuzz --targets card,statement --seconds 20
    python -m tests.security.fuzz --engine mutate --seconds 10      # without atheris

Prints a table: target, engine, executions, executions per second, peak RSS, findings.
Exit code 0 when nothing was found, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TARGET_NAMES = (
    "age-header",
    "bundle-manifest",
    "bundle-container",
    "sealed-container",
    "identity-card",
    "statement",
    "checkpoint",
    "verifier-key",
    "trust-store",
    "audit-leaf",
    "tree-state",
    "kdf-params",
)
SLOW_FIRST = (
    "bundle-container",
    "trust-store",
    "sealed-container",
    "identity-card",
    "bundle-manifest",
    "statement",
    "checkpoint",
    "audit-leaf",
    "age-header",
    "verifier-key",
    "tree-state",
    "kdf-params",
)
"""The targets from the slowest (executions per second, measured) to the fastest: started
in this order, they share the workers evenly within a time budget."""
PLANTED = "planted-crash"
"""A target that crashes on purpose (on inputs starting with b"BOOM"): proves that the
harness reports what it finds. Never part of a normal run."""
PLANTED_MEMORY = "planted-memory"
"""A target that holds 300 MiB on purpose (on inputs starting with b"HOG"): proves that
the RSS watchdog reports it."""


@dataclass
class FuzzResult:
    target: str
    engine: str
    executions: int = 0
    seconds: float = 0.0
    peak_rss_mib: float = 0.0
    crashes: int = 0
    hangs: int = 0
    oom: int = 0
    findings: list[str] = field(default_factory=list)
    reproducers: list[str] = field(default_factory=list)
    log: str = ""

    @property
    def found(self) -> int:
        return self.crashes + self.hangs + self.oom

    @property
    def rate(self) -> float:
        return self.executions / self.seconds if self.seconds else 0.0


def atheris_available() -> bool:
    try:
        import atheris  # noqa: F401
    except ImportError:
        return False
    return True


# --- the child: one target -----------------------------------------------------------------


def _peak_rss_mib() -> float:
    with open("/proc/self/status") as status:  # VmHWM: this process since exec, not the parent
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _load(target: str) -> tuple[object, list[bytes]]:
    if target == PLANTED:

        def planted(data: bytes) -> None:
            if data.startswith(b"BOOM"):
                raise ValueError("planted crash")

        return planted, [b"BOOM", b"hello"]
    if target == PLANTED_MEMORY:
        hog: list[bytearray] = []

        def planted_memory(data: bytes) -> None:
            if data.startswith(b"HOG") and not hog:
                hog.append(bytearray(b"x" * (300 << 20)))
                time.sleep(2)  # long enough to be seen

        return planted_memory, [b"HOG", b"hello"]
    from tests.security import fuzz_targets

    chosen = fuzz_targets.load()[target]
    return chosen.run, chosen.seeds()


def _write_corpus(folder: Path, seeds: Sequence[bytes]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for number, seed in enumerate(seeds):
        (folder / f"seed-{number:04d}").write_bytes(seed)


def child_atheris(args: argparse.Namespace) -> int:
    import atheris

    with atheris.instrument_imports(include=["securesubmit"]):
        run, seeds = _load(args.child)
    corpus = Path(args.corpus)
    if not any(corpus.glob("*")):
        _write_corpus(corpus, seeds)
    artifacts = Path(args.artifacts)
    artifacts.mkdir(parents=True, exist_ok=True)
    max_len = max(4096, max((len(s) for s in seeds), default=0))
    argv = [
        sys.argv[0],
        str(corpus),
        f"-max_total_time={int(args.seconds)}",
        f"-runs={args.runs}",
        # libFuzzer's own RSS check reads ru_maxrss, which a child inherits from its parent
        # across fork and exec on Linux: the parent watches VmHWM instead (run_target).
        f"-rss_limit_mb={max(4096, args.rss_mib)}",
        f"-timeout={args.timeout}",
        f"-max_len={max_len}",
        f"-artifact_prefix={artifacts}/",
        f"-seed={args.seed}",
        "-print_final_stats=1",
    ]
    atheris.Setup(argv, run)
    atheris.Fuzz()
    return 0


def child_mutate(args: argparse.Namespace) -> int:
    """Without coverage: random mutations of the seeds and of inputs made from them."""
    from tests.security import mutate

    run, seeds = _load(args.child)
    rng = random.Random(args.seed)
    artifacts = Path(args.artifacts)
    artifacts.mkdir(parents=True, exist_ok=True)
    pool = [s for s in seeds if s] or [b"\x00"]
    started = time.monotonic()
    executions = crashes = hangs = 0

    def alarm(signum: int, frame: object) -> None:
        raise TimeoutError("one input took longer than the timeout")

    signal.signal(signal.SIGALRM, alarm)
    while executions < args.runs and time.monotonic() - started < args.seconds:
        if executions < len(seeds):
            data = seeds[executions]
        else:
            base = rng.choice(pool)
            kind = rng.choice(mutate.KINDS)
            data = mutate.mutate(kind, base, pool, rng) if base else base
            if rng.random() < 0.05:
                data = rng.randbytes(rng.randrange(0, 256))
        signal.alarm(args.timeout)
        try:
            run(data)  # type: ignore[operator]
        except TimeoutError:
            hangs += 1
            (artifacts / f"timeout-{executions}").write_bytes(data)
        except Exception:
            crashes += 1
            (artifacts / f"crash-{executions}").write_bytes(data)
            if crashes <= 3:
                traceback.print_exc()
        finally:
            signal.alarm(0)
        executions += 1
        if executions % 4096 == 0 and len(pool) < 4096 and rng.random() < 0.5:
            pool.append(data)  # a little memory of where it has been
    summary = {
        "executions": executions,
        "seconds": time.monotonic() - started,
        "crashes": crashes,
        "hangs": hangs,
        "peak_rss_mib": _peak_rss_mib(),
    }
    print("MUTATE-SUMMARY " + json.dumps(summary), flush=True)
    return 1 if crashes or hangs else 0


# --- the parent: run children, read their logs ------------------------------------------------


_DONE = re.compile(r"Done (\d+) runs in (\d+) second")
_STATUS = re.compile(r"^#(\d+)\s+\w+.*?exec/s: (\d+)", re.MULTILINE)


def run_target(
    target: str,
    out: Path,
    *,
    engine: str,
    seconds: float,
    runs: int,
    rss_mib: int,
    timeout: int,
    seed: int = 1,
) -> FuzzResult:
    folder = out / target
    shutil.rmtree(folder / "artifacts", ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)
    command = [
        sys.executable,
        "-m",
        "tests.security.fuzz",
        "--child",
        target,
        "--engine",
        engine,
        "--seconds",
        str(seconds),
        "--runs",
        str(runs),
        "--rss-mib",
        str(rss_mib),
        "--timeout",
        str(timeout),
        "--seed",
        str(seed),
        "--corpus",
        str(folder / "corpus"),
        "--artifacts",
        str(folder / "artifacts"),
    ]
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    env["TMPDIR"] = str(folder / "tmp")
    (folder / "tmp").mkdir(exist_ok=True)
    started = time.monotonic()
    peak = 0.0
    over = False
    with open(folder / "log.txt", "w") as log:
        process = subprocess.Popen(command, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            while process.poll() is None:
                peak = max(peak, _child_peak_rss_mib(process.pid))
                if peak > rss_mib:
                    over = True
                    process.kill()
                elif time.monotonic() - started > seconds * 3 + 120:
                    process.kill()
                time.sleep(0.2)
        finally:
            if process.poll() is None:
                process.kill()
            process.wait()
    elapsed = time.monotonic() - started
    text = (folder / "log.txt").read_text(errors="replace")
    result = FuzzResult(target, engine, seconds=elapsed, log=str(folder / "log.txt"))
    if engine == "mutate":
        for line in text.splitlines():
            if line.startswith("MUTATE-SUMMARY "):
                summary = json.loads(line.split(" ", 1)[1])
                result.executions = summary["executions"]
                result.seconds = summary["seconds"]
                result.crashes = summary["crashes"]
                result.hangs = summary["hangs"]
                result.peak_rss_mib = summary["peak_rss_mib"]
    else:
        done = _DONE.findall(text)
        statuses = _STATUS.findall(text)
        if done:
            result.executions = int(done[-1][0])
            result.seconds = max(float(done[-1][1]), 1.0)
        elif statuses:
            result.executions = int(statuses[-1][0])
        result.peak_rss_mib = peak
        if "ERROR: libFuzzer: out-of-memory" in text or "out-of-memory" in text:
            result.oom += 1
        elif "ERROR: libFuzzer: timeout" in text:
            result.hangs += 1
        elif process.returncode != 0:
            result.crashes += 1
    artifacts = sorted((folder / "artifacts").glob("*")) if (folder / "artifacts").exists() else []
    result.reproducers = [str(p) for p in artifacts]
    if process.returncode != 0 and not result.found and not over:
        result.crashes += 1
    if result.found:
        tail = [line for line in text.splitlines() if line.strip()][-12:]
        result.findings.append("\n".join(tail))
    result.peak_rss_mib = max(result.peak_rss_mib, peak)
    if over or result.peak_rss_mib > rss_mib:
        result.oom = max(result.oom, 1)
        result.findings.append(f"peak RSS {result.peak_rss_mib:.0f} MiB > {rss_mib} MiB")
    return result


def _child_peak_rss_mib(pid: int) -> float:
    """VmHWM of a running child: its own peak since exec (not inherited from us)."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def table(results: Sequence[FuzzResult]) -> str:
    head = (
        f"{'target':18} {'engine':8} {'executions':>11} {'exec/s':>8} {'seconds':>8} "
        f"{'peak RSS':>9} {'crashes':>8} {'hangs':>6} {'>RSS':>5}"
    )
    lines = [head, "-" * len(head)]
    for r in results:
        lines.append(
            f"{r.target:18} {r.engine:8} {r.executions:>11,} {r.rate:>8,.0f} {r.seconds:>8.0f} "
            f"{r.peak_rss_mib:>6.0f} MiB {r.crashes:>8} {r.hangs:>6} {r.oom:>5}"
        )
    total = sum(r.executions for r in results)
    lines.append(f"{'total':18} {'':8} {total:>11,}")
    return "\n".join(lines)


def run_all(
    targets: Sequence[str],
    out: Path,
    *,
    engine: str,
    seconds: float,
    runs: int,
    jobs: int,
    rss_mib: int = 256,
    timeout: int = 10,
    progress: bool = True,
    budget: float | None = None,
) -> list[FuzzResult]:
    """Each target for ``seconds`` or ``runs``, ``jobs`` at a time, slowest first. With a
    ``budget`` (seconds for the whole run), a target started late gets only what is left."""
    deadline = time.monotonic() + budget if budget else None

    def one(target: str) -> FuzzResult:
        allowed = seconds
        if deadline is not None:
            allowed = min(seconds, deadline - time.monotonic() - 20)
            if allowed < 5:
                return FuzzResult(target, engine, findings=[], log="not run: out of time")
        result = run_target(
            target,
            out,
            engine=engine,
            seconds=allowed,
            runs=runs,
            rss_mib=rss_mib,
            timeout=timeout,
            seed=1 + TARGET_NAMES.index(target) if target in TARGET_NAMES else 1,
        )
        if progress:
            print(
                f"fuzz {target}: {result.executions:,} executions in {result.seconds:.0f} s, "
                f"{result.found} finding(s)",
                file=sys.stderr,
                flush=True,
            )
        return result

    order = sorted(targets, key=lambda t: SLOW_FIRST.index(t) if t in SLOW_FIRST else -1)
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        done = dict(zip(order, pool.map(one, order), strict=True))
    return [done[t] for t in targets]


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tests.security.fuzz",
        description=__doc__.split("\n\n")[0] if __doc__ else None,
    )
    parser.add_argument("--targets", default=",".join(TARGET_NAMES), help="comma-separated")
    parser.add_argument("--seconds", type=float, default=240, help="per target, at most")
    parser.add_argument(
        "--budget-minutes", type=float, default=None, help="for the whole run, at most"
    )
    parser.add_argument("--runs", type=int, default=1_000_000, help="per target")
    parser.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument("--engine", choices=("auto", "atheris", "mutate"), default="auto")
    parser.add_argument("--rss-mib", type=int, default=256)
    parser.add_argument("--timeout", type=int, default=10, help="seconds for one input")
    parser.add_argument("--out", help="folder for corpora, logs and reproducers")
    parser.add_argument("--json", help="also write the results to this JSON file")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--corpus", help=argparse.SUPPRESS)
    parser.add_argument("--artifacts", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def resolve_engine(engine: str) -> str:
    if engine == "auto":
        return "atheris" if atheris_available() else "mutate"
    return engine


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    engine = resolve_engine(args.engine)
    if args.child:
        return child_atheris(args) if engine == "atheris" else child_mutate(args)
    targets = [t for t in args.targets.split(",") if t]
    unknown = [t for t in targets if t not in (*TARGET_NAMES, PLANTED, PLANTED_MEMORY)]
    if unknown:
        print(f"error: unknown target(s): {', '.join(unknown)}", file=sys.stderr)
        return 2
    out = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="securesubmit-fuzz-"))
    print(
        f"fuzzing {len(targets)} target(s) with {engine}, {args.seconds:.0f} s or "
        f"{args.runs:,} runs each, {args.jobs} at a time; output in {out}",
        file=sys.stderr,
    )
    results = run_all(
        targets,
        out,
        engine=engine,
        seconds=args.seconds,
        runs=args.runs,
        jobs=args.jobs,
        rss_mib=args.rss_mib,
        timeout=args.timeout,
        budget=args.budget_minutes * 60 if args.budget_minutes else None,
    )
    print(table(results))
    for r in results:
        for finding in r.findings:
            print(f"\nFINDING in {r.target}:\n{finding}")
        for path in r.reproducers:
            print(f"  reproducer: {path}")
    if args.json:
        Path(args.json).write_text(json.dumps([asdict(r) for r in results], indent=2))
    return 1 if any(r.found for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
