"""Fieldwork: capture (jottings, fieldnotes, memos) and the registers of sites, people and encounters."""
