"""Sample submissions of 02_xor_mlp for `make demo` (samples/make_samples.py reads this file).

MISTAKE: (text of the solution, replacement): bob's one plausible mistake, the biases left out of the parameter count.
BROKEN: a code cell inserted into alice's work for dan, or None: dan's file is then a truncated
notebook (unreadable JSON).
Instructor-side only (it quotes the solution): never shipped to students.
"""
MISTAKE = ("(n_in + 1) * n_out", "n_in * n_out")
BROKEN = "def helper(:\n    pass  # a syntax error in one cell\n"
