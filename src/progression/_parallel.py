"""Resampling and simulation in chunks that give the same numbers on one core, many, or a Dask cluster.

Work of ``n`` replicates is cut into chunks of a fixed size; chunk ``c`` draws from the named random
stream ``"<name>.<c>"`` of the run seed (:func:`progression._tidy.stream_seed`). Neither the number of
workers nor the backend changes the chunks or their streams, so the results are identical whatever
``n_jobs`` or backend. The chunks run through joblib, so they go wherever joblib's active backend sends
them: local processes by default, a Dask cluster inside ``joblib.parallel_config(backend="dask")``
(:func:`configure`, :func:`use_backend`).

Examples
--------
>>> import numpy as np
>>> def means(size, seed):
...     return np.random.default_rng(seed).normal(size=(size, 3)).mean(axis=1)
>>> a = np.concatenate(map_chunks(means, 1000, seed=1, name="example", chunk_size=250, n_jobs=1))
>>> b = np.concatenate(map_chunks(means, 1000, seed=1, name="example", chunk_size=250, n_jobs=2))
>>> bool((a == b).all()), a.shape
(True, (1000,))
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

from joblib import Parallel, delayed, parallel_config

from progression._tidy import stream_seed
from progression._validation import check_choice, check_positive_int

__all__ = ["chunk_sizes", "map_chunks", "configure", "use_backend", "BACKENDS"]

BACKENDS = ("loky", "threading", "dask")


def chunk_sizes(n: int, chunk_size: int) -> list[int]:
    """Sizes of the chunks ``n`` items are cut into (all ``chunk_size`` but the last).

    Parameters
    ----------
    n : int
        Items in all (≥ 0).
    chunk_size : int
        Items per chunk (≥ 1).

    Returns
    -------
    list of int

    Raises
    ------
    ParameterError
        When ``n`` is negative or ``chunk_size`` not positive.

    Examples
    --------
    >>> chunk_sizes(10, 4)
    [4, 4, 2]
    """
    check_positive_int(n, name="n", minimum=0)
    check_positive_int(chunk_size, name="chunk_size")
    return [min(chunk_size, n - start) for start in range(0, n, chunk_size)]


def map_chunks(function: Callable, n: int, *, seed: int, name: str, chunk_size: int = 250, n_jobs: int = 1,
               args: tuple = (), kwargs: dict | None = None) -> list:
    """Run ``function(size, seed, *args, **kwargs)`` on each chunk of ``n`` replicates, in chunk order.

    Parameters
    ----------
    function : callable
        Called once per chunk with the chunk's size and its integer seed; must be importable (picklable)
        for process and Dask backends.
    n : int
        Replicates in all.
    seed : int
        The run seed; chunk ``c`` uses the named stream ``"<name>.<c>"``.
    name : str
        Name of the random stream, e.g. ``"fund.simulation"``.
    chunk_size : int, default 250
        Replicates per chunk: fixes the chunks, so the results do not depend on ``n_jobs``.
    n_jobs : int, default 1
        Parallel workers (joblib); -1 = all cores. Ignored by the Dask backend's scheduling, not by the result.

    Returns
    -------
    list
        The chunks' results, in chunk order.

    Examples
    --------
    >>> def total(size, seed):
    ...     return size
    >>> map_chunks(total, 600, seed=1, name="example", chunk_size=250)
    [250, 250, 100]
    """
    kwargs = kwargs or {}
    sizes = chunk_sizes(n, chunk_size)
    seeds = [stream_seed(seed, f"{name}.{c}") for c in range(len(sizes))]
    return _run(function, sizes, seeds, n_jobs, args, kwargs)


_ACTIVE: dict = {"backend": None, "client": None}


def configure(backend: str | None = None, *, scheduler: str | None = None) -> None:
    """Send every later :func:`map_chunks` of this process to ``backend`` (None: joblib's default).

    ``backend="dask"`` connects a ``distributed.Client`` to ``scheduler`` (an address such as
    ``tcp://10.0.0.5:8786``), or to a local in-process cluster when no address is given. The run
    context calls this with ``run.backend`` and ``run.scheduler`` when a notebook opens it.

    Parameters
    ----------
    backend : {"loky", "threading", "dask"} or None, default None
        The joblib backend; None returns to joblib's default (and closes a Dask client).
    scheduler : str, optional
        Address of a Dask scheduler; only with ``backend="dask"``.

    Raises
    ------
    ParameterError
        When ``backend`` is not one of :data:`BACKENDS`.

    Examples
    --------
    >>> configure("threading")
    >>> map_chunks(lambda size, seed: size, 5, seed=1, name="x", chunk_size=2)
    [2, 2, 1]
    >>> configure(None)
    """
    if backend is not None:
        check_choice(backend, BACKENDS, name="backend")
    old = _ACTIVE["client"]
    if old is not None and (backend != "dask" or getattr(old, "_progression_address", None) != scheduler):
        old.close()
        _ACTIVE["client"] = None
    if backend == "dask" and _ACTIVE["client"] is None:
        from distributed import Client

        client = Client(scheduler) if scheduler else Client(processes=False, dashboard_address=None)
        client._progression_address = scheduler
        _ACTIVE["client"] = client
    _ACTIVE["backend"] = backend


def _run(function, sizes, seeds, n_jobs, args, kwargs):
    backend = _ACTIVE["backend"]
    if backend is None and n_jobs == 1:
        return [function(size, s, *args, **kwargs) for size, s in zip(sizes, seeds)]
    tasks = (delayed(function)(size, s, *args, **kwargs) for size, s in zip(sizes, seeds))
    if backend is None:
        return Parallel(n_jobs=n_jobs)(tasks)
    with parallel_config(backend=backend, n_jobs=-1 if n_jobs == 1 else n_jobs):
        return Parallel()(tasks)


@contextlib.contextmanager
def use_backend(backend: str | None, *, scheduler: str | None = None) -> Iterator[None]:
    """:func:`configure` for the duration of a ``with`` block.

    Parameters
    ----------
    backend : {"loky", "threading", "dask"} or None
    scheduler : str, optional
        Address of a Dask scheduler.

    Yields
    ------
    None
        After the block the backend active before it is configured again, by name only: a Dask
        scheduler address given before is not restored (a local cluster is started instead).

    Examples
    --------
    >>> with use_backend("threading"):
    ...     parts = map_chunks(lambda size, seed: size, 10, seed=1, name="x", chunk_size=4)
    >>> parts
    [4, 4, 2]
    """
    previous = _ACTIVE["backend"]
    configure(backend, scheduler=scheduler)
    try:
        yield
    finally:
        configure(previous)
