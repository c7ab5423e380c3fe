"""Safe file-system operations: the only place that writes user-chosen files.

* Files we create are 0600 and directories 0700.
* A file appears under its final name only when complete: temp file in the same
  directory, fsync, rename, fsync of the directory.
* Paths chosen from outside input are checked to stay where they belong.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from securesubmit.errors import Refused

VAULT_SUFFIXES = ("", "-wal", "-shm", "-journal")


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
    temp = directory / f".{final_path.name}.{secrets.token_hex(8)}.part"
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    try:
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
