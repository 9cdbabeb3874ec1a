"""Grade one class on a real dask cluster of one worker, then of two, each worker pinned to its own core.

    python benchmarks/bench_cluster.py [--assignment 03_backprop] [-n 16] [--student alice] [--repeat 1]

The class is N copies of samples/<assignment>/<student>.ipynb (alice: the correct one). For 1 and
then 2 workers it starts a `dask scheduler` and that many `dask worker` processes on 127.0.0.1
(cluster.LoopbackCluster: --nthreads 1, no nanny; worker i pinned with `taskset -c i`), then times
`autograder grade ASSIGNMENT CLASS --out DIR -j 2*workers --dask-scheduler ADDRESS` (the real CLI,
a fresh output folder each time; the cluster is up before the clock starts, the workers' warm
sandboxes are not). Prints each wall time and the time until the last result file was written
(what the command does after that, grades.csv and report.html, does not depend on the workers),
both ratios, how many submissions each worker graded, and the CPU time of the grading command
itself (it is not pinned: on a machine with as many cores as workers it competes with them).
Every run's grades.csv must be equal, or the script fails.
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from autograder import cluster  # noqa: E402


def grade(assignment, klass, out, address, jobs):
    """Run the grading command; return its wall time and the time from its start to the last
    <student>.json written (the grading itself, without what the command does once every result is
    in: grades.csv from the files, report.html)."""
    cmd = [sys.executable, "-m", "autograder", "grade", assignment, klass, "--out", out, "-j", str(jobs),
           "--dask-scheduler", address]
    wall_start, started = time.time(), time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=1800,
                          env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        print(proc.stdout[-3000:], file=sys.stderr)
        raise SystemExit(f"failed: {' '.join(cmd)}")
    last = max(os.path.getmtime(os.path.join(out, n)) for n in os.listdir(out) if n.endswith(".json"))
    return elapsed, last - wall_start


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--assignment", default="03_backprop")
    ap.add_argument("-n", type=int, default=16)
    ap.add_argument("--student", default="alice", help="which sample student to copy N times")
    ap.add_argument("--repeat", type=int, default=1, help="runs per cluster (the later ones find warm sandboxes)")
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    cores = sorted(os.sched_getaffinity(0))
    if len(cores) < 2:
        raise SystemExit(f"two workers on their own cores need two cores; this process may use {cores}")

    work = tempfile.mkdtemp(prefix="bench-cluster-")
    klass = os.path.join(work, "class")
    os.makedirs(klass)
    source = os.path.join(ROOT, "samples", args.assignment, f"{args.student}.ipynb")
    for i in range(args.n):
        shutil.copy(source, os.path.join(klass, f"student{i:03d}.ipynb"))

    times, csv = {}, None
    try:
        for workers in (1, 2):
            pins = [[cores[i]] for i in range(workers)]
            with cluster.LoopbackCluster(os.path.join(work, f"cluster-{workers}"), workers=workers, cpus=pins) as lc:
                for run in range(args.repeat):
                    out = os.path.join(work, f"out-{workers}-{run}")
                    t0 = resource_children()
                    t, last = grade(args.assignment, klass, out, lc.address, 2 * workers)
                    cpu = resource_children() - t0
                    times.setdefault(workers, []).append((t, last))
                    with open(os.path.join(out, "grades.csv"), encoding="utf-8") as fh:
                        text = fh.read()
                    if csv is not None and text != csv:
                        raise SystemExit(f"grades.csv of {out} differs from the first run's")
                    csv = text
                    info = lc.info()
                    done = ", ".join(f"{name} (cores {v['cpus']}) {v['executed']}" for name, v in sorted(info.items()))
                    print(f"{workers} worker(s), run {run + 1}: {t:7.2f} s, last result at {last:6.2f} s; graded so "
                          f"far: {done}; the grading command used {cpu:.2f} CPU-s", flush=True)
                used = {proc.name: tree_cpu(proc.pid) for proc in lc.procs}
            print(f"{workers} worker(s): CPU-s used by each process and what it waited for (its sandboxes): "
                  + ", ".join(f"{name} {cpu:.2f}" for name, cpu in used.items()), flush=True)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"kept {work}")
    (one, one_last), (two, two_last) = min(times[1]), min(times[2])
    print(f"{args.assignment}, N = {args.n} copies of {args.student}, best of {args.repeat}: "
          f"1 worker {one:.2f} s, 2 workers {two:.2f} s: {one / two:.2f}x; "
          f"until the last result: {one_last:.2f} s and {two_last:.2f} s: {one_last / two_last:.2f}x")


def tree_cpu(pid):
    """CPU seconds of a process and its live descendants, with what each has waited for."""
    import psutil
    total = 0.0
    try:
        root = psutil.Process(pid)
        procs = [root] + root.children(recursive=True)
    except psutil.NoSuchProcess:
        return total
    for p in procs:
        try:
            t = p.cpu_times()
            total += t.user + t.system + t.children_user + t.children_system
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            pass
    return total


def resource_children():
    import resource
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


if __name__ == "__main__":
    main()
