"""Qualitative coding: codebook, codings, remapping after edits, queries, agreement and auto-coding."""
