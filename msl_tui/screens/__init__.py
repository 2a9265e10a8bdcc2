"""Textual screens, one per file. They call services; they never run SQL."""
