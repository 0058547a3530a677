"""actorbench: actors' training data in S3 and on disk, LoRA training, coverage reports.

Names are imported on first use (PEP 562), so ``import actorbench`` stays cheap and the CLI
(``actorbench.cli``) does not pay for pandas or boto3 it may not need.

Usage::

    import actorbench as ab
    wb = ab.open()          # settings from the environment and .env
    wb.status("0002")       # a DataFrame, statuses in words
    wb.pull("0002")         # tqdm bars, a summary that renders itself
"""

from __future__ import annotations

from ._lazy import lazy

__version__ = "0.1.0"

#: public name -> the module that defines it
_EXPORTS = {
    "Actor": "actorbench.actors",
    "ActorPlan": "actorbench.sync",
    "ActorbenchError": "actorbench.errors",
    "Change": "actorbench.sync",
    "ConfigError": "actorbench.errors",
    "CredentialsError": "actorbench.errors",
    "EnvironmentProblem": "actorbench.errors",
    "ImageStatus": "actorbench.sync",
    "Notebook": "actorbench.notebook",
    "Layout": "actorbench.storage",
    "ObjectStore": "actorbench.storage",
    "Registry": "actorbench.actors",
    "RegistryError": "actorbench.errors",
    "Settings": "actorbench.settings",
    "StoreError": "actorbench.errors",
    "SyncEngine": "actorbench.sync",
    "SyncSummary": "actorbench.sync",
    "TrainingParams": "actorbench.training",
    "TrainingService": "actorbench.training",
    "UnknownActorError": "actorbench.errors",
    "Workbench": "actorbench.workbench",
    "build_report": "actorbench.reports",
    "open": "actorbench.notebook",
}

__all__ = sorted([*_EXPORTS, "__version__"])


__getattr__, __dir__ = lazy(__name__, _EXPORTS, eager=["__version__"])
