"""Run `msl` as a plain launch and write, once the first ranked rows are drawn, the modules
loaded by then (one a line) to the file named first, then quit.

    python tests/launch_probe.py OUT --db STORE

Nothing is imported ahead of the command: a hook on the import of the list screen's module
wraps the screen's first load, so the list is what the MSL's own `msl` would have loaded.
``LAUNCH_PROFILE=FILE`` also writes a cProfile of the start to that moment.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import os
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

SCREEN = "msl_tui.screens.kol_list"


def _record(out: Path, profile: Any) -> None:
    if profile is not None:
        profile.disable()
        profile.dump_stats(os.environ["LAUNCH_PROFILE"])
    out.write_text("\n".join(sorted(sys.modules)) + "\n", encoding="utf-8")


def _wrap(module: ModuleType, out: Path, profile: Any) -> None:
    screen = module.KolListScreen
    apply = screen._apply

    def _apply(self: Any, message: Any) -> None:
        apply(self, message)
        if self.rows and not getattr(screen, "_probed", False):
            screen._probed = True

            def drawn() -> None:
                _record(out, profile)
                self.app.exit()

            self.call_after_refresh(drawn)  # once the rows are painted

    screen._apply = _apply


class _Hook(importlib.abc.MetaPathFinder):
    def __init__(self, out: Path, profile: Any) -> None:
        self.out, self.profile = out, profile

    def find_spec(self, name: str, path: Any, target: Any = None) -> Any:
        if name != SCREEN:
            return None
        sys.meta_path.remove(self)
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        assert spec is not None and spec.loader is not None
        run = spec.loader.exec_module

        def exec_module(module: ModuleType) -> None:
            run(module)
            _wrap(module, self.out, self.profile)

        spec.loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


def main() -> None:
    out = Path(sys.argv[1])
    profile = None
    if os.environ.get("LAUNCH_PROFILE"):
        import cProfile

        profile = cProfile.Profile()
        profile.enable()
    sys.meta_path.insert(0, _Hook(out, profile))
    sys.argv = ["msl", *sys.argv[2:]]
    from msl_tui.entry import main as msl

    msl()


if __name__ == "__main__":
    main()
