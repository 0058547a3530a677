"""The Reports page's model: which table, sorted how."""

from __future__ import annotations

import traitlets as t

from actorbench.ui.mvc import PageModel

#: columns the Reports table can be sorted by (the page shows them in words)
SORTABLE = ["backed_up", "downloaded", "actor", "images", "synced", "s3_only", "local_only",
            "local_modified", "remote_modified", "conflict", "missing", "bytes_local",
            "bytes_s3", "trained_versions"]


class ReportsModel(PageModel):
    """The built report and how its table is sorted and filtered."""

    sort_by = t.Enum(SORTABLE, default_value="backed_up")
    ascending = t.Bool(True)
    only_images = t.Bool(True)  # leave out actors without images
    report = t.Any(None)  # the last ``CoverageReport`` built

    def reset(self) -> None:
        self.sort_by, self.ascending, self.only_images = "backed_up", True, True
        self.report = None
        super().reset()
