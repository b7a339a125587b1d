"""Independent, reproducible random streams: one per part of the generator, all derived from the user's seed.

Each part (terrain, buildings, clouds of one date...) draws from its own stream, so that changing how one
part draws leaves every other part's output unchanged.
"""

from __future__ import annotations

import numpy as np

__all__ = ["stream"]


def stream(seed: int, name: str, salt: int = 0) -> np.random.Generator:
    """The random generator of one part of the generator.

    Parameters
    ----------
    seed
        The user's seed.
    name
        Which part draws from it (``"terrain"``, ``"s2-date"``...).
    salt
        Extra integer (a date index...).
    """
    key = sum(ord(ch) * 131**i for i, ch in enumerate(name)) % (2**31)
    return np.random.default_rng(np.random.SeedSequence([int(seed) & 0xFFFFFFFF, key, int(salt)]))
