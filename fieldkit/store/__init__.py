"""The store layer: the project database, its frozen schema and every SQL statement against it."""
