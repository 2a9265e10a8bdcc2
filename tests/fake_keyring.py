"""A keyring backend for tests: a JSON file named by MSL_TEST_KEYRING (chosen with
PYTHON_KEYRING_BACKEND=fake_keyring.FileKeyring and this folder on PYTHONPATH)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError


class FileKeyring(KeyringBackend):
    priority = 1  # type: ignore[assignment]

    def _path(self) -> Path:
        return Path(os.environ["MSL_TEST_KEYRING"])

    def _load(self) -> dict[str, str]:
        path = self._path()
        return json.loads(path.read_text()) if path.exists() else {}

    def get_password(self, service: str, username: str) -> str | None:
        return self._load().get(f"{service}|{username}")

    def set_password(self, service: str, username: str, password: str) -> None:
        data = self._load()
        data[f"{service}|{username}"] = password
        self._path().write_text(json.dumps(data))

    def delete_password(self, service: str, username: str) -> None:
        data = self._load()
        if f"{service}|{username}" not in data:
            raise PasswordDeleteError("no such password")
        del data[f"{service}|{username}"]
        self._path().write_text(json.dumps(data))
