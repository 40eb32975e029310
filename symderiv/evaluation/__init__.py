"""Evaluating notation trees against a key's model: the interpreter of the student's letters, the rules for each node and the NumPy/SymPy backends."""
