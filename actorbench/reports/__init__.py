"""Coverage reports: pandas tables, matplotlib plots, CSV and HTML exports."""

from .export import to_html, write_csvs, write_html
from .plots import PLOTS, all_pngs
from .tables import STATUS_COLS, CoverageReport, build_report, image_rows

__all__ = ["PLOTS", "STATUS_COLS", "CoverageReport", "all_pngs", "build_report", "image_rows",
           "to_html", "write_csvs", "write_html"]
