"""Resampling and simulation give the same numbers on one core, two, threads, or a Dask cluster."""

from __future__ import annotations

import numpy as np
import pytest

from progression._parallel import chunk_sizes, configure, map_chunks, use_backend


def draws(size: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=size)


def run(**kw) -> np.ndarray:
    return np.concatenate(map_chunks(draws, 1_003, seed=20240101, name="test.draws", chunk_size=100, **kw))


def test_chunks_do_not_depend_on_the_number_of_workers():
    serial = run(n_jobs=1)
    assert serial.shape == (1_003,) and chunk_sizes(1_003, 100)[-1] == 3
    assert np.array_equal(serial, run(n_jobs=2))
    with use_backend("threading"):
        assert np.array_equal(serial, run(n_jobs=2))


def test_streams_are_named_so_another_name_gives_other_numbers():
    a = map_chunks(draws, 10, seed=1, name="a", chunk_size=10)[0]
    b = map_chunks(draws, 10, seed=1, name="b", chunk_size=10)[0]
    assert not np.array_equal(a, b)


def test_a_dask_cluster_gives_the_serial_numbers():
    distributed = pytest.importorskip("distributed")
    serial = run(n_jobs=1)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as cluster:
        with use_backend("dask", scheduler=cluster.scheduler_address):
            assert np.array_equal(serial, run(n_jobs=2))
    configure(None)


@pytest.mark.notebooks
def test_a_chain_on_a_dask_cluster_gives_the_serial_results(tmp_path):
    distributed = pytest.importorskip("distributed")
    from test_runner import CELLS, SPEC, results, write_chain

    from progression.chain.runner import run_chain

    cells = {**CELLS, "20_c": "import numpy as np\n"
                              "from progression._parallel import map_chunks\n"
                              "def draws(size, seed):\n"
                              "    return np.random.default_rng(seed).normal(size=size)\n"
                              "x = np.concatenate(map_chunks(draws, 1_000, seed=ctx.params.run.seed, name='c', "
                              "chunk_size=100, n_jobs=2))\n"
                              "a = ctx.result('a_counts')\n"
                              "ctx.write_json('c_numbers', {'mean': float(x.mean()), 'rows': len(a)}, safe=['mean'], "
                              "labels=['rows'])\n"}
    spec = {**SPEC, "20_c": {**SPEC["20_c"], "params": ["run", "disclosure", "report"]}}
    notebooks = write_chain(tmp_path / "notebooks", cells=cells, spec=spec)
    serial = tmp_path / "serial.yaml"
    serial.write_text(f"run: {{name: t, output_dir: {tmp_path / 'runs'}}}\n")
    first = run_chain(serial, notebooks=notebooks, progress=False)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False, protocol="tcp",
                                  dashboard_address=None) as cluster:  # reachable from the notebooks' kernels
        dask = tmp_path / "dask.yaml"
        dask.write_text(f"run: {{name: t, output_dir: {tmp_path / 'runs'}, backend: dask, "
                        f"scheduler: '{cluster.scheduler_address}'}}\n")
        second = run_chain(dask, notebooks=notebooks, progress=False)
    assert results(first.run_dir) == results(second.run_dir)
    assert (first.run_dir / "results" / "c_numbers.json").read_text() == \
        (second.run_dir / "results" / "c_numbers.json").read_text()
