"""The SQL of retention: unsent drafts past their time."""

from __future__ import annotations

from msl_tui.store.store import Store


def count_drafts_before(store: Store, cutoff: str) -> int:
    with store._lock:
        row = store.db.conn.execute(
            "select count(*) from drafts where updated_at < ?", [cutoff]
        ).fetchone()
    return int(row[0])


def delete_drafts_before(store: Store, cutoff: str) -> int:
    """Remove drafts last saved before ``cutoff`` (a stored instant); the caller holds the
    transaction."""
    with store._lock:
        return int(
            store.db.conn.execute("delete from drafts where updated_at < ?", [cutoff]).rowcount
        )
