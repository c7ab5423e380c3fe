"""Safe file-system operations: the only place that writes user-chosen files.

* Files we create are 0600 and directories 0700.
* A file appears under its final name only when complete: temp file in the same
  directory, fsync, rename, fsync of the directory.
* Paths chosen from outside input are checked to stay where they belong.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import secrets
import stat
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import BinaryIO

from securesubmit.errors import Refused

VAULT_SUFFIXES = ("", "-wal", "-shm", "-journal")
STARTED = time.time()
"""About when this process started (when this module was imported)."""
_PART = re.compile(r"\.(?P<final>.+)\.[0-9a-f]{16}\.part")
"""The temporary names atomic_writer and AtomicFiles give: ``.<final name>.<16 hex>.part``."""


def ensure_private_dir(path: Path) -> None:
    """Create ``path`` (and parents) if missing; a directory we create is 0700."""
    path = Path(path)
    if path.is_dir():
        return
    path.mkdir(parents=True, mode=0o700, exist_ok=True)
    os.chmod(path, 0o700)


def total_size(vault_path: Path) -> int:
    """Bytes on disk of a vault file and its SQLite side files."""
    size = 0
    for suffix in VAULT_SUFFIXES:
        with contextlib.suppress(OSError):
            size += os.stat(f"{vault_path}{suffix}").st_size
    return size


def remove_vault_files(vault_path: Path) -> None:
    for suffix in VAULT_SUFFIXES:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(f"{vault_path}{suffix}")


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_writer(final_path: Path, *, overwrite: bool = False) -> Iterator[BinaryIO]:
    """Write a new file that appears under ``final_path`` only if the block succeeds.

    The temporary file has a random name in the same directory, mode 0600, and is
    removed on any failure, so a partial file never carries the final name.
    """
    final_path = Path(final_path)
    directory = final_path.parent if str(final_path.parent) else Path(".")
    if final_path.is_symlink():
        raise Refused(f"refusing to write through a symbolic link: {final_path}")
    if not overwrite and final_path.exists():
        raise Refused(
            f"{final_path} already exists; refusing to overwrite it",
            hint="choose another file name, or remove the existing file first",
        )
    temp = _temp_name(final_path)
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # in use: remove_stale_parts leaves it alone
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        if overwrite:
            os.replace(temp, final_path)
        else:
            # link() fails if the name appeared meanwhile: never clobber a file.
            try:
                os.link(temp, final_path)
            except FileExistsError:
                raise Refused(f"{final_path} already exists; refusing to overwrite it") from None
            os.unlink(temp)
        _fsync_dir(directory)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        raise


def _temp_name(final_path: Path) -> Path:
    directory = final_path.parent if str(final_path.parent) else Path(".")
    return directory / f".{final_path.name}.{secrets.token_hex(8)}.part"


def remove_stale_parts(directory: Path, final_suffixes: tuple[str, ...]) -> list[str]:
    """Remove temporary files that a killed run of ours left in ``directory``: named as
    atomic_writer names them for a final name ending in one of ``final_suffixes``, a regular
    file (not a link) of this user, mode 0600, last changed before this process
    started, and locked by no one (a writer holds an flock while it writes; a killed
    process holds none). Returns the names removed. Removal errors are ignored: this
    tidies, it never stops the export that calls it."""
    removed: list[str] = []
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return removed
    for entry in entries:
        match = _PART.fullmatch(entry.name)
        if match is None or not match["final"].endswith(final_suffixes):
            continue
        with contextlib.suppress(OSError):
            info = entry.stat(follow_symlinks=False)
            if (
                not stat.S_ISREG(info.st_mode)
                or info.st_uid != os.getuid()
                or stat.S_IMODE(info.st_mode) != 0o600
                or info.st_mtime >= STARTED
            ):
                continue
            fd = os.open(entry.path, os.O_RDONLY | os.O_NOFOLLOW)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # BlockingIOError: in use
                if os.fstat(fd).st_ino == info.st_ino:
                    os.unlink(entry.path)
                    removed.append(entry.name)
            finally:
                os.close(fd)
    return removed


class AtomicFiles:
    """Several new files that appear under their final names together, or not at all.

    Each is written under a temporary name beside its final one (as atomic_writer
    does); ``commit`` gives them their final names only when every one was written, and
    any failure before or during it removes every temporary file and every final name
    it already gave. Use as a context manager: leaving it without a commit discards.
    """

    def __init__(self, final_paths: Sequence[Path]) -> None:
        self.finals = [Path(p) for p in final_paths]
        self._temps: dict[int, Path] = {}
        self._linked: list[Path] = []
        if len({os.path.normcase(os.path.abspath(p)) for p in self.finals}) != len(self.finals):
            raise Refused("two of the files to write have the same name; nothing was written")
        for final in self.finals:
            if final.is_symlink():
                raise Refused(f"refusing to write through a symbolic link: {final}")
            if final.exists():
                raise Refused(
                    f"{final} already exists; refusing to overwrite it (nothing was written)",
                    hint="choose another folder, or remove the existing file first",
                )

    @contextlib.contextmanager
    def open(self, index: int) -> Iterator[BinaryIO]:
        """Write file ``index`` (under its temporary name); flushed and synced at the end."""
        if index in self._temps:
            raise ValueError("each file is written once")
        temp = _temp_name(self.finals[index])
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        self._temps[index] = temp
        with os.fdopen(fd, "wb") as handle:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield handle
            handle.flush()
            os.fsync(handle.fileno())

    def commit(self) -> list[Path]:
        """Give every file its final name (never clobbering one that appeared meanwhile)."""
        if sorted(self._temps) != list(range(len(self.finals))):
            raise ValueError("not every file was written")
        try:
            for index, final in enumerate(self.finals):
                try:
                    os.link(self._temps[index], final)
                except FileExistsError:
                    raise Refused(
                        f"{final} already exists; refusing to overwrite it (nothing was written)"
                    ) from None
                self._linked.append(final)
            self.discard(keep_final=True)
            for directory in {final.parent for final in self.finals}:
                _fsync_dir(directory if str(directory) else Path("."))
        except BaseException:
            self.discard()
            raise
        return list(self.finals)

    def discard(self, *, keep_final: bool = False) -> None:
        """Remove every temporary file, and (unless ``keep_final``) every final name given."""
        for temp in self._temps.values():
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp)
        self._temps.clear()
        if not keep_final:
            for final in self._linked:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(final)
        self._linked.clear()

    def __enter__(self) -> AtomicFiles:
        return self

    def __exit__(self, *exc: object) -> None:
        self.discard()  # after a commit there is nothing left to remove


def write_file_atomic(final_path: Path, data: bytes, *, overwrite: bool = False) -> None:
    with atomic_writer(final_path, overwrite=overwrite) as handle:
        handle.write(data)


def read_limited(path: Path, limit: int, what: str) -> bytes:
    """Read a small outside file, refusing anything larger than ``limit`` bytes."""
    from securesubmit.errors import FormatError, NotFound

    try:
        with open(path, "rb") as handle:
            data = handle.read(limit + 1)
    except FileNotFoundError:
        raise NotFound(f"{what} not found: {path}") from None
    except IsADirectoryError:
        raise NotFound(f"{what} is a directory, not a file: {path}") from None
    except PermissionError:
        raise NotFound(f"{what} cannot be read (permission denied): {path}") from None
    if len(data) > limit:
        raise FormatError(f"{what} is too large (over {limit} bytes): {path}")
    return data


def safe_child(directory: Path, name: str) -> Path:
    """``directory/name`` for a name from outside input, refusing any path trick."""
    if (
        not name
        or name in (".", "..")
        or "/" in name
        or "\\" in name
        or "\x00" in name
        or name != name.strip()
    ):
        raise Refused(f"refusing an unsafe file name: {name!r}")
    candidate = (Path(directory) / name).resolve(strict=False)
    if candidate.parent != Path(directory).resolve(strict=False):
        raise Refused(f"refusing an unsafe file name: {name!r}")
    return candidate
