"""Store locations that are not files: a PostgreSQL server's URL (head office).

Kept apart from ``pg.py`` so that telling a URL from a path never needs psycopg.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

URL_SCHEMES = ("postgresql://", "postgres://")


def is_server_url(text: object) -> bool:
    return isinstance(text, str) and text.lower().startswith(URL_SCHEMES)


def redact(url: str) -> str:
    """The URL without its password or query, for messages: what a person may see."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        try:
            port = str(parts.port or "")
        except ValueError:
            # A port out of range: shown as written (the message says what is wrong with it).
            port = parts.netloc.rpartition(":")[2]
        if port:
            host += f":{port}"
        user = f"{parts.username}@" if parts.username else ""
        return urlunsplit((parts.scheme, user + host, parts.path, "", ""))
    except ValueError:
        return "the PostgreSQL store"


class ServerUrl:
    """``--db postgresql://...``: a store on a server. Shown without its password; it
    answers the two questions commands ask of a store path: it "exists" once the database
    holds an msl-tui store (asked of the server once), as a store file exists once made."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._exists: bool | None = None

    def __str__(self) -> str:
        return redact(self.url)

    def __repr__(self) -> str:
        return f"ServerUrl({redact(self.url)!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ServerUrl) and other.url == self.url

    def __hash__(self) -> int:
        return hash(self.url)

    def exists(self) -> bool:
        if self._exists is None:
            from msl_tui.store.pg import holds_store

            self._exists = holds_store(self.url)
        return self._exists

    def is_symlink(self) -> bool:
        return False
