"""How long a student waits for a check, in one run: the whole `autograder check` of 03 against one
Keras question's `check` of 05, cold (AUTOGRADER_CHECK_SERVER_IDLE=0: the command starts its own
sandbox) and answered by the warm check server that the first check leaves behind
(autograder/check_server.py), and the check cells of the 05 notebook executed in one Jupyter kernel
(nbclient), where the Keras checks share the kernel's warm sandbox.

    python benchmarks/bench_check.py [--repeat 3] [--question train_model]

Prints the median of each command and the ratio to 03's whole check, then each check cell's time
in the kernel (the first Keras check waits for the warm sandbox; the later ones reuse it). The
server runs in a runtime folder of the benchmark's own and is stopped at the end.
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.dirname(sys.executable)
sys.path.insert(0, ROOT)


def _timed(cmd, env=None):
    started = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env=env)
    seconds = time.perf_counter() - started
    if proc.returncode not in (0, 1):
        raise SystemExit(f"failed ({proc.returncode}): {' '.join(cmd)}\n{proc.stderr[-2000:]}")
    return seconds


def _kernel_checks(notebook):
    """Each code cell's wall time when the notebook runs top to bottom in one kernel."""
    from nbclient import NotebookClient
    from autograder.submission import import_nbformat
    nb = import_nbformat().read(notebook, as_version=4)
    client = NotebookClient(nb, timeout=900, kernel_name="python3",
                            resources={"metadata": {"path": os.path.dirname(notebook)}})
    times = []
    with client.setup_kernel():
        for i, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            started = time.perf_counter()
            client.execute_cell(cell, i)
            last = cell.source.strip().splitlines()[-1] if cell.source.strip() else ""
            times.append((last, time.perf_counter() - started))
    return times


def _served(cmd, env, repeat):
    """The times of `repeat` checks answered by the server the previous check started (waits until it
    answers, and lets it answer one untimed check while its sandbox finishes warming up), then stops it."""
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)  # check_server computes the server's key from this process's environment
    try:
        from autograder import check_server
        deadline = time.monotonic() + 300
        while check_server.ask("05_keras_tanh", {"op": "status"}) is None:
            if time.monotonic() > deadline:
                raise SystemExit("the check server did not start")
            time.sleep(0.2)
        _timed(cmd, env)  # the server's warm sandbox may still be importing Keras: one check untimed
        times = [_timed(cmd, env) for _ in range(repeat)]
        served = check_server.ask("05_keras_tanh", {"op": "status"})["checks"]
        if served != repeat + 1:
            raise SystemExit(f"the server answered {served} of {repeat + 1} checks")
        check_server.stop("05_keras_tanh")
        return times
    finally:
        os.environ.clear()
        os.environ.update(saved)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--question", default="train_model")
    ap.add_argument("--skip-kernel", action="store_true")
    args = ap.parse_args()
    cli = os.path.join(BIN, "autograder")
    os.chdir(ROOT)  # where the checks run (a check server's key includes the working folder)
    whole_03 = [_timed([cli, "check", "samples/03_backprop/alice.ipynb"]) for _ in range(args.repeat)]
    one_05 = [cli, "check", "samples/05_keras_tanh/alice.ipynb", "-q", args.question]
    runtime = tempfile.mkdtemp(prefix="agbench-", dir="/tmp")
    served_env = dict(os.environ, XDG_RUNTIME_DIR=runtime, AUTOGRADER_CHECK_SERVER_IDLE="300")
    cold = [_timed(one_05, dict(served_env, AUTOGRADER_CHECK_SERVER_IDLE="0")) for _ in range(args.repeat)]
    try:
        first = _timed(one_05, served_env)                  # graded by the command; it leaves a server
        warm = _served(one_05, served_env, args.repeat)
    finally:
        shutil.rmtree(runtime, ignore_errors=True)
    base = statistics.median(whole_03)
    print(f"autograder check 03 (whole)          : median {base:6.2f} s of {args.repeat}")
    for label, times in (("cold", cold), ("first, starts a server", [first]), ("warm server", warm)):
        print(f"autograder check 05 -q {args.question} ({label}): median {statistics.median(times):6.2f} s "
              f"of {len(times)} ({statistics.median(times) / base:.1f}x 03's whole check)")
    if args.skip_kernel:
        return
    print("05's notebook in one kernel (nbclient), check cells:")
    for last, seconds in _kernel_checks(os.path.join(ROOT, "samples", "05_keras_tanh", "alice.ipynb")):
        if last.startswith("check("):
            print(f"  {last:<40} {seconds:6.2f} s ({seconds / base:.1f}x 03's whole check)")


if __name__ == "__main__":
    main()
