"""Sample submissions of 06_keras_digits for `make demo` (samples/make_samples.py reads this file).

MISTAKE: (text of the solution, replacement): bob's one plausible mistake, the pixels left unscaled
(0..16 instead of [0, 1]); it costs load_digits_split's scaling cases only, since the harness trains
its own model on correctly scaled images.
BROKEN: a code cell inserted into alice's work for dan, or None: dan's file is then a truncated
notebook (unreadable JSON). Here: the demo's first line run before the functions are defined.
Instructor-side only (it quotes the solution): never shipped to students.
"""
MISTAKE = ("images = digits.images.astype(np.float32) / 16", "images = digits.images.astype(np.float32)")
BROKEN = "X_train, X_test, y_train, y_test = load_digits_split()  # used before its cell has run\n"
