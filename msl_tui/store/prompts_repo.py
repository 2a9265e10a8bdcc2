"""The MSL's own question prompts: a local table beside the built-in library.

Prompts are personal working aids, not business records, so they are not in the change log
and are edited in place.
"""

from __future__ import annotations

from typing import Any

from msl_tui.store.store import Store


def list_prompts(store: Store) -> list[dict[str, Any]]:
    with store._lock:
        return list(store.db.query("select * from prompts order by created_at, id"))


def get_prompt(store: Store, prompt_id: str) -> dict[str, Any] | None:
    with store._lock:
        rows = list(store.db.query("select * from prompts where id = ?", [prompt_id]))
    return rows[0] if rows else None


def upsert_prompt(store: Store, prompt_id: str, purpose: str, text: str, created_at: str) -> None:
    with store.transaction():
        store.db.execute(
            "insert into prompts(id, purpose, text, created_at) values (?, ?, ?, ?) "
            "on conflict(id) do update set purpose = excluded.purpose, text = excluded.text",
            [prompt_id, purpose, text, created_at],
        )


def delete_prompt(store: Store, prompt_id: str) -> bool:
    with store.transaction():
        cursor = store.db.execute("delete from prompts where id = ?", [prompt_id])
    return cursor.rowcount > 0
