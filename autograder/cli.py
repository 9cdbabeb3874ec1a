"""The command line: `autograder check | grade | reference | release | nbgrader | demo`."""
import argparse
import atexit
import json
import os
import sys

from . import spec as specmod

EXIT_OK, EXIT_HARNESS, EXIT_USAGE = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        self.print_usage(sys.stderr)
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        sys.exit(EXIT_USAGE)


def _assignment(value):
    if value not in specmod.ASSIGNMENTS:
        raise argparse.ArgumentTypeError(f"unknown assignment {value!r} (one of {', '.join(specmod.ASSIGNMENTS)})")
    return value


def build_parser():
    p = _Parser(prog="autograder", description="Check and grade the deep-learning homework notebooks.")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    c = sub.add_parser("check", help="check your own work with the public cases")
    c.add_argument("submission")
    c.add_argument("--question", "-q", action="append", help="only this question (repeatable)")
    c.add_argument("--assignment", type=_assignment)
    c.add_argument("--lang", choices=("ko", "en"), default="en")
    c.add_argument("--json", action="store_true", help="print the result JSON instead of the table")

    g = sub.add_parser("grade", help="grade a class (public and hidden cases, sandboxed)")
    g.add_argument("assignment", type=_assignment)
    g.add_argument("submissions", nargs="*")
    g.add_argument("--out", help="output folder (required unless --nbgrader)")
    g.add_argument("-j", "--jobs", type=int, default=None)
    g.add_argument("--timeout", type=float, default=None, help="wall-time limit per submission, seconds")
    g.add_argument("--lang", choices=("ko", "en"), default="en")
    g.add_argument("--nbgrader", metavar="COURSE_ROOT", help="grade submitted/<student>/<assignment>/ of an nbgrader course")
    g.add_argument("--dask-scheduler", metavar="ADDRESS", help="grade on a dask.distributed cluster")

    r = sub.add_parser("reference", help="rebuild the stored references from solutions/")
    r.add_argument("assignment", type=_assignment)
    r.add_argument("--device", choices=("cpu", "gpu"), default="cpu")
    r.add_argument("--seed", type=int, default=None)

    rel = sub.add_parser("release", help="build the student bundle")
    rel.add_argument("--out", required=True)

    n = sub.add_parser("nbgrader", help="nbgrader integration")
    nsub = n.add_subparsers(dest="nb_command", required=True, parser_class=_Parser)
    ni = nsub.add_parser("init", help="create an nbgrader course directory")
    ni.add_argument("course_root")

    d = sub.add_parser("demo", help="grade the bundled sample class and print the table")
    d.add_argument("--out", default="demo-out")
    d.add_argument("-j", "--jobs", type=int, default=None)
    return p


def cmd_check(args):
    from . import grading
    result = grading.grade_file(args.submission, assignment=args.assignment, include_hidden=False, lang=args.lang,
                                questions=args.question)
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=1))
        return EXIT_OK
    print(format_check(result, args.lang))
    return EXIT_OK


def format_check(result, lang):
    from .results import _num
    extra = result["extra_data"]
    lines = [f"{extra.get('assignment')}  {extra.get('student')}: {_num(result['score'])} / {_num(result['max_score'])}"]
    for t in result["tests"]:
        flag = "✓" if t["status"] == "passed" else ("·" if t["extra_data"].get("not_attempted") else "✗")
        lines.append(f"  {flag} {t['name']:<40} {_num(t['score']):>6} / {_num(t['max_score'])}")
        if t["status"] != "passed":
            for line in (t["output"] or "").splitlines():
                if not line.startswith("✓"):
                    lines.append(f"      {line}")
    if result.get("output"):
        lines.append(result["output"])
    return "\n".join(lines)


def cmd_grade(args):
    if args.nbgrader:
        from . import nbgrader_bridge
        return nbgrader_bridge.grade_course(args.assignment, args.nbgrader, out_dir=args.out, jobs=args.jobs,
                                            timeout=args.timeout, lang=args.lang, scheduler=args.dask_scheduler)
    if not args.out:
        print("autograder grade: error: --out DIR is required (or --nbgrader COURSE_ROOT)", file=sys.stderr)
        return EXIT_USAGE
    if not args.submissions:
        print("autograder grade: error: give at least one SUBMISSION", file=sys.stderr)
        return EXIT_USAGE
    missing = [s for s in args.submissions if not os.path.exists(s)]
    if missing:
        print(f"autograder grade: error: no such file or directory: {', '.join(missing)}", file=sys.stderr)
        return EXIT_USAGE
    from . import batch
    grade_one = None
    if args.dask_scheduler:
        from . import cluster
        grade_one = cluster.remote_grader(args.dask_scheduler, args.assignment, args.timeout, args.lang)
    all_results, failures = batch.grade_class(args.assignment, args.submissions, args.out, jobs=args.jobs,
                                              timeout=args.timeout, lang=args.lang, grade_one=grade_one)
    print(batch.class_table(all_results, args.assignment))
    return EXIT_HARNESS if failures else EXIT_OK


def cmd_reference(args):
    from . import references
    return references.main_reference(args.assignment, device=args.device, seed=args.seed)


def cmd_release(args):
    from . import release
    return release.build_bundle(args.out)


def cmd_nbgrader(args):
    from . import nbgrader_bridge
    return nbgrader_bridge.init_course(args.course_root)


def cmd_demo(args):
    from . import batch, sandbox
    root = os.path.join(specmod.repo_root(), "samples")
    if not os.path.isdir(root):
        print("the sample class (samples/) is not here", file=sys.stderr)
        return EXIT_HARNESS
    print(sandbox.isolation_note())
    code = EXIT_OK
    for assignment in specmod.ASSIGNMENTS:
        folder = os.path.join(root, assignment)
        if not os.path.isdir(folder):
            continue
        out = os.path.join(args.out, assignment)
        all_results, failures = batch.grade_class(assignment, [folder], out, jobs=args.jobs, quiet=True)
        print(f"\n== {assignment} ==  (results in {out})")
        print(batch.class_table(all_results, assignment))
        if failures:
            code = EXIT_HARNESS
    return code


def main(argv=None):
    args = build_parser().parse_args(argv)
    handlers = {"check": cmd_check, "grade": cmd_grade, "reference": cmd_reference, "release": cmd_release,
                "nbgrader": cmd_nbgrader, "demo": cmd_demo}
    try:
        return handlers[args.command](args)
    except KeyboardInterrupt:
        print("interrupted; finished students are kept, run the same command again to go on", file=sys.stderr)
        return EXIT_HARNESS
    except (FileNotFoundError, KeyError, RuntimeError) as exc:
        print(f"autograder: error: {exc}", file=sys.stderr)
        return EXIT_HARNESS


def run():
    """The `autograder` command: main(), then leave without finalising the interpreter module by
    module (after nbgrader's imports that alone takes 0.4 s). Everything is done by then: output is
    flushed and the exit handlers (sandbox clean-up) run as on a normal exit."""
    code = main()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    atexit._run_exitfuncs()
    os._exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    run()
