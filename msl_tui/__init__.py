"""msl-tui: an offline-first terminal workbench for Medical Science Liaisons."""

__version__ = "0.1.0"
