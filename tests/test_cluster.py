"""`grade --dask-scheduler` gives the same results and files as a local run (LocalCluster)."""
import json
import os

import pytest

from autograder import batch, cluster
from autograder.spec import repo_root

pytestmark = pytest.mark.slow


def _strip(result):
    result = json.loads(json.dumps(result))
    result.pop("execution_time", None)
    for t in result["tests"]:
        t["extra_data"].pop("seconds", None)
    return result


def test_local_cluster_matches_local_run(tmp_path):
    from dask.distributed import Client, LocalCluster
    samples = os.path.join(repo_root(), "samples", "01_perceptron")
    local_out, dask_out = tmp_path / "local", tmp_path / "dask"
    local, _ = batch.grade_class("01_perceptron", [samples], str(local_out), jobs=2, quiet=True)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as lc, Client(lc) as client:
        grade_one = cluster.remote_grader(None, "01_perceptron", client=client)
        remote, failures = batch.grade_class("01_perceptron", [samples], str(dask_out), jobs=2, grade_one=grade_one,
                                             quiet=True)
    assert not failures
    assert sorted(os.listdir(local_out)) == sorted(os.listdir(dask_out))
    assert (local_out / "grades.csv").read_text() == (dask_out / "grades.csv").read_text()
    by_student = {r["extra_data"]["student"]: _strip(r) for r in remote}
    for r in local:
        assert _strip(r) == by_student[r["extra_data"]["student"]]
