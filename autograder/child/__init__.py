"""The child side: the only harness code that runs beside student code.

`worker` runs the cells and answers calls, `wire` carries plain data, `kit` holds the generic
probe helpers; each assignment adds its own `probes.py` (autograder/assignments/<name>/). Inside the
sandbox these files are a read-only copy named `agchild`; nothing here knows an expected value,
a reference solution or a score.
"""
