"""Grading across machines with dask.distributed: the same grade_file, run on the cluster's
workers, the same result files written here. Each worker still runs every submission in its own
sandboxed child, so student code never touches the dask worker process. Submissions travel as
file contents, so the workers need no shared filesystem; results come back as plain dicts
(our own JSON-able output, produced by our code on the worker — never anything from the child).
"""
import os
import shutil
import tempfile


def _grade_remote(filename, payload, assignment, timeout, lang, student):
    from autograder import grading
    folder = tempfile.mkdtemp(prefix="autograder-dask-")
    try:
        path = os.path.join(folder, filename)
        with open(path, "wb") as fh:
            fh.write(payload)
        return grading.grade_file(path, assignment=assignment, include_hidden=True, lang=lang, timeout=timeout,
                                  student=student, warm=True)  # a worker grades many: share one compilation
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def remote_grader(address, assignment, timeout=None, lang="en", client=None):
    """A grade_one(student, path) for batch.grade_class that runs on a dask cluster."""
    from dask.distributed import Client
    from .submission import find_file
    client = client or Client(address)

    def grade_one(student, path):
        try:
            file_path = find_file(path)
            with open(file_path, "rb") as fh:
                payload = fh.read()
            filename = os.path.basename(file_path)
        except Exception:  # noqa: BLE001 - unreadable here: let the local grader write the reason
            from . import grading
            return grading.grade_file(path, assignment=assignment, lang=lang, timeout=timeout, student=student)
        future = client.submit(_grade_remote, filename, payload, assignment, timeout, lang, student, pure=False)
        return future.result()

    return grade_one
