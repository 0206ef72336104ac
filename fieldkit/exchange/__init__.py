"""What leaves and enters a project: exports, imports, reports and REFI-QDA."""
