"""One error hierarchy for every failure a user can cause.

Each class's docstring is written for the user: what happened, then what to do.
The CLI and the TUI print ``str(error)`` (and ``error.hint`` when set) and exit with
``error.exit_code``; they never show a traceback for these. Anything that is not a
``SecureSubmitError`` is a bug and is reported as one (with secrets scrubbed).

Exit codes (documented in README.md and docs/cli.md):

==== =====================================================
0    success
1    a user error (bad input, not found, refused operation)
2    the command line was wrong (usage)
3    wrong passphrase
4    the vault is in use by another process
5    verification failed: something was forged or altered
6    the file is unreadable: corrupt, truncated or not ours
7    the vault's keys were destroyed (panic or too many failed unlocks)
==== =====================================================
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_USER = 1
EXIT_USAGE = 2
EXIT_WRONG_PASSPHRASE = 3
EXIT_IN_USE = 4
EXIT_TAMPERED = 5
EXIT_UNREADABLE = 6
EXIT_DESTROYED = 7


class SecureSubmitError(Exception):
    """Something went wrong."""

    exit_code = EXIT_USER
    hint: str | None = None

    def __init__(self, message: str | None = None, *, hint: str | None = None) -> None:
        text = message if message is not None else _first_line(type(self).__doc__)
        super().__init__(text)
        if hint is not None:
            self.hint = hint


def _first_line(doc: str | None) -> str:
    return (doc or "error").strip().splitlines()[0]


class UsageError(SecureSubmitError):
    """The command line was not understood."""

    exit_code = EXIT_USAGE
    hint = "run the command with --help to see how it is used"


class InputError(SecureSubmitError):
    """A value you gave is not valid."""


class NotFound(SecureSubmitError):
    """The item you asked for does not exist."""


class Refused(SecureSubmitError):
    """The operation was refused."""


# --- vault --------------------------------------------------------------------


class VaultNotFound(SecureSubmitError):
    """No vault exists at this location."""

    hint = "create one with 'securesubmit init', or point --vault at an existing vault"


class VaultExists(SecureSubmitError):
    """A vault already exists at this location."""

    hint = "choose another path with --vault, or use the existing vault"


class WrongPassphrase(SecureSubmitError):
    """The passphrase is wrong."""

    exit_code = EXIT_WRONG_PASSPHRASE
    attempts_left: int | None = None


class VaultInUse(SecureSubmitError):
    """The vault is in use by another SecureSubmit process."""

    exit_code = EXIT_IN_USE
    hint = "close the other window or command that has this vault open, then try again"


class VaultDestroyed(SecureSubmitError):
    """This vault's keys were destroyed; its contents can never be read again."""

    exit_code = EXIT_DESTROYED
    hint = "the keys were wiped by 'panic' or after too many wrong passphrases"


class VaultCorrupt(SecureSubmitError):
    """The vault file is damaged or is not a SecureSubmit vault."""

    exit_code = EXIT_UNREADABLE
    hint = "restore the vault from a backup; run 'securesubmit audit verify' to see what changed"


class NewerSchema(SecureSubmitError):
    """This vault was written by a newer version of SecureSubmit."""

    exit_code = EXIT_UNREADABLE
    hint = "install the newest version of SecureSubmit to open it"


# --- verification -------------------------------------------------------------


class VerificationError(SecureSubmitError):
    """Verification failed: the data was altered, forged or damaged."""

    exit_code = EXIT_TAMPERED


class DecryptionFailed(VerificationError):
    """Decryption failed: the data was altered or the key is wrong."""


class BadSignature(VerificationError):
    """A signature does not verify: the data was altered or not signed by this key."""


class WeakKey(VerificationError):
    """A public key was refused because it is weak (small order or not canonical)."""


class FormatError(SecureSubmitError):
    """A file is malformed and was refused; nothing was changed."""

    exit_code = EXIT_UNREADABLE
