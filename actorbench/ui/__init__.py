"""The dashboard (the only package that imports ipywidgets)."""

from actorbench.ui.app import App

__all__ = ["App"]
