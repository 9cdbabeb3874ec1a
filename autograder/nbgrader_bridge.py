"""nbgrader integration (instructor side only: it reads solutions/).

`init_course(root)` makes a working nbgrader course directory: `nbgrader_config.py`, the gradebook
with the five assignments, `source/<assignment>/<assignment>.ipynb` in nbgrader's source form
(the solutions woven between `### BEGIN SOLUTION` / `### END SOLUTION`) and the data the
notebooks read. `nbgrader generate_assignment <assignment>` then gives back exactly the notebooks
of `assignments/`.

`grade_course(assignment, root)` grades `submitted/<student>/<assignment>/` with the sandboxed
harness (public and hidden cases), writes our JSON/CSV/feedback, and puts each question's score
into nbgrader's gradebook as the auto score of the grade cell whose grade_id is the question,
so that `nbgrader export` and formgrader show the harness's scores. A TA's manual override in
formgrader (manual_score) is kept. It also writes `feedback/<student>/<assignment>/<assignment>.html`
for `nbgrader release_feedback`.
"""
import datetime
import html
import importlib
import importlib.util
import os
import shutil
import sys
import threading

from . import batch, results, submission
from . import spec as specmod
from .gradebook_writer import GradebookWriter  # noqa: F401 - part of this module's API
from .outcome import SubmissionResult

submission.skip_iri_grammar()  # before nbformat's and nbgrader's imports, here or in the background

COURSE_ID = "dl_homework"

CONFIG_TEMPLATE = '''\
# nbgrader configuration written by `autograder nbgrader init`.
c = get_config()  # noqa: F821

c.CourseDirectory.root = {root!r}
c.CourseDirectory.course_id = {course_id!r}
c.CourseDirectory.db_url = {db_url!r}

# The check cells run `from autograder.notebook import check`: the kernel must be a Python that
# has the autograder package installed (run nbgrader from the course's virtual environment).
c.Execute.timeout = 600          # seconds per cell (the Keras exercise trains a small model)
c.Execute.allow_errors = True    # a failing check cell scores 0; the others still run

# The exchange for `nbgrader release_assignment / collect / release_feedback`; set it for your
# server, e.g.
# c.Exchange.root = "/srv/nbgrader/exchange"

# Grade with the sandboxed harness after collecting (it writes into this gradebook):
#   autograder grade <assignment> --nbgrader {root_plain}
'''


def _repo():
    return specmod.repo_root()


def config_values(course_root):
    """(db_url, course_id) from the course's nbgrader_config.py (nbgrader's defaults otherwise)."""
    root = os.path.abspath(course_root)
    db_url, course_id = f"sqlite:///{os.path.join(root, 'gradebook.db')}", "default_course"
    path = os.path.join(root, "nbgrader_config.py")
    if os.path.exists(path):
        from traitlets.config.loader import PyFileConfigLoader
        cfg = PyFileConfigLoader("nbgrader_config.py", path=root).load_config()
        cd = cfg.get("CourseDirectory", {})
        db_url = cd.get("db_url", db_url) or db_url
        course_id = cd.get("course_id", course_id) or course_id
    return db_url, course_id


def gradebook(course_root):
    gradebook_api_only()
    from nbgrader.api import Gradebook
    db_url, course_id = config_values(course_root)
    return Gradebook(db_url, course_id=course_id)


def _tools_on_path():
    """nbgrader runs `alembic` (its gradebook migrations) by name: make this environment's scripts findable
    even when the venv is not activated."""
    scripts = os.path.dirname(sys.executable)
    if scripts not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = scripts + os.pathsep + os.environ.get("PATH", "")


def init_course(course_root):
    import nbformat
    _tools_on_path()

    from . import authoring, references
    root = os.path.abspath(course_root)
    os.makedirs(root, exist_ok=True)
    db_url = f"sqlite:///{os.path.join(root, 'gradebook.db')}"
    cfg_path = os.path.join(root, "nbgrader_config.py")
    if os.path.exists(cfg_path):
        print(f"keeping the existing {cfg_path}", file=sys.stderr)
    else:
        with open(cfg_path, "w", encoding="utf-8") as fh:
            fh.write(CONFIG_TEMPLATE.format(root=root, course_id=COURSE_ID, db_url=db_url, root_plain=root))
    written = []
    for assignment in specmod.ASSIGNMENTS:
        released = os.path.join(_repo(), "assignments", f"{assignment}.ipynb")
        solution = references.solution_source(assignment)
        if not os.path.exists(released) or solution is None:
            print(f"skipping {assignment}: assignments/{assignment}.ipynb or solutions/{assignment}.py is missing",
                  file=sys.stderr)
            continue
        nb = nbformat.read(released, as_version=4)
        source_nb = authoring.weave(nb, solution, markers=True)
        folder = os.path.join(root, "source", assignment)
        os.makedirs(folder, exist_ok=True)
        nbformat.write(source_nb, os.path.join(folder, f"{assignment}.ipynb"))
        for rel in specmod.load_spec(assignment).data_files.values():
            shutil.copy2(os.path.join(_repo(), rel), os.path.join(folder, os.path.basename(rel)))
        written.append(assignment)
    with gradebook(root) as gb:
        for assignment in written:
            gb.update_or_create_assignment(assignment)
    print(f"nbgrader course in {root}: {', '.join(written)}")
    print(f"next: cd {root} && nbgrader generate_assignment <assignment>")
    return 0


# ---- grading ---------------------------------------------------------------------------------
def _ensure_notebook_in_db(gb, assignment, course_root):
    """Make sure the gradebook knows the assignment's notebook and grade cells (as after
    `nbgrader generate_assignment`), creating them from the source or released notebook if not."""
    from nbgrader.api import MissingEntry
    gb.update_or_create_assignment(assignment)
    try:
        nb_entry = gb.find_notebook(assignment, assignment)
        if nb_entry.grade_cells:
            return
    except MissingEntry:
        pass
    import nbformat
    candidates = [os.path.join(course_root, "release", assignment, f"{assignment}.ipynb"),
                  os.path.join(course_root, "source", assignment, f"{assignment}.ipynb"),
                  os.path.join(_repo(), "assignments", f"{assignment}.ipynb")]
    path = next(p for p in candidates if os.path.exists(p))
    nb = nbformat.read(path, as_version=4)
    gb.update_or_create_notebook(assignment, assignment)
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade") and not meta.get("solution"):
            gb.update_or_create_grade_cell(meta["grade_id"], assignment, assignment,
                                           max_score=float(meta.get("points", 0)), cell_type=cell.cell_type)


def _timestamp(folder):
    """(timestamp text, problem): the submission's timestamp.txt when nbgrader can read it; otherwise
    None and why (a missing file is no problem: the submission is recorded without a timestamp)."""
    path = os.path.join(folder, "timestamp.txt")
    if not os.path.exists(path):
        return None, None
    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read(200).strip()
    except (OSError, UnicodeDecodeError) as exc:
        return None, f"timestamp.txt cannot be read ({type(exc).__name__}: {exc})"
    try:
        from nbgrader.utils import parse_utc
        parse_utc(text)
    except Exception as exc:  # noqa: BLE001 - dateutil raises several kinds
        return None, f"timestamp.txt is not a time nbgrader reads ({text[:60]!r}: {type(exc).__name__})"
    return text, None


def _submission_grades(gb, assignment, student):
    """{grade cell name: Grade} of the student's submission of the assignment's notebook: the rows
    Gradebook.find_grade finds one query at a time (its joins, its models), found in one query."""
    from nbgrader.api import Assignment, Grade, GradeCell, Notebook, Student, SubmittedAssignment, SubmittedNotebook
    rows = gb.db.query(GradeCell.name, Grade).select_from(Grade)\
        .join(GradeCell, GradeCell.id == Grade.cell_id)\
        .join(SubmittedNotebook, SubmittedNotebook.id == Grade.notebook_id)\
        .join(Notebook, Notebook.id == SubmittedNotebook.notebook_id)\
        .join(SubmittedAssignment, SubmittedAssignment.id == SubmittedNotebook.assignment_id)\
        .join(Assignment, Assignment.id == SubmittedAssignment.assignment_id)\
        .join(Student, Student.id == SubmittedAssignment.student_id)\
        .filter(Notebook.name == assignment, Assignment.name == assignment, Student.id == student).all()
    return dict(rows)


def record_in_gradebook(gb, assignment, result, course_root, notes=None):
    """Write one harness result into nbgrader's gradebook. Returns {grade_id: score} written; what
    went wrong that did not stop it (a bad timestamp.txt, a grade cell the gradebook lacks) is
    appended to `notes`."""
    from nbgrader.api import MissingEntry
    notes = [] if notes is None else notes
    result = SubmissionResult.from_json(result)
    student = str(result.student)
    gb.update_or_create_student(student)
    try:
        gb.find_submission(assignment, student)
    except MissingEntry:
        _ensure_notebook_in_db(gb, assignment, course_root)
        kwargs = {}
        ts, problem = _timestamp(os.path.join(course_root, "submitted", student, assignment))
        if problem:
            notes.append(f"{problem}; recorded without a timestamp")
        if ts:
            kwargs["timestamp"] = ts
        gb.add_submission(assignment, student, **kwargs)
    written = {}
    grades = _submission_grades(gb, assignment, student)
    for qname, (score, _) in results.question_scores(result).items():  # public and hidden entries summed
        grade = grades.get(qname)
        if grade is None:
            notes.append(f"no grade cell {qname!r} in the gradebook for {assignment}; "
                         f"run `nbgrader generate_assignment {assignment}`")
            continue
        grade.auto_score = float(score)
        grade.needs_manual_grade = False
        written[qname] = float(score)
    gb.db.commit()
    return written


def feedback_html(result, lang="en"):
    """The student's feedback as a page of its own; everything from the result is escaped (a
    student's printed output, exception text and name are text, never markup)."""
    e = lambda x: html.escape(str(x), quote=True)  # noqa: E731
    result = SubmissionResult.from_json(result)
    num = results._num
    title = f"{result.assignment} — {result.student}"
    head = ("문항", "점수", "결과") if lang == "ko" else ("question", "score", "status")
    rows = []
    for t in result.tests:
        status = t["status"]
        if t.get("extra_data", {}).get("not_attempted"):
            status = "미구현" if lang == "ko" else "not attempted"
        rows.append(f"<tr><td>{e(t['name'])}</td><td>{num(t['score'])} / {num(t['max_score'])}</td><td>{e(status)}</td></tr>")
    parts = [f"<h1>{e(('채점 결과' if lang == 'ko' else 'Feedback') + ': ' + title)}</h1>",
             f"<p><b>{num(result.score)} / {num(result.max_score)}</b></p>",
             "<table><tr>" + "".join(f"<th>{h}</th>" for h in head) + "</tr>" + "".join(rows) + "</table>"]
    for t in result.tests:
        parts.append(f"<h2>{e(t['name'])} ({num(t['score'])} / {num(t['max_score'])})</h2><pre>{e(t['output'] or '')}</pre>")
    if result.output:
        parts.append(f"<h2>{'기타' if lang == 'ko' else 'Notes'}</h2><pre>{e(result.output)}</pre>")
    if result.sandbox:
        parts.append(f"<p><i>{e(result.sandbox)}</i></p>")
    return (f"<!DOCTYPE html>\n<html><head><meta charset='utf-8'><title>{e(title)}</title>"
            "<style>body{font-family:sans-serif;max-width:60em;margin:2em auto}"
            "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2em .6em}"
            "pre{background:#f6f8fa;padding:.6em;white-space:pre-wrap}</style></head>\n"
            "<body>\n" + "\n".join(parts) + "\n</body></html>\n")


def _write_if_changed(path, text):
    try:
        with open(path, encoding="utf-8") as fh:
            if fh.read() == text:
                return False
    except (OSError, UnicodeDecodeError):
        pass
    results.atomic_write(path, text)
    return True


def write_feedback(course_root, assignment, result, lang="en", notes=None):
    """feedback/<student>/<assignment>/<assignment>.html, with the submission's timestamp.txt and
    submission_secret.txt beside it (what `nbgrader release_feedback` reads). A file already as it
    should be is not rewritten; a timestamp.txt nbgrader cannot read is replaced by the time now."""
    notes = [] if notes is None else notes
    student = str(SubmissionResult.from_json(result).student)
    folder = os.path.join(course_root, "feedback", student, assignment)
    os.makedirs(folder, exist_ok=True)
    _write_if_changed(os.path.join(folder, f"{assignment}.html"), feedback_html(result, lang))
    submitted = os.path.join(course_root, "submitted", student, assignment)
    ts, problem = _timestamp(submitted)
    if ts:
        _write_if_changed(os.path.join(folder, "timestamp.txt"), ts)
    secret = os.path.join(submitted, "submission_secret.txt")
    if os.path.isfile(secret) and not os.path.islink(secret):
        shutil.copy2(secret, os.path.join(folder, "submission_secret.txt"))
    if not ts and (problem or not os.path.exists(os.path.join(folder, "timestamp.txt"))):
        now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f %Z")
        results.atomic_write(os.path.join(folder, "timestamp.txt"), now)


def submissions(course_root, assignment):
    """{student: path of the notebook (or folder)} for submitted/<student>/<assignment>/."""
    base = os.path.join(course_root, "submitted")
    found = {}
    if not os.path.isdir(base):
        return found
    for student in sorted(os.listdir(base)):
        folder = os.path.join(base, student, assignment)
        if student.startswith(".") or not os.path.isdir(folder):
            continue
        nb = os.path.join(folder, f"{assignment}.ipynb")
        found[student] = nb if os.path.exists(nb) else folder
    return found


def gradebook_api_only():
    """Let `import nbgrader.api` / `nbgrader.utils` run without nbgrader's package __init__, which
    only registers its Jupyter server extensions (tornado handlers, jupyter_server: 0.3-0.4 s of
    CPU that the gradebook never uses). Nothing changes where nbgrader is imported already."""
    if "nbgrader" in sys.modules:
        return False
    found = importlib.util.find_spec("nbgrader")
    if found is None or not found.submodule_search_locations:
        return False
    import types
    package = types.ModuleType("nbgrader", "nbgrader's modules, imported without its server extensions")
    package.__path__ = list(found.submodule_search_locations)
    package.__file__, package.__package__, package.__spec__ = found.origin, "nbgrader", found
    sys.modules["nbgrader"] = package
    return True


def _import_in_background(*modules):
    """Import what the end of the run needs (nbgrader's gradebook API, nbconvert for the feedback:
    seconds of imports) while the sandboxes grade, instead of after them."""
    gradebook_api_only()

    def run():
        for name in modules:
            try:
                importlib.import_module(name)
            except Exception:  # noqa: BLE001 - the foreground import reports it
                pass
    threading.Thread(target=run, name="prefetch-imports", daemon=True).start()


def grade_course(assignment, course_root, out_dir=None, jobs=None, timeout=None, lang="en", scheduler=None,
                 force=False):
    """Grade submitted/<student>/<assignment>/ like `grade` (by content: only what changed, unless
    force), then record every current result in the gradebook and write its HTML feedback."""
    from . import grading
    _tools_on_path()
    root = os.path.abspath(course_root)
    if not os.path.isdir(root):
        print(f"autograder grade: error: no nbgrader course at {root}", file=sys.stderr)
        return 2
    writer = GradebookWriter(root, assignment, lang)  # first: forked before this run starts any thread
    if writer._proc is None:
        _import_in_background("nbgrader.api", "nbgrader.utils")
    try:
        out_dir = out_dir or os.path.join(root, "autograder", assignment)
        subs = submissions(root, assignment)
        if not subs:
            print(f"no submissions in {os.path.join(root, 'submitted', '<student>', assignment)}", file=sys.stderr)
        if scheduler:
            from . import cluster
            grade_one = cluster.remote_grader(scheduler, assignment, timeout, lang)
        else:
            grade_one = lambda student, path, fingerprint: grading.grade_file(  # noqa: E731
                path, assignment=assignment, include_hidden=True, lang=lang, timeout=timeout,
                student=student, warm=len(subs) > 1, fingerprint=fingerprint)
        folder = os.path.join(root, "submitted")  # a link out of it is refused, never read
        items = [(student, path, folder) for student, path in subs.items()]
        all_results, failures = batch.grade_class(assignment, [], out_dir, jobs=jobs, timeout=timeout, lang=lang,
                                                  grade_one=grade_one, on_result=writer.put, force=force,
                                                  submissions=items, prestart=not scheduler)
        for result in all_results:  # those an earlier run graded (the others are skipped: recorded already)
            writer.put(result)
    finally:
        writer.close()  # what was graded is in the gradebook even if the run was interrupted
    print(batch.class_table(all_results, assignment))
    for student, notes in sorted(writer.notes.items()):
        for note in notes:
            print(f"warning: {student}: {note}", file=sys.stderr)
    for student, reason in sorted(writer.errors.items()):
        print(f"error: {student} is not (wholly) recorded: {reason}", file=sys.stderr)
    print(f"scores written to the gradebook ({config_values(root)[0]}) for {len(writer.recorded)} student(s); "
          f"feedback in {os.path.join(root, 'feedback')}", file=sys.stderr)
    return 1 if failures or writer.errors else 0
