"""Reading submissions: a notebook (any nbformat version nbformat reads) or a .py file, turned
into the list of code cells the sandbox runs, with IPython syntax made plain Python.

Skipping template cells: a student's cell is left out only when its text is identical to one of
the released template's demonstration or check cells. Which cells those are comes from the
template in this repository, never from the student's file, so tagging a cell or editing its
metadata hides nothing: an edited demo cell is no longer identical and runs.
"""
import ast
import functools
import json
import os
import re
from dataclasses import dataclass, field



@functools.lru_cache(maxsize=1)
def _assignment_names():
    """(pattern, {key: name}): a file name or text that names one of the package's assignments,
    written `03_backprop`, `03-backprop` or `03backprop`."""
    from .spec import ASSIGNMENTS
    key = lambda text: re.sub(r"[_-]", "", text.lower())  # noqa: E731
    names = {key(a): a for a in ASSIGNMENTS}
    alternatives = "|".join(re.escape(a[:2]) + r"[_-]?" + re.escape(a[3:]) for a in ASSIGNMENTS) or "(?!)"
    return re.compile(f"({alternatives})", re.I), names, key


def _named_assignment(text):
    pattern, names, key = _assignment_names()
    m = pattern.search(text)
    return names.get(key(m.group(1))) if m else None


MAX_BYTES = 20 * 1024 * 1024


class SubmissionError(Exception):
    """The file cannot be read as a submission; the message says why, for the student."""

    def __init__(self, key, status="unreadable", **params):
        super().__init__(key)
        self.key = key
        self.status = status        # the result's extra_data.status (e.g. "wrong_assignment", "refused")
        self.params = params


@dataclass
class Submission:
    student: str
    path: str
    cells: list = field(default_factory=list)       # [{"index": i, "source": str}] to run
    skipped: list = field(default_factory=list)     # template cells left out
    assignment: str = None
    notes: list = field(default_factory=list)       # (key, params) read-time notes for feedback
    kind: str = "notebook"

    def source_of(self):
        return "\n\n".join(c["source"] for c in self.cells)


def student_id(path):
    """The student id: the file's stem, or the directory's name for a directory."""
    path = os.path.normpath(path)
    if os.path.isdir(path):
        return os.path.basename(path)
    return os.path.splitext(os.path.basename(path))[0]


def find_file(path):
    """For a directory, the one notebook (or .py) inside it."""
    if not os.path.isdir(path):
        return path
    found = sorted(os.path.join(path, f) for f in os.listdir(path) if f.endswith(".ipynb") and not f.startswith("."))
    if not found:
        found = sorted(os.path.join(path, f) for f in os.listdir(path) if f.endswith(".py") and not f.startswith("."))
    if not found:
        raise SubmissionError("no_file", path=path)
    return found[0]


def _decode(raw, path):
    if not raw.strip():
        raise SubmissionError("empty_file", path=os.path.basename(path))
    if b"\x00" in raw[:8192]:
        raise SubmissionError("binary_file", path=os.path.basename(path))
    for enc in ("utf-8-sig", "cp949", "latin-1"):
        try:
            return raw.decode(enc), enc
        except UnicodeDecodeError:
            continue
    raise SubmissionError("not_text", path=os.path.basename(path))  # pragma: no cover - latin-1 decodes all


def _transform_ipython(source):
    """Plain Python for a cell: IPython's own transformer handles magics and `!` lines."""
    try:
        compile(source, "<cell>", "exec")
        return source
    except SyntaxError:
        pass
    except (ValueError, OverflowError, RecursionError, MemoryError):
        return source
    try:
        from IPython.core.inputtransformer2 import TransformerManager
    except ImportError:  # pragma: no cover - IPython is a dependency
        return source
    try:
        return TransformerManager().transform_cell(source)
    except Exception:  # noqa: BLE001 - leave it; the syntax error is reported when it runs
        return source


def skip_iri_grammar():
    """Keep jsonschema (imported by nbformat and nbgrader) from building an IRI grammar
    (rfc3987_syntax: 1.3-2 s of CPU) for a string format no notebook schema uses: it must be called
    before jsonschema's first import. Only our process is affected."""
    import sys
    if "jsonschema" not in sys.modules:
        sys.modules.setdefault("rfc3987_syntax", None)


def import_nbformat():
    """nbformat, without jsonschema's IRI grammar (skip_iri_grammar)."""
    skip_iri_grammar()
    import nbformat
    return nbformat


def normalize(source):
    return "\n".join(line.rstrip() for line in source.strip().splitlines())


@functools.lru_cache(maxsize=16)
def template_skip_set(template_path):
    """Normalised sources of the template's demo and check cells."""
    if not template_path or not os.path.exists(template_path):
        return set()
    nb = import_nbformat().read(template_path, as_version=4)
    skip = set()
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        meta = cell.get("metadata", {})
        nbg = meta.get("nbgrader", {})
        if "demo" in meta.get("tags", []) or (nbg.get("grade") and not nbg.get("solution")):
            skip.add(normalize(cell.source))
    return skip


def is_answer_cell(cell):
    """A manually graded written answer: a markdown cell nbgrader grades by hand."""
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return cell.get("cell_type") == "markdown" and bool(meta.get("solution")) and bool(meta.get("grade"))


@functools.lru_cache(maxsize=16)
def written_answers(template_path):
    """((grade_id, points), ...) of the template's written answers, graded by hand (formgrader), in
    the notebook's order; () without a template."""
    if not template_path or not os.path.exists(template_path):
        return ()
    return answer_points(import_nbformat().read(template_path, as_version=4))


def answer_points(nb):
    """((grade_id, points), ...) of a notebook's written answer cells, in its order."""
    return tuple((str(c.metadata["nbgrader"].get("grade_id", "")), float(c.metadata["nbgrader"].get("points", 0)))
                 for c in nb.cells if is_answer_cell(c))


def read_notebook(path, text):
    nbformat = import_nbformat()
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise SubmissionError("not_json", path=os.path.basename(path), error=str(exc)[:200]) from None
    if not isinstance(data, dict) or ("cells" not in data and "worksheets" not in data):
        raise SubmissionError("not_notebook", path=os.path.basename(path))
    try:
        nb = nbformat.reads(text, as_version=4)
    except Exception as exc:  # noqa: BLE001 - nbformat raises many kinds
        raise SubmissionError("bad_notebook", path=os.path.basename(path), error=str(exc)[:200]) from None
    return nb


def split_python(text):
    """A .py file's cells: `# %%` markers if present, else one cell, or top-level chunks if it does not parse."""
    if re.search(r"^# ?%%", text, re.M):
        parts = re.split(r"^# ?%%.*$", text, flags=re.M)
        return [p for p in parts if p.strip()]
    try:
        ast.parse(text)
        return [text]
    except SyntaxError:
        pass
    chunks, current = [], []
    for line in text.splitlines(keepends=True):
        if re.match(r"(def |class |@|import |from )", line) and current:
            chunks.append("".join(current))
            current = []
        current.append(line)
    if current:
        chunks.append("".join(current))
    return chunks


def peek_assignment(path):
    """The assignment a submission names (notebook metadata, else its file name), read quickly and
    without nbformat so that its sandbox can start while the submission is read properly; None
    when it cannot tell. read_submission remains the authority."""
    try:
        file_path = find_file(path)
        if file_path.endswith(".ipynb") and os.path.getsize(file_path) <= MAX_BYTES:
            with open(file_path, "rb") as fh:
                meta = json.loads(fh.read()).get("metadata", {}).get("autograder", {})
            if isinstance(meta, dict) and isinstance(meta.get("assignment"), str):
                return meta["assignment"]
        return _named_assignment(os.path.basename(file_path))
    except (OSError, ValueError, AttributeError, RecursionError):
        return None


def link_outside(path, folder=None):
    """(shown path, where it leads) when the submission at `path` (the path itself, or the file read
    from a directory) resolves outside `folder` (default: the folder that holds `path`, i.e. the
    submissions folder): a symbolic link out of it, as an unpacked zip can hold. None otherwise."""
    path = os.path.normpath(path)
    folder = os.path.realpath(folder if folder is not None else (os.path.dirname(os.path.abspath(path)) or "."))
    candidates = [path]
    if os.path.isdir(path):
        try:
            candidates.append(find_file(path))
        except (SubmissionError, OSError):
            pass
    for candidate in candidates:
        target = os.path.realpath(candidate)
        try:
            inside = os.path.commonpath([folder, target]) == folder
        except ValueError:  # different drives
            inside = False
        if not inside:
            return os.path.basename(candidate), target
    return None


def _defined_names(sources):
    """Top-level function names the cells define."""
    names = set()
    for src in sources:
        try:
            tree = ast.parse(_transform_ipython(src) if isinstance(src, str) else "")
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue
        names.update(n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)))
    return names


def _assignment_functions():
    """{assignment: the set of student function names its questions call}."""
    from . import spec as specmod
    found = {}
    for a in specmod.ASSIGNMENTS:
        try:
            found[a] = {f for q in specmod.load_spec(a).questions for f in q.functions}
        except Exception:  # noqa: BLE001 - a spec that does not load is the grader's problem, reported elsewhere
            continue
    return found


def other_assignment_by_names(sources, expected):
    """(assignment, names) when the cells define most of another assignment's graded functions and
    few of the expected one's (a notebook without our metadata, or a .py file), else None."""
    defined = _defined_names(sources)
    if not defined:
        return None
    table = _assignment_functions()
    wanted = table.get(expected)
    if not wanted:
        return None
    own = len(defined & wanted) / len(wanted)
    best = max(((len(defined & fns) / len(fns), a) for a, fns in table.items() if a != expected and fns),
               default=(0.0, None))
    if own < 0.5 and best[0] >= 0.8 and best[0] > own:
        return best[1], sorted(defined & table[best[1]])
    return None


def read_submission(path, skip_for=None, assignment=None):
    """Read one submission file (or a directory holding one). skip_for(assignment) gives the
    normalised template cells to leave out, once the assignment is known (given or read).
    A link out of the folder that holds the submission is refused (status "refused"); a notebook
    of another assignment than the given one (its metadata, or the names it defines) is reported
    as such (status "wrong_assignment")."""
    student = student_id(path)
    outside = link_outside(path)
    if outside:
        raise SubmissionError("link_outside", status="refused", path=outside[0], target=outside[1])
    file_path = find_file(path)
    if not os.path.isfile(file_path):
        raise SubmissionError("no_file", path=file_path)
    size = os.path.getsize(file_path)
    if size > MAX_BYTES:
        raise SubmissionError("too_large", path=os.path.basename(file_path), size=size)
    with open(file_path, "rb") as fh:
        raw = fh.read()
    text, encoding = _decode(raw, file_path)
    sub = Submission(student=student, path=file_path, assignment=assignment)
    if encoding not in ("utf-8-sig",):
        sub.notes.append(("not_utf8", {"encoding": encoding}))
    if file_path.endswith(".ipynb"):
        nb = read_notebook(file_path, text)
        meta = nb.get("metadata", {}).get("autograder", {})
        named = meta.get("assignment") if isinstance(meta, dict) and isinstance(meta.get("assignment"), str) else None
        from .spec import ASSIGNMENTS
        if named not in ASSIGNMENTS:
            named = None  # metadata naming no assignment we hold tells nothing
        if sub.assignment and named and named != sub.assignment:
            raise SubmissionError("wrong_assignment_meta", status="wrong_assignment", found=named,
                                  expected=sub.assignment)
        if not sub.assignment and named:
            sub.assignment = named
        sources = [c.source for c in nb.cells if c.get("cell_type") == "code"]
        sub.kind = "notebook"
    else:
        named = None
        sources = split_python(text)
        sub.kind = "python"
    if assignment and not named:
        other = other_assignment_by_names(sources, assignment)
        if other:
            raise SubmissionError("wrong_assignment_names", status="wrong_assignment", found=other[0],
                                  expected=assignment, names=", ".join(other[1][:6]))
    if not sub.assignment:
        sub.assignment = _named_assignment(os.path.basename(file_path)) or _named_assignment(text[:2000])
    skip = skip_for(sub.assignment) if (skip_for and sub.assignment) else set()
    for i, src in enumerate(sources):
        if not isinstance(src, str) or not src.strip():
            continue
        if normalize(src) in skip:
            sub.skipped.append(i)
            continue
        sub.cells.append({"index": i, "source": _transform_ipython(src)})
    return sub


def function_sources(cells, name):
    """The AST of the last top-level definition of `name` across the cells (what Python would use)."""
    found = None
    for cell in cells:
        try:
            tree = ast.parse(cell["source"])
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == name:
                found = node
            elif isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
                found = node
    return found
