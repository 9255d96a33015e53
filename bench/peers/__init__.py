"""Other privacy platforms run beside privops in the same benchmark run (``python -m bench --peer NAME``).

A peer is never part of the default run: installing it takes minutes and it is not privops' code.
"""

PEERS = ("fides",)
