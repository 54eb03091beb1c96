"""`xlfuncs quote --dask local`: the same partitions on a Dask LocalCluster give the same quotes
and summary, to the last digit, as one process; an address that does not answer stops the run
before the folder is touched."""
import pytest

from helpers import EXAMPLES, cli, summary_rows


def test_a_local_cluster_quotes_the_list_as_one_process_does(tmp_path):
    pytest.importorskip("dask.distributed")
    alone = cli(EXAMPLES, "--out", tmp_path / "alone")
    spread = cli(EXAMPLES, "--out", tmp_path / "spread", "--dask", "local", "--jobs", 2)
    assert alone.returncode == spread.returncode == 0, spread.stderr
    assert summary_rows(tmp_path / "alone") == summary_rows(tmp_path / "spread")
    assert len(summary_rows(tmp_path / "spread")) == 16


def test_an_address_that_does_not_answer_stops_the_run(tmp_path):
    pytest.importorskip("dask.distributed")
    result = cli(EXAMPLES, "--out", tmp_path / "out", "--dask", "tcp://127.0.0.1:9")
    assert result.returncode == 2
    assert "--dask tcp://127.0.0.1:9: the cluster cannot be reached" in result.stderr
    assert not (tmp_path / "out").exists()  # the cluster is reached before the folder is made
