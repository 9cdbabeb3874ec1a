"""nbgrader's gradebook written while a class is graded (autograder/nbgrader_bridge.py grades it).

The writer records each result in the gradebook and writes its HTML feedback as results arrive;
the record and feedback functions are nbgrader_bridge's (looked up there at each call)."""
import os
import queue
import sys
import threading

from . import nbgrader_bridge as bridge
from .outcome import SubmissionResult


class GradebookWriter:
    """Records results in nbgrader's gradebook and writes their HTML feedback while the sandboxes go
    on grading, so that the run does not end with a queue of gradebook writes. One student's failure
    (a gradebook error, a feedback folder that cannot be written) is that student's alone: it is kept
    in `errors` with its reason and the others are recorded; `notes` holds what was recorded with a
    caveat (a bad timestamp.txt). Only a gradebook that cannot be opened at all stops the writer.

    Where the system can fork, the writer is a process of its own, forked when it is made (before
    the run starts its threads): nbgrader's API, SQLAlchemy and the records (about a second of CPU
    for a class of 8) then run beside the grading instead of taking turns with it for this process's
    interpreter lock. Results travel to it as their JSON (plain data); what it recorded, the errors
    and notes come back the same way when it is closed. Elsewhere (or forked=False) it is a thread."""

    _DONE = None

    def __init__(self, course_root, assignment, lang="en", forked=None):
        self.root, self.assignment, self.lang = course_root, assignment, lang
        self.recorded = set()
        self.errors = {}     # student -> reason: not (wholly) recorded
        self.notes = {}      # student -> [caveats]
        self.error = None
        self._proc = None
        if forked is None:
            forked = hasattr(os, "fork") and sys.platform.startswith("linux")
        if forked:
            try:
                import multiprocessing
                ctx = multiprocessing.get_context("fork")
                self._queue, self._answer = ctx.Queue(), ctx.Queue()
                self._proc = ctx.Process(target=self._child, name="gradebook-writer", daemon=True)
                self._proc.start()
                return
            except (OSError, ValueError, ImportError):
                self._proc = None
        self._queue = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="gradebook-writer", daemon=True)
        self._thread.start()

    def put(self, result):
        result = SubmissionResult.from_json(result)
        self._queue.put(result.as_json() if self._proc is not None else result)  # plain data to a process

    def _one(self, gb, result):
        result = SubmissionResult.from_json(result)
        student = str(result.student)
        if student in self.recorded:
            return
        notes = []
        try:
            bridge.record_in_gradebook(gb, self.assignment, result, self.root, notes)
        except Exception as exc:  # noqa: BLE001 - this student's alone
            try:
                gb.db.rollback()
            except Exception:  # noqa: BLE001
                pass
            self.errors[student] = f"gradebook: {type(exc).__name__}: {str(exc).splitlines()[0][:300] if str(exc) else ''}"
            return
        self.errors.pop(student, None)  # recorded now (an earlier try of the same result may have failed)
        self.recorded.add(student)
        try:
            bridge.write_feedback(self.root, self.assignment, result, self.lang, notes)
        except Exception as exc:  # noqa: BLE001 - this student's alone
            self.errors[student] = f"feedback: {type(exc).__name__}: {exc}"
        if notes:
            self.notes[student] = notes

    def _run(self):
        try:
            with bridge.gradebook(self.root) as gb:
                while (result := self._queue.get()) is not self._DONE:
                    self._one(gb, result)
        except BaseException as exc:  # noqa: BLE001 - raised again in the calling thread by close()
            self.error = exc

    def _child(self):
        """The forked writer: the same loop, then what it did, as plain data, for close()."""
        self._run()
        error = None if self.error is None else (type(self.error).__name__, str(self.error)[:2000])
        self._answer.put({"recorded": sorted(self.recorded), "errors": dict(self.errors),
                          "notes": {k: list(v) for k, v in self.notes.items()}, "error": error})
        self._answer.close()
        self._answer.join_thread()

    def close(self):
        """Wait until everything put is recorded; raise what stopped the writer, if anything."""
        self._queue.put(self._DONE)
        if self._proc is None:
            self._thread.join()
        else:
            answer = None
            while answer is None:
                try:
                    answer = self._answer.get(timeout=1.0)
                except queue.Empty:
                    if not self._proc.is_alive():
                        answer = {"error": ("GradebookWriterDied", f"the gradebook writer ended ({self._proc.exitcode})")}
            self._proc.join(timeout=30)
            self.recorded = set(answer.get("recorded", []))
            self.errors = dict(answer.get("errors", {}))
            self.notes = {k: list(v) for k, v in answer.get("notes", {}).items()}
            if answer.get("error"):
                self.error = RuntimeError(": ".join(answer["error"]))
        if self.error is not None:
            raise self.error
