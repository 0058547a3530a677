"""The dashboard (the only package that imports ipywidgets)."""

from .app import App

__all__ = ["App"]
