"""Time stock `nbgrader autograde` against `autograder grade --nbgrader` on the same notebooks.

    python benchmarks/bench_grade.py [--assignment 03_backprop] [-n 8] [-j 2] [--skip-nbgrader]
    make bench ASSIGNMENT=03_backprop N=500 SKIP_NBGRADER=1     # a large class, our route only

Builds a temporary nbgrader course (autograder nbgrader init + nbgrader generate_assignment),
places N filled-in submissions (the solutions woven into the release) in submitted/, then times
both routes on the same set and prints both wall times and the ratio, and where our time goes
(sandbox start-up, each question, the student's own calls), and peak memory: of the grading
process itself (its VmHWM; its resident memory at 25/50/75 % of the grading and its largest
before and after its last result file, to see what grows with the class), of its largest
process, and of all its processes together. A real dask cluster, one worker against two:
benchmarks/bench_cluster.py.
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


def _vm_hwm(pid):
    """The kernel's high-water mark of a process's resident memory (MiB), or None."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def _sample_memory(pid, peak, stop):
    """Every 0.2 s: the resident memory (MiB) of each process under pid (sandboxes included: their
    PID namespaces are still descendants here); keeps the largest single process and total, and
    for pid itself (the grading process) its own peak (the kernel's VmHWM, read at each sample, so
    exact up to the last 0.2 s) and its resident memory over time in peak["timeline"]."""
    import psutil
    try:
        root = psutil.Process(pid)
    except psutil.NoSuchProcess:
        return
    peak["timeline"] = []
    while not stop.wait(0.2):
        try:
            procs = [root] + root.children(recursive=True)
            own = root.memory_info().rss / 2 ** 20
        except psutil.NoSuchProcess:
            return
        hwm = _vm_hwm(pid)
        if hwm is not None:
            peak["self"] = max(peak.get("self", 0.0), hwm)
        peak["timeline"].append((time.time(), own))
        sizes = []
        for p in procs:
            try:
                sizes.append(p.memory_info().rss / 2 ** 20)
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                pass
        if sizes:
            peak["one"] = max(peak.get("one", 0.0), max(sizes))
            peak["all"] = max(peak.get("all", 0.0), sum(sizes))


def _own_memory(timeline, last_result):
    """From the grading process's (wall time, resident MiB) samples: its largest resident memory
    up to the moment its last result file was written (the grading), and after it (grades.csv from
    the files, report.html, the gradebook, until it exits), and at 25/50/75 % of the grading."""
    during = [rss for t, rss in timeline if t <= last_result]
    after = [rss for t, rss in timeline if t > last_result]
    quarters = []
    if timeline and during:
        start = timeline[0][0]
        for q in (0.25, 0.5, 0.75):
            quarters.append(next(rss for t, rss in timeline if t >= start + q * (last_result - start)))
    return (max(during) if during else None), (max(after) if after else None), quarters


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


def _stored_compile_caches(assignment):
    """Stored XLA caches of this assignment that a run would read (sandbox.CompileCache)."""
    from autograder.sandbox import pool
    root = pool._stored_root()
    if not os.path.isdir(root):
        return []
    return [n for n in os.listdir(root) if n.startswith(assignment + "-") and pool._usable(os.path.join(root, n))]


def _has_warmup(assignment):
    from autograder import spec as specmod
    return bool(specmod.load_spec(assignment).warmup)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--assignment", default="03_backprop")
    ap.add_argument("-n", type=int, default=8)
    ap.add_argument("-j", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--skip-nbgrader", action="store_true")
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--fresh-compile-cache", action="store_true",
                    help="our route warms the Keras questions' XLA cache up again and reads no stored one "
                         "(AUTOGRADER_FRESH_COMPILE_CACHE=1): the first run on a machine")
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
    stored = _stored_compile_caches(a)
    if args.fresh_compile_cache:
        os.environ["AUTOGRADER_FRESH_COMPILE_CACHE"] = "1"
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
    if _has_warmup(a):
        print("compile cache (ours)    : " + ("fresh: warmed up in this run, nothing stored read" if args.fresh_compile_cache
              else f"{'stored by an earlier run, read' if stored else 'none stored yet: warmed up in this run, then stored'}"))
    if t_nbgrader is not None:
        print(f"ratio (nbgrader / ours) : {t_nbgrader / t_ours:8.2f}x")
    if seconds:
        print(f"per submission (ours)   : median {statistics.median(seconds):.2f} s, max {max(seconds):.2f} s")
    if rss_nb:
        print(f"peak memory, nbgrader  : largest process {rss_nb['one']:.0f} MiB, all together {rss_nb.get('all', 0):.0f} MiB")
    print(f"peak memory, ours      : largest process {rss_ours['one']:.0f} MiB (the grader, a warm sandbox or a "
          f"student's child), all together {rss_ours.get('all', 0):.0f} MiB (RSS counts shared pages once per process)")
    if "self" in rss_ours:
        last_result = max((os.path.getmtime(os.path.join(out, n)) for n in os.listdir(out) if n.endswith(".json")),
                          default=0.0)
        during, after, quarters = _own_memory(rss_ours.get("timeline", []), last_result)
        fmt = lambda m: "-" if m is None else f"{m:.0f}"  # noqa: E731
        print(f"the grading process    : peak {rss_ours['self']:.0f} MiB (its own VmHWM); resident while grading "
              f"at 25/50/75 %: {', '.join(fmt(m) for m in quarters)} MiB, largest {fmt(during)} MiB; after the last "
              f"result (grades.csv, report, gradebook): largest {fmt(after)} MiB")
    for q, values in sorted(questions.items()):
        print(f"  {q:<40} median {statistics.median(values):.3f} s")
    if not args.keep:
        shutil.rmtree(course, ignore_errors=True)
    else:
        print(f"course kept at {course}")


if __name__ == "__main__":
    main()
