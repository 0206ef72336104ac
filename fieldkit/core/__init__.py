"""The bottom layer: records, their one converter, ids, times, Markdown bodies and errors."""
