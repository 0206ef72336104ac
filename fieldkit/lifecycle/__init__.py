"""The research data lifecycle (issue 16): member checking, disclosure review, archive
deposit, retention and destruction, and the register of every copy that left the project.

This layer sits above ``exchange``: it builds on exporting, anonymisation and consent, and
the command line (``fieldkit/cli/lifecycle.py``) is a thin layer over it.
"""
