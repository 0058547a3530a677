"""Where the server's data files are: found through ``importlib.resources``, so an installed
copy (``pip install actorbench``, no checkout) serves its own dashboard.

``dashboard.ipynb`` here is package data. In a checkout it is a symbolic link to
``notebooks/dashboard.ipynb``, the one source (the notebooks folder is where a user opens the
dashboards); building a wheel copies the file it points to into the package.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def data_path(name: str) -> Path:
    """A file or folder shipped in ``actorbench.server`` as a path on disk (Voila needs one)."""
    return Path(str(files(__package__ or "actorbench.server").joinpath(name)))


#: Voila's page template (its lab template plus the Library's card script)
TEMPLATES = data_path("templates")
#: the notebook the dashboard runs
DASHBOARD = data_path("dashboard.ipynb")
