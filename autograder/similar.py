"""`autograder similar ASSIGNMENT SUBMISSION... --out DIR`: pairs of students whose own code is
unusually alike, for a TA to look at (a lead, never a verdict).

Each submission is reduced to the student's own code: its code cells less every cell identical
to a code cell of the released template (assignments/<name>.ipynb: stubs left as they are, given
code, demo and check cells), so that everyone's common starting point matches nothing. What is
left is fingerprinted with copydetect (winnowed k-grams of the token stream with names
normalised, the way MOSS works), with the template's own fingerprints as boilerplate (the given
docstrings and signatures inside an edited cell count for nothing either). A pair is listed when
the shared part is at least `threshold` of either student's code and at least `min_tokens` long
(so that two three-line answers are not "identical"). DIR/similarity.html shows each pair's code
side by side with the shared fragments highlighted, every character escaped; DIR/similarity.csv
lists the pairs (ids neutralised for spreadsheets).
"""
import csv
import functools
import html
import io
import itertools
import os
import sys

from . import i18n, results
from . import spec as specmod
from .submission import SubmissionError, import_nbformat, normalize, read_submission

DEFAULT_THRESHOLD = 0.5
DEFAULT_MIN_TOKENS = 80
NOISE = 25          # k: k-grams of this many normalised characters (copydetect's default)
GUARANTEE = 30      # a shared run this long is always found (window = GUARANTEE - NOISE + 1)
HTML_NAME = "similarity.html"
CSV_NAME = "similarity.csv"


def template_path(assignment):
    return specmod.resource_path(f"assignments/{assignment}.ipynb")


@functools.lru_cache(maxsize=8)
def template_cells(assignment):
    """(normalised sources of every code cell of the released template, its code as one text)."""
    path = template_path(assignment)
    if not os.path.exists(path):
        return frozenset(), ""
    nb = import_nbformat().read(path, as_version=4)
    sources = [c.source for c in nb.cells if c.cell_type == "code"]
    return frozenset(normalize(s) for s in sources), "\n\n".join(sources)


def student_code(path, assignment):
    """The student's own code: the submission's code cells less those identical to a template cell."""
    skip, _ = template_cells(assignment)
    sub = read_submission(path, skip_for=lambda a: skip, assignment=assignment)
    return "\n\n".join(c["source"] for c in sub.cells).strip() + "\n"


def _fingerprint(name, code, boilerplate=None, window=None):
    from copydetect import CodeFingerprint
    return CodeFingerprint(name + ".py", NOISE, window or (GUARANTEE - NOISE + 1), boilerplate=boilerplate,
                           fp=io.StringIO(code), language="python")


def _quiet_copydetect():
    import logging
    import matplotlib
    matplotlib.use("Agg", force=False)  # copydetect imports pyplot
    logging.getLogger("copydetect").setLevel(logging.ERROR)


def compare(codes, assignment, threshold=DEFAULT_THRESHOLD, min_tokens=DEFAULT_MIN_TOKENS):
    """Pairs [(a, b, similarity_a, similarity_b, shared_tokens, slices_a, slices_b)] at or above the
    threshold, most alike first. codes: {student: own code}."""
    _quiet_copydetect()
    from copydetect import compare_files
    _, given = template_cells(assignment)
    boilerplate = _fingerprint("template", given, window=1).hashes if given else []
    prints = {s: _fingerprint(str(s), code, boilerplate=list(boilerplate)) for s, code in codes.items()}
    pairs = []
    for a, b in itertools.combinations(sorted(prints, key=str), 2):
        fa, fb = prints[a], prints[b]
        if not fa.hashes or not fb.hashes:
            continue
        overlap, (sa, sb), (slices_a, slices_b) = compare_files(fa, fb)
        if overlap >= min_tokens and max(sa, sb) >= threshold:
            pairs.append((a, b, float(sa), float(sb), int(overlap), slices_a, slices_b))
    pairs.sort(key=lambda p: (-max(p[2], p[3]), str(p[0]), str(p[1])))
    return pairs


def _highlighted(code, slices):
    """The code as escaped HTML with the shared slices in <mark>."""
    spans = sorted(zip(slices[0].tolist(), slices[1].tolist())) if len(slices) and len(slices[0]) else []
    out, pos = [], 0
    for start, end in spans:
        start, end = max(int(start), pos), int(end)
        if end <= start:
            continue
        out.append(html.escape(code[pos:start]))
        out.append("<mark>" + html.escape(code[start:end]) + "</mark>")
        pos = end
    out.append(html.escape(code[pos:]))
    return "".join(out)


_STYLE = """body{font-family:sans-serif;max-width:90em;margin:1.5em auto;padding:0 1em;color:#1f2328}
table.code{width:100%;table-layout:fixed;border-collapse:collapse}table.code td{vertical-align:top;width:50%;
border:1px solid #d0d7de;padding:.4em}pre{white-space:pre-wrap;font-size:.8em;margin:0}
mark{background:#ffd33d80}h2{font-size:1.1em;margin-top:2em}.muted{color:#656d76}"""


def render_html(assignment, pairs, codes, threshold, skipped=(), lang="en"):
    e = lambda x: html.escape(str(x), quote=True)  # noqa: E731
    title = i18n.t("similar_title", lang, assignment=assignment)
    out = [f"<!DOCTYPE html>\n<html><head><meta charset='utf-8'><title>{e(title)}</title><style>{_STYLE}</style>"
           "</head><body>", f"<h1>{e(title)}</h1>",
           f"<p>{e(i18n.t('similar_intro', lang, threshold=round(threshold * 100), n=len(pairs), students=len(codes)))}</p>"]
    if not pairs:
        out.append(f"<p><b>{e(i18n.t('similar_none', lang))}</b></p>")
    for a, b, sa, sb, overlap, slices_a, slices_b in pairs:
        out.append(f"<h2>{e(a)} ↔ {e(b)}: {sa:.0%} / {sb:.0%} <span class='muted'>({overlap} tokens; "
                   f"{e(i18n.t('similar_shared', lang))})</span></h2>")
        out.append(f"<table class='code'><tr><th>{e(a)}</th><th>{e(b)}</th></tr><tr>"
                   f"<td><pre>{_highlighted(codes[a], slices_a)}</pre></td>"
                   f"<td><pre>{_highlighted(codes[b], slices_b)}</pre></td></tr></table>")
    if skipped:
        out.append(f"<h2>{e(i18n.t('similar_skipped', lang))}</h2><ul>")
        out += [f"<li>{e(s)}: {e(why)}</li>" for s, why in skipped]
        out.append("</ul>")
    out.append("</body></html>\n")
    return "\n".join(out)


def pairs_csv(pairs):
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["student_a", "student_b", "similarity_a", "similarity_b", "shared_tokens"])
    for a, b, sa, sb, overlap, _, _ in pairs:
        writer.writerow([results.csv_cell(a), results.csv_cell(b), f"{sa:.3f}", f"{sb:.3f}", overlap])
    return buf.getvalue()


def run(assignment, paths, out_dir, threshold=DEFAULT_THRESHOLD, min_tokens=DEFAULT_MIN_TOKENS, lang="en",
        quiet=False):
    """Compare the submissions; write DIR/similarity.html and DIR/similarity.csv. Returns the pairs."""
    from .batch import _collect
    from .submission import link_outside
    codes, skipped = {}, []
    for student, path, folder in _collect(paths):
        outside = link_outside(path, folder)
        if outside:
            skipped.append((student, i18n.t("link_outside", lang, path=outside[0], target=outside[1])))
            continue
        try:
            code = student_code(path, assignment)
        except SubmissionError as exc:
            skipped.append((student, i18n.t(exc.key, lang, **exc.params)))
            continue
        codes[student] = code
    pairs = compare(codes, assignment, threshold=threshold, min_tokens=min_tokens)
    os.makedirs(out_dir, exist_ok=True)
    results.atomic_write(os.path.join(out_dir, HTML_NAME), render_html(assignment, pairs, codes, threshold, skipped, lang))
    results.atomic_write(os.path.join(out_dir, CSV_NAME), pairs_csv(pairs))
    if not quiet:
        print(f"{assignment}: {len(codes)} submissions compared, {len(pairs)} pair(s) at or above "
              f"{threshold:.0%}; {os.path.join(out_dir, HTML_NAME)}", file=sys.stderr)
        for a, b, sa, sb, overlap, _, _ in pairs:
            print(f"  {a} ~ {b}: {sa:.0%} / {sb:.0%} ({overlap} tokens shared)")
        for student, why in skipped:
            print(f"  not compared: {student}: {why}", file=sys.stderr)
    return pairs
