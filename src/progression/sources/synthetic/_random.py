"""Reproducible random numbers: named streams and counter-based (keyed) uniforms.

Every module draws from its own named stream, so changing one part of the generator does not move
the draws of another. The multi-state simulation draws *keyed* uniforms instead: the k-th draw of a
person depends only on (seed, stream, person, k), not on the order in which persons are processed.
That makes the simulation of a subset (the counterfactual paths of intervention participants)
reproduce the same draws as the full run (common random numbers).
"""

from __future__ import annotations

import zlib

import numpy as np

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MUL1 = np.uint64(0xBF58476D1CE4E5B9)
_MUL2 = np.uint64(0x94D049BB133111EB)
_KEY2 = np.uint64(0xD1B54A32D192ED03)


def stream_id(name: str) -> int:
    """A stable 32-bit id of a stream name (CRC-32)."""
    return zlib.crc32(name.encode("utf-8"))


def generator(seed: int, name: str) -> np.random.Generator:
    """A numpy Generator for the named stream of ``seed``."""
    return np.random.default_rng(np.random.SeedSequence([int(seed), stream_id(name)]))


def _splitmix64(x: np.ndarray) -> np.ndarray:
    """The SplitMix64 finaliser (Steele, Lea & Flood 2014) applied elementwise to uint64."""
    x = x + _GOLDEN
    x = (x ^ (x >> np.uint64(30))) * _MUL1
    x = (x ^ (x >> np.uint64(27))) * _MUL2
    return x ^ (x >> np.uint64(31))


def keyed_uniform(seed: int, name: str, keys: np.ndarray, counter: np.ndarray | int, slot: int = 0) -> np.ndarray:
    """Uniforms on (0, 1) that are a pure function of (seed, stream, key, counter, slot).

    Parameters
    ----------
    seed : int
        Master seed.
    name : str
        Stream name.
    keys : ndarray of int
        One key per draw (e.g. a person index).
    counter : ndarray of int or int
        Draw number per key (e.g. the person's event count).
    slot : int, default=0
        Separates several draws made at the same (key, counter).

    Returns
    -------
    ndarray of float64
        Uniforms strictly inside (0, 1), 53-bit resolution.
    """
    with np.errstate(over="ignore"):
        base = np.array([int(seed) & 0xFFFFFFFFFFFFFFFF], dtype=np.uint64)
        for part in (stream_id(name), int(slot)):
            base = _splitmix64(base ^ np.uint64(part))
        k = np.asarray(keys).astype(np.uint64)
        c = np.asarray(counter).astype(np.uint64)
        x = _splitmix64(_splitmix64(k ^ base) + c * _KEY2)
    return ((x >> np.uint64(11)).astype(np.float64) + 0.5) * (1.0 / 9007199254740992.0)
