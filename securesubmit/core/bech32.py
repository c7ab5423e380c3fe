"""Bech32 (BIP 173) encoding, as age uses it for recipients and identities.

An encoding with a checksum, not a cryptographic primitive. age strings are longer than
BIP 173's 90-character limit, so that limit is not applied (age does the same).
"""

from __future__ import annotations

from securesubmit.errors import FormatError

_CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_GENERATOR = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)
_MAX_LEN = 1024


def _polymod(values: list[int]) -> int:
    chk = 1
    for value in values:
        top = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ value
        for i in range(5):
            chk ^= _GENERATOR[i] if (top >> i) & 1 else 0
    return chk


def _hrp_expand(hrp: str) -> list[int]:
    return [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]


def _convert_bits(data: bytes | list[int], from_bits: int, to_bits: int, pad: bool) -> list[int]:
    acc = 0
    bits = 0
    out: list[int] = []
    maxv = (1 << to_bits) - 1
    for value in data:
        acc = (acc << from_bits) | value
        bits += from_bits
        while bits >= to_bits:
            bits -= to_bits
            out.append((acc >> bits) & maxv)
    if pad:
        if bits:
            out.append((acc << (to_bits - bits)) & maxv)
    elif bits >= from_bits or ((acc << (to_bits - bits)) & maxv):
        raise FormatError("invalid Bech32 padding")
    return out


def encode(hrp: str, data: bytes) -> str:
    """Encode ``data`` under the lower-case human-readable part ``hrp``."""
    values = _convert_bits(data, 8, 5, pad=True)
    checksum_input = _hrp_expand(hrp) + values + [0] * 6
    polymod = _polymod(checksum_input) ^ 1
    checksum = [(polymod >> 5 * (5 - i)) & 31 for i in range(6)]
    return hrp + "1" + "".join(_CHARSET[v] for v in values + checksum)


def decode(text: str, *, max_length: int = _MAX_LEN) -> tuple[str, bytes]:
    """Decode a Bech32 string into (hrp, data). Mixed case is refused; so is a bad checksum.

    Strings longer than ``max_length`` characters are refused before any work is done;
    an age1pq recipient (a 1,216-byte key) is 1,959 characters, so its parser raises it.
    """
    if len(text) > max_length or not text.isascii():
        raise FormatError("invalid Bech32 string")
    if text.lower() != text and text.upper() != text:
        raise FormatError("invalid Bech32 string: mixed case")
    lowered = text.lower()
    pos = lowered.rfind("1")
    if pos < 1 or pos + 7 > len(lowered):
        raise FormatError("invalid Bech32 string")
    hrp, rest = lowered[:pos], lowered[pos + 1 :]
    if any(ord(c) < 33 or ord(c) > 126 for c in hrp):
        raise FormatError("invalid Bech32 string")
    try:
        values = [_CHARSET.index(c) for c in rest]
    except ValueError:
        raise FormatError("invalid Bech32 string: bad character") from None
    if _polymod(_hrp_expand(hrp) + values) != 1:
        raise FormatError("invalid Bech32 string: bad checksum")
    return hrp, bytes(_convert_bits(values[:-6], 5, 8, pad=False))
