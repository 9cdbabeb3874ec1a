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


def _default_lang():
    """The configuration's language (AUTOGRADER_LANG, else English): one default for every command."""
    from .config import GraderConfig
    return GraderConfig.from_env().lang


def build_parser():
    p = _Parser(prog="autograder", description="Check and grade the deep-learning homework notebooks.")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    c = sub.add_parser("check", help="check your own work with the public cases")
    c.add_argument("submission")
    c.add_argument("--question", "-q", action="append", help="only this question (repeatable)")
    c.add_argument("--assignment", type=_assignment)
    c.add_argument("--lang", choices=("ko", "en"), default=_default_lang())
    c.add_argument("--json", action="store_true", help="print the result JSON instead of the table")

    g = sub.add_parser("grade", help="grade a class (public and hidden cases, sandboxed)")
    g.add_argument("assignment", type=_assignment)
    g.add_argument("submissions", nargs="*")
    g.add_argument("--out", help="output folder (required unless --nbgrader)")
    g.add_argument("-j", "--jobs", type=int, default=None)
    g.add_argument("--timeout", type=float, default=None, help="wall-time limit per submission, seconds")
    g.add_argument("--lang", choices=("ko", "en"), default=_default_lang())
    g.add_argument("--nbgrader", metavar="COURSE_ROOT", help="grade submitted/<student>/<assignment>/ of an nbgrader course")
    g.add_argument("--dask-scheduler", metavar="ADDRESS", help="grade on a dask.distributed cluster")
    g.add_argument("--force", action="store_true",
                   help="grade every submission again (by default only those whose fingerprint changed)")

    sim = sub.add_parser("similar", help="pairs of students whose own code is unusually alike (DIR/similarity.html)")
    sim.add_argument("assignment", type=_assignment)
    sim.add_argument("submissions", nargs="+")
    sim.add_argument("--out", required=True)
    sim.add_argument("--threshold", type=float, default=None,
                     help="list a pair when the shared code is at least this fraction of either student's (default 0.5)")
    sim.add_argument("--min-tokens", type=int, default=None, help="and at least this many shared tokens (default 80)")
    sim.add_argument("--lang", choices=("ko", "en"), default=_default_lang())

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

    gs = sub.add_parser("gradescope", help="build the Gradescope autograder zip for one assignment")
    gs.add_argument("assignment", type=_assignment)
    gs.add_argument("--out", required=True, metavar="FILE.zip")
    gs.add_argument("--hidden-visibility", choices=("hidden", "after_due_date", "after_published"),
                    default="after_published", help="when students see the hidden cases' entries")
    gs.add_argument("--lang", choices=("ko", "en"), default=_default_lang(), help="language of the feedback")

    d = sub.add_parser("demo", help="grade the bundled sample class and print the table")
    d.add_argument("--out", default="demo-out")
    d.add_argument("-j", "--jobs", type=int, default=None)
    return p


def _check_usage(args, key, **params):
    from . import i18n
    print(f"autograder check: error: {i18n.t(key, args.lang, **params)}", file=sys.stderr)
    return EXIT_USAGE


def _unknown_questions(args, assignment, questions):
    """The usage error for questions the assignment does not have, else None."""
    known = [q.name for q in specmod.load_spec(assignment).questions]
    unknown = [q for q in questions if q not in known]
    if unknown:
        return _check_usage(args, "check_unknown_question", names=", ".join(unknown), assignment=assignment,
                            known=", ".join(known))
    return None


def cmd_check(args):
    """Exit 2, with a specific message, for a missing or unreadable file, an unknown question or
    assignment, or a file that could not be checked as the assignment (another assignment's
    notebook, a link out of its folder). A Keras assignment's checks after the first are graded by a
    warm check server (check_server.py) when one is running, else here."""
    from .submission import peek_assignment
    path = args.submission
    if not os.path.lexists(path):
        return _check_usage(args, "check_no_file", path=path)
    try:
        if os.path.isdir(path):
            os.listdir(path)
        else:
            with open(path, "rb") as fh:
                fh.read(1)
    except OSError as exc:
        return _check_usage(args, "check_unreadable", path=path, error=exc.strerror or type(exc).__name__)
    assignment = args.assignment or peek_assignment(path)
    if assignment and assignment not in specmod.ASSIGNMENTS:
        return _check_usage(args, "check_unknown_assignment", name=assignment, known=", ".join(specmod.ASSIGNMENTS))
    questions = None
    if args.question:  # `-q backward` or `-q 03_backprop.backward`
        questions = [q.split(".", 1)[1] if "." in q and q.split(".", 1)[0] in specmod.ASSIGNMENTS else q
                     for q in args.question]
        if assignment and (code := _unknown_questions(args, assignment, questions)) is not None:
            return code
    from . import check_server
    served = None
    if assignment and check_server.usable(assignment):  # a warm server of this assignment, if one runs
        served = check_server.check(assignment, path, args.assignment, questions, args.lang)
    if served is None:
        from . import grading
        result = grading.grade_file(path, assignment=args.assignment, include_hidden=False, lang=args.lang,
                                    questions=questions)
    else:
        result = served
    if questions and not assignment and result.assignment in specmod.ASSIGNMENTS:
        if (code := _unknown_questions(args, result.assignment, questions)) is not None:
            return code
    if args.json:
        print(json.dumps(result.as_json(), ensure_ascii=False, indent=1))
    else:
        print(format_check(result, args.lang))
    if served is None and result.status == "graded" and result.assignment in specmod.ASSIGNMENTS \
            and check_server.usable(result.assignment):
        check_server.start(result.assignment)  # for the next check; it warms up after this one printed
    if result.status != "graded":
        reason = (result.output or str(result.status)).splitlines()[0]
        return _check_usage(args, "check_not_checked", reason=reason)
    return EXIT_OK


def format_check(result, lang):
    """The terminal's view of a result (a SubmissionResult, or its JSON)."""
    from .outcome import SubmissionResult
    from .results import _num, written_lines
    result = SubmissionResult.from_json(result)
    lines = [f"{result.assignment}  {result.student}: {_num(result.score)} / {_num(result.max_score)}"]
    lines += [f"  ({line})" for line in written_lines(result, lang)[:1]]
    for t in result.tests:
        flag = "✓" if t["status"] == "passed" else ("·" if t["extra_data"].get("not_attempted") else "✗")
        lines.append(f"  {flag} {t['name']:<40} {_num(t['score']):>6} / {_num(t['max_score'])}")
        if t["status"] != "passed":
            for line in (t["output"] or "").splitlines():
                if not line.startswith("✓"):
                    lines.append(f"      {line}")
    if result.output:
        lines.append(result.output)
    return "\n".join(lines)


def cmd_grade(args):
    if args.nbgrader:
        from . import nbgrader_bridge
        return nbgrader_bridge.grade_course(args.assignment, args.nbgrader, out_dir=args.out, jobs=args.jobs,
                                            timeout=args.timeout, lang=args.lang, scheduler=args.dask_scheduler,
                                            force=args.force)
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
                                              timeout=args.timeout, lang=args.lang, grade_one=grade_one,
                                              force=args.force)
    print(batch.class_table(all_results, args.assignment))
    return EXIT_HARNESS if failures else EXIT_OK


def cmd_similar(args):
    missing = [s for s in args.submissions if not os.path.lexists(s)]
    if missing:
        print(f"autograder similar: error: no such file or directory: {', '.join(missing)}", file=sys.stderr)
        return EXIT_USAGE
    if args.threshold is not None and not 0.0 < args.threshold <= 1.0:
        print("autograder similar: error: --threshold is a fraction in (0, 1]", file=sys.stderr)
        return EXIT_USAGE
    from . import similar
    kwargs = {k: v for k, v in (("threshold", args.threshold), ("min_tokens", args.min_tokens)) if v is not None}
    similar.run(args.assignment, args.submissions, args.out, lang=args.lang, **kwargs)
    return EXIT_OK


def cmd_reference(args):
    from . import references
    return references.main_reference(args.assignment, device=args.device, seed=args.seed)


def cmd_release(args):
    from . import release
    return release.build_bundle(args.out)


def cmd_nbgrader(args):
    from . import nbgrader_bridge
    return nbgrader_bridge.init_course(args.course_root)


def cmd_gradescope(args):
    from . import gradescope
    try:
        members = gradescope.build_zip(args.assignment, args.out, hidden_visibility=args.hidden_visibility,
                                       lang=args.lang)
    except ValueError as exc:
        print(f"autograder gradescope: {exc}", file=sys.stderr)
        return EXIT_HARNESS
    print(f"Gradescope autograder for {args.assignment} in {args.out} ({len(members)} files; hidden cases "
          f"{args.hidden_visibility}): upload it as the assignment's autograder (Configure Autograder, Zip file upload)")
    return EXIT_OK


def cmd_demo(args):
    from . import batch, sandbox
    root = os.path.join(specmod.repo_root(), "samples")
    if not os.path.isdir(root):
        print("the sample class (samples/) is not here", file=sys.stderr)
        return EXIT_HARNESS
    print(sandbox.isolation_note(sandbox.uses_bwrap(sandbox.GraderConfig.from_env())))
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
                "nbgrader": cmd_nbgrader, "gradescope": cmd_gradescope, "demo": cmd_demo,
                "similar": cmd_similar}
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
