"""`autograder grade --dask-scheduler` on a real cluster gives the same result files as a local run.

The cluster is real processes, not LocalCluster: a `dask scheduler` and two `dask worker`s (the
venv's CLI entry points, --nthreads 1, no nanny, no dashboard) on 127.0.0.1, the scheduler on a
port the system picks (cluster.LoopbackCluster, stopped with its process groups by the fixture).
The grading command is the real CLI run as a subprocess, once locally and once on the cluster.
"""
import json
import os
import shutil
import subprocess
import sys

import pytest

from autograder import cluster
from autograder.spec import repo_root

ROOT = repo_root()
CLI_TIMEOUT = 300
TIMED_FILES = {"report.html"}  # a view of the result files that draws each student's grading time


def _strip(result):
    """A result without its timing fields."""
    result = json.loads(json.dumps(result))
    result.pop("execution_time", None)
    for t in result["tests"]:
        t["extra_data"].pop("seconds", None)
    return result


def _grade(klass, out, *extra):
    cmd = [sys.executable, "-m", "autograder", "grade", "01_perceptron", str(klass), "--out", str(out), "-j", "2", *extra]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=CLI_TIMEOUT,
                          env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    return proc


def _files(out):
    """Every file of an output folder: JSON without its timing fields, the others as text."""
    found = {}
    for name in sorted(os.listdir(out)):
        with open(os.path.join(out, name), encoding="utf-8") as fh:
            found[name] = _strip(json.load(fh)) if name.endswith(".json") else fh.read()
    return found


@pytest.fixture
def loopback_cluster(tmp_path):
    lc = cluster.LoopbackCluster(str(tmp_path / "cluster"), workers=2, nthreads=1)
    lc.start()  # stops what it started if it fails
    yield lc
    lc.close()
    assert not lc.procs, "a dask process outlived SIGKILL"


@pytest.mark.slow
def test_real_cluster_matches_local_run(tmp_path, loopback_cluster):
    # the sample class (correct, partly wrong, untouched, unreadable), plus a student folder
    # without a notebook: read here, so the cluster route grades it locally (remote_grader's fallback)
    klass = tmp_path / "class"
    shutil.copytree(os.path.join(ROOT, "samples", "01_perceptron"), klass)
    (klass / "erin").mkdir()
    students = {"alice", "bob", "chloe", "dan", "erin"}

    before = loopback_cluster.info()
    assert set(before) == {"worker-0", "worker-1"}
    for info in before.values():  # the workers run this checkout's package with this interpreter
        assert info["package"] == os.path.join(ROOT, "autograder")
        assert os.path.realpath(os.path.dirname(info["python"])) == os.path.realpath(os.path.dirname(sys.executable))
        assert info["executed"] == 0

    local, remote = tmp_path / "local", tmp_path / "dask"
    _grade(klass, local)
    _grade(klass, remote, "--dask-scheduler", loopback_cluster.address)

    after = loopback_cluster.info()
    executed = {name: info["executed"] for name, info in after.items()}
    assert sum(executed.values()) == len(students) - 1, executed  # erin's folder never left this machine
    assert all(n > 0 for n in executed.values()), executed  # two in flight at once, two idle workers

    local_files, remote_files = _files(local), _files(remote)
    assert set(local_files) >= {f"{s}.json" for s in students} | {f"{s}.feedback.md" for s in students} | {"grades.csv"}
    assert sorted(remote_files) == sorted(local_files)
    for name in local_files:
        if name not in TIMED_FILES:
            assert remote_files[name] == local_files[name], name
    scores = {s: local_files[f"{s}.json"]["score"] for s in students}
    assert scores["alice"] == local_files["alice.json"]["max_score"] and scores["chloe"] == 0  # a real grading
    assert local_files["erin.json"]["extra_data"]["status"] != "graded"


def test_worker_with_another_package_refuses_the_task():
    submission = open(os.path.join(ROOT, "samples", "01_perceptron", "alice.ipynb"), "rb").read()
    ours = cluster.package_fingerprint("01_perceptron")
    harness, assignment = ours.split("/")
    for other in (f"{harness}x/{assignment}", f"{harness}/{assignment[:-1]}0"):
        assert other != ours
        with pytest.raises(RuntimeError, match="another autograder package"):
            cluster._grade_remote("alice.ipynb", submission, "01_perceptron", None, "en", "alice", other)


def test_fingerprint_is_the_results_one():
    """What a task carries is what a result records (harness and assignment), per assignment."""
    from autograder import results
    assert cluster.package_fingerprint("01_perceptron") == \
        f"{results.harness_fingerprint()}/{results.assignment_fingerprint('01_perceptron')}"
    assert cluster.package_fingerprint("01_perceptron") != cluster.package_fingerprint("03_backprop")
