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


def run(cmd, cwd, rss=None):
    """Run a command; return its wall time. With rss=list, append the peak resident memory (MiB) of
    the command and every process it waited for (its workers, kernels, sandboxes)."""
    env = dict(os.environ, PATH=BIN + os.pathsep + os.environ.get("PATH", ""), TF_CPP_MIN_LOG_LEVEL="3")
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    output = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - started
    if status != 0:
        print(output[-3000:], file=sys.stderr)
        raise SystemExit(f"failed: {' '.join(cmd)}")
    if rss is not None:
        rss.append(usage.ru_maxrss / 1024)
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
    rss_nb, rss_ours = [], []
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
        print(f"peak memory, one process: nbgrader {rss_nb[0]:.0f} MiB (its kernel), ours {rss_ours[0]:.0f} MiB "
              f"(largest of the grader and its sandboxed workers)")
    else:
        print(f"peak memory, one process: ours {rss_ours[0]:.0f} MiB")
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
