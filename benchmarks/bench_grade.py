"""Time stock `nbgrader autograde` against `autograder grade --nbgrader` on the same notebooks.

    python benchmarks/bench_grade.py [--assignment 03_backprop] [-n 8] [-j 2] [--skip-nbgrader]

Builds a temporary nbgrader course (autograder nbgrader init + nbgrader generate_assignment),
places N filled-in submissions (the solutions woven into the release) in submitted/, then times
both routes on the same set and prints both wall times and the ratio, and where our time goes
(sandbox start-up, each question, the student's own calls).
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
BIN = os.path.dirname(sys.executable)


def _sample_memory(pid, peak, stop):
    """Every 0.2 s: the resident memory (MiB) of each process under pid (sandboxes included: their
    PID namespaces are still descendants here); keeps the largest single process and total."""
    import psutil
    try:
        root = psutil.Process(pid)
    except psutil.NoSuchProcess:
        return
    while not stop.wait(0.2):
        try:
            procs = [root] + root.children(recursive=True)
        except psutil.NoSuchProcess:
            return
        sizes = []
        for p in procs:
            try:
                sizes.append(p.memory_info().rss / 2 ** 20)
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                pass
        if sizes:
            peak["one"] = max(peak.get("one", 0.0), max(sizes))
            peak["all"] = max(peak.get("all", 0.0), sum(sizes))


def run(cmd, cwd, rss=None):
    """Run a command; return its wall time. With rss=dict, fill in the peak resident memory (MiB) of
    its largest single process ("one": the grader, a worker, a kernel or a sandbox) and of all of
    its processes together ("all"), sampled every 0.2 s, and of the waited-for processes by
    getrusage ("rusage")."""
    import threading
    env = dict(os.environ, PATH=BIN + os.pathsep + os.environ.get("PATH", ""), TF_CPP_MIN_LOG_LEVEL="3")
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    stop = threading.Event()
    sampler = None
    if rss is not None:
        sampler = threading.Thread(target=_sample_memory, args=(proc.pid, rss, stop), daemon=True)
        sampler.start()
    output = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - started
    stop.set()
    if sampler is not None:
        sampler.join()
    if status != 0:
        print(output[-3000:], file=sys.stderr)
        raise SystemExit(f"failed: {' '.join(cmd)}")
    if rss is not None:
        rss["rusage"] = usage.ru_maxrss / 1024
        rss["one"] = max(rss.get("one", 0.0), rss["rusage"])
    return elapsed


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--assignment", default="03_backprop")
    ap.add_argument("-n", type=int, default=8)
    ap.add_argument("-j", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--skip-nbgrader", action="store_true")
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--dask", action="store_true", help="also time the same grading on a LocalCluster of 1 and 2 workers")
    args = ap.parse_args()

    from autograder.authoring import weave
    from autograder.submission import import_nbformat
    nbformat = import_nbformat()

    course = tempfile.mkdtemp(prefix="bench-course-")
    a = args.assignment
    run([os.path.join(BIN, "autograder"), "nbgrader", "init", course], ROOT)
    run([os.path.join(BIN, "nbgrader"), "generate_assignment", a, "--force"], course)
    release = nbformat.read(os.path.join(course, "release", a, f"{a}.ipynb"), as_version=4)
    with open(os.path.join(ROOT, "solutions", f"{a}.py"), encoding="utf-8") as fh:
        filled = weave(release, fh.read(), markers=False)
    for i in range(args.n):
        folder = os.path.join(course, "submitted", f"student{i:03d}", a)
        os.makedirs(folder, exist_ok=True)
        nbformat.write(filled, os.path.join(folder, f"{a}.ipynb"))
        for extra in os.listdir(os.path.join(course, "release", a)):
            if not extra.endswith(".ipynb"):
                shutil.copy(os.path.join(course, "release", a, extra), folder)

    t_nbgrader = None
    rss_nb, rss_ours = {}, {}
    if not args.skip_nbgrader:
        t_nbgrader = run([os.path.join(BIN, "nbgrader"), "autograde", a, "--force"], course, rss_nb)
    out = os.path.join(course, "autograder-out")
    t_ours = run([os.path.join(BIN, "autograder"), "grade", a, "--nbgrader", course, "--out", out, "-j", str(args.j)],
                 course, rss_ours)

    seconds = []
    questions = {}
    for name in os.listdir(out):
        if name.endswith(".json") and not name.startswith("."):
            with open(os.path.join(out, name), encoding="utf-8") as fh:
                r = json.load(fh)
            seconds.append(r["execution_time"])
            for t in r["tests"]:
                questions.setdefault(t["name"], []).append(t["extra_data"].get("seconds", 0.0))
    print(f"assignment {a}, N = {args.n}, jobs = {args.j}")
    if t_nbgrader is not None:
        print(f"nbgrader autograde      : {t_nbgrader:8.2f} s")
    print(f"autograder grade        : {t_ours:8.2f} s")
    if t_nbgrader is not None:
        print(f"ratio (nbgrader / ours) : {t_nbgrader / t_ours:8.2f}x")
    if seconds:
        print(f"per submission (ours)   : median {statistics.median(seconds):.2f} s, max {max(seconds):.2f} s")
    if rss_nb:
        print(f"peak memory, nbgrader  : largest process {rss_nb['one']:.0f} MiB, all together {rss_nb.get('all', 0):.0f} MiB")
    print(f"peak memory, ours      : largest process {rss_ours['one']:.0f} MiB (the grader, a warm sandbox or a "
          f"student's child), all together {rss_ours.get('all', 0):.0f} MiB (RSS counts shared pages once per process)")
    for q, values in sorted(questions.items()):
        print(f"  {q:<40} median {statistics.median(values):.3f} s")
    if args.dask:
        from dask.distributed import LocalCluster
        for workers in (1, 2):
            with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None) as lc:
                t = run([os.path.join(BIN, "autograder"), "grade", a, "--nbgrader", course, "--out",
                         os.path.join(course, f"dask-out-{workers}"), "-j", str(2 * workers),
                         "--dask-scheduler", lc.scheduler_address], course)
            print(f"dask LocalCluster, {workers} worker(s): {t:8.2f} s")
    if not args.keep:
        shutil.rmtree(course, ignore_errors=True)
    else:
        print(f"course kept at {course}")


if __name__ == "__main__":
    main()
