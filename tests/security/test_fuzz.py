"""The fuzz targets and their harness, quickly: `python -m tests.security.fuzz` runs them long.

Every target takes its seed corpus and a few hundred mutations of it without an exception
other than SecureSubmitError; the harness runs a target in a child process and counts its
executions; and a target planted to crash is reported, with its reproducer, so a quiet
fuzz run means something.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from tests.security import fuzz, fuzz_targets, mutate


@pytest.fixture(scope="module")
def targets() -> dict[str, fuzz_targets.FuzzTarget]:
    return fuzz_targets.load()


def test_there_is_a_target_for_every_parser_of_outside_input(
    targets: dict[str, fuzz_targets.FuzzTarget],
) -> None:
    assert tuple(targets) == fuzz.TARGET_NAMES
    for target in targets.values():
        assert target.seeds(), target.name


@pytest.mark.parametrize("name", fuzz.TARGET_NAMES)
def test_seeds_and_mutations_raise_only_our_errors(
    targets: dict[str, fuzz_targets.FuzzTarget], name: str
) -> None:
    target = targets[name]
    seeds = target.seeds()
    rng = random.Random(name)
    for seed in seeds:
        target.run(seed)
    for _kind, mutant in mutate.mutants(seeds, seeds, 150, rng):
        target.run(mutant)


def test_the_re_signing_targets_reach_past_the_signature() -> None:
    """Without re-signing, a fuzzer never gets past a signature check. With the mode byte
    set, a changed manifest (or checkpoint text) is re-signed and accepted; without it,
    the same change is refused as a bad signature."""
    from securesubmit.errors import BadSignature

    raw = fuzz_targets.load(guarded=False)
    empty = (fuzz_targets.VECTORS / "bundle" / "empty.bin").read_bytes()
    changed = empty.replace(b'"bundle_id":"0', b'"bundle_id":"1', 1)
    assert changed != empty
    raw["bundle-container"].run(b"\x01" + changed)
    with pytest.raises(BadSignature):
        raw["bundle-container"].run(b"\x00" + changed)
    body = b"securesubmit/vault/3097e2dee2cb4a34\n9\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n"
    raw["checkpoint"].run(b"\x01" + body)
    note_text = (fuzz_targets.VECTORS / "audit" / "checkpoint.txt").read_bytes()
    with pytest.raises(BadSignature):
        raw["checkpoint"].run(b"\x00" + note_text.replace(b"\n8\n", b"\n9\n", 1))


def test_the_harness_counts_executions_in_a_child(tmp_path: Path) -> None:
    result = fuzz.run_target(
        "identity-card",
        tmp_path,
        engine=fuzz.resolve_engine("auto"),
        seconds=2,
        runs=3000,
        rss_mib=256,
        timeout=10,
    )
    assert result.found == 0, result.findings
    assert 0 < result.executions <= 3000 + 64
    assert 0 < result.peak_rss_mib < 256


@pytest.mark.parametrize("engine", ["mutate", "atheris"])
def test_a_planted_crash_is_found_and_its_reproducer_kept(tmp_path: Path, engine: str) -> None:
    if engine == "atheris" and not fuzz.atheris_available():
        pytest.skip("atheris is not installed (pip install atheris)")
    result = fuzz.run_target(
        fuzz.PLANTED, tmp_path, engine=engine, seconds=5, runs=10_000, rss_mib=256, timeout=10
    )
    assert result.crashes >= 1 and result.findings
    assert any(Path(p).read_bytes().startswith(b"BOOM") for p in result.reproducers)


def test_a_target_that_holds_too_much_memory_is_reported(tmp_path: Path) -> None:
    result = fuzz.run_target(
        fuzz.PLANTED_MEMORY,
        tmp_path,
        engine=fuzz.resolve_engine("auto"),
        seconds=10,
        runs=100,
        rss_mib=200,
        timeout=10,
    )
    assert result.oom == 1 and result.peak_rss_mib > 200, result
