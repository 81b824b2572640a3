"""Qt-free models of the shopper screen: the session machine and the interaction recorder.

Nothing here imports Qt (an import-linter contract), so each is tested without a display.
"""
