"""Grading across machines with dask.distributed: the same grade_file, run on the cluster's
workers, the same result files written here. Each worker still runs every submission in its own
sandboxed child, so student code never touches the dask worker process. Submissions travel as
file contents, so the workers need no shared filesystem; results come back as plain dicts (the
result's JSON view, as_json(), made by our code on the worker — never anything from the child) and
are read back here with SubmissionResult.from_json, as a stored result is.
Every task carries the fingerprint of the grading machine's harness and assignment (code, spec,
references, template, data files): a worker with another version refuses it rather than grade
with other cases, references or data.

LoopbackCluster starts a real cluster (scheduler and worker processes) on this machine, for the
tests and benchmarks/bench_cluster.py.
"""
import os
import shutil
import tempfile

_FINGERPRINTS = {}


def package_fingerprint(assignment):
    """What a worker must have to grade `assignment` as this machine would: the harness's version
    (results.harness_fingerprint: package version and a hash of its sources) and the assignment's
    (results.assignment_fingerprint: spec, references, template, data files), the same values a
    result records in extra_data.fingerprint. Computed once per process and assignment."""
    if assignment not in _FINGERPRINTS:
        from . import results
        _FINGERPRINTS[assignment] = f"{results.harness_fingerprint()}/{results.assignment_fingerprint(assignment)}"
    return _FINGERPRINTS[assignment]


def _grade_remote(filename, payload, assignment, timeout, lang, student, fingerprint=None, result_fingerprint=None):
    """On a worker: grade the payload; returns the result's JSON (plain data). fingerprint: the
    grading machine's package_fingerprint (refused when this worker's differs); result_fingerprint:
    the run's fingerprint of this submission, recorded in the result."""
    if fingerprint is not None and fingerprint != package_fingerprint(assignment):
        import socket
        raise RuntimeError(f"the dask worker on {socket.gethostname()} has another autograder package than the "
                           f"grading machine (harness/{assignment} {package_fingerprint(assignment)}, expected "
                           f"{fingerprint}): install the same version, references and data on every worker")
    from autograder import grading
    folder = tempfile.mkdtemp(prefix="autograder-dask-")
    try:
        path = os.path.join(folder, filename)
        with open(path, "wb") as fh:
            fh.write(payload)
        return grading.grade_file(path, assignment=assignment, include_hidden=True, lang=lang, timeout=timeout,
                                  student=student, warm=True,  # a worker grades many: share one compilation
                                  fingerprint=result_fingerprint).as_json()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def remote_grader(address, assignment, timeout=None, lang="en", client=None):
    """A grade_one(student, path, fingerprint) for batch.grade_class that runs on a dask cluster (the
    scheduler at address, or the given client); its .client is the dask Client it submits to."""
    from dask.distributed import Client
    from .outcome import SubmissionResult
    from .submission import find_file
    client = client or Client(address)
    package = package_fingerprint(assignment)

    def grade_one(student, path, fingerprint=None):
        try:
            file_path = find_file(path)
            with open(file_path, "rb") as fh:
                payload = fh.read()
            filename = os.path.basename(file_path)
        except Exception:  # noqa: BLE001 - unreadable here: let the local grader write the reason
            from . import grading
            return grading.grade_file(path, assignment=assignment, lang=lang, timeout=timeout, student=student,
                                      fingerprint=fingerprint)
        future = client.submit(_grade_remote, filename, payload, assignment, timeout, lang, student, package,
                               fingerprint, pure=False)
        return SubmissionResult.from_json(future.result())

    grade_one.client = client  # for a caller that wants to close it
    return grade_one


def worker_info(dask_worker):
    """For client.run: what a worker process is (its package, interpreter, cores) and how many tasks
    it has run. Lives here so that the workers can import it by name."""
    import sys
    import autograder
    return {"executed": dask_worker.state.executed_count, "package": os.path.dirname(os.path.abspath(autograder.__file__)),
            "python": sys.executable, "cpus": sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None}


class LoopbackCluster:
    """A real dask cluster on this machine, for tests and benchmarks: one `dask scheduler` process
    and `workers` `dask worker` processes (the CLI entry points next to `python`), all on 127.0.0.1,
    the scheduler on a port the system picks, no dashboard, no nanny, `nthreads` threads each;
    cpus=[[0], [1]] pins worker i to those cores with `taskset -c`. Each process runs in its own
    session and is stopped with its process group (SIGTERM, then SIGKILL) on close; the scheduler
    closes itself after `idle_timeout` s without work and the workers after losing it for 60 s,
    should anything outlive us.

        with LoopbackCluster(directory, workers=2) as lc:
            ... autograder grade ... --dask-scheduler lc.address
    """

    def __init__(self, directory, workers=2, nthreads=1, cpus=None, python=None, start_timeout=120,
                 idle_timeout=900):
        import sys
        self.directory = directory
        self.workers = workers
        self.nthreads = nthreads
        self.cpus = cpus
        self.bin = os.path.dirname(python or sys.executable)
        self.start_timeout = start_timeout
        self.idle_timeout = idle_timeout
        self.address = None
        self.procs = []

    def _spawn(self, name, cmd):
        import subprocess
        log = open(os.path.join(self.directory, f"{name}.log"), "wb")
        try:
            proc = subprocess.Popen(cmd, cwd=self.directory, stdin=subprocess.DEVNULL, stdout=log,
                                    stderr=subprocess.STDOUT, start_new_session=True)
        finally:
            log.close()
        proc.name = name
        self.procs.append(proc)
        return proc

    def _check_alive(self):
        for proc in self.procs:
            if proc.poll() is not None:
                with open(os.path.join(self.directory, f"{proc.name}.log"), encoding="utf-8", errors="replace") as fh:
                    tail = fh.read()[-3000:]
                raise RuntimeError(f"{proc.name} exited with {proc.returncode}:\n{tail}")

    def start(self):
        import json
        import time
        os.makedirs(self.directory, exist_ok=True)
        dask = os.path.join(self.bin, "dask")
        scheduler_file = os.path.join(self.directory, "scheduler.json")
        deadline = time.monotonic() + self.start_timeout
        try:
            self._spawn("scheduler", [dask, "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                                      "--dashboard-address", "127.0.0.1:0", "--scheduler-file", scheduler_file,
                                      "--idle-timeout", str(self.idle_timeout)])
            while self.address is None:
                self._check_alive()
                if time.monotonic() > deadline:
                    raise TimeoutError(f"the dask scheduler did not start within {self.start_timeout} s")
                try:
                    with open(scheduler_file, encoding="utf-8") as fh:
                        self.address = json.load(fh)["address"]
                except (OSError, ValueError, KeyError):
                    time.sleep(0.1)
            for i in range(self.workers):
                cmd = [dask, "worker", self.address, "--name", f"worker-{i}", "--nthreads", str(self.nthreads),
                       "--no-nanny", "--host", "127.0.0.1", "--no-dashboard", "--dashboard-address", "127.0.0.1:0",
                       "--memory-limit", "0", "--death-timeout", "60",
                       "--local-directory", os.path.join(self.directory, f"worker-{i}")]
                if self.cpus is not None:
                    taskset = shutil.which("taskset")
                    if taskset is None:
                        raise RuntimeError("pinning workers to cores needs taskset (util-linux)")
                    cmd = [taskset, "-c", ",".join(str(c) for c in self.cpus[i])] + cmd
                self._spawn(f"worker-{i}", cmd)
            from dask.distributed import Client
            with Client(self.address, timeout=max(1.0, deadline - time.monotonic())) as client:
                while len(client.scheduler_info(n_workers=-1)["workers"]) < self.workers:
                    self._check_alive()
                    if time.monotonic() > deadline:
                        raise TimeoutError(f"{self.workers} dask workers did not join within {self.start_timeout} s")
                    time.sleep(0.1)
        except BaseException:
            self.close()
            raise
        return self

    def info(self):
        """worker_info of every worker, by worker name."""
        from dask.distributed import Client
        with Client(self.address, timeout=30) as client:
            by_address = client.run(worker_info)
            names = {a: w.get("name") for a, w in client.scheduler_info(n_workers=-1)["workers"].items()}
        return {names.get(a, a): v for a, v in by_address.items()}

    def close(self):
        import signal
        import subprocess
        for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 10)):
            for proc in reversed(self.procs):  # workers first, then the scheduler
                if proc.poll() is None:
                    try:
                        os.killpg(proc.pid, sig)
                    except ProcessLookupError:
                        pass
            for proc in self.procs:
                try:
                    proc.wait(wait)
                except subprocess.TimeoutExpired:
                    pass
        self.procs = [p for p in self.procs if p.poll() is None]

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.close()
