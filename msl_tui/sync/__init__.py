"""Sync by files: bundles of change-log entries, merged field by field, nothing lost.

No Textual here: the CLI (msl_tui/cli/sync.py) and the sync screen both call these modules.
"""
