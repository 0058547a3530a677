"""One status palette, for the pages (CSS badges) and the reports (matplotlib) alike.

Colours are Okabe and Ito's set (https://jfly.uni-koeln.de/color/), told apart with the common
kinds of colour blindness; a colour is never the only sign: every badge and legend entry carries
the status's label next to it. A job's badge borrows the swatch of an image status of the same
meaning (done, waiting, failed, gone), so a page has one set of colours.

Usage::

    IMAGE[ImageStatus.CONFLICT].colour     # "#D55E00" (matplotlib and CSS take the same string)
    job_swatch(JobStatus.FAILED).label     # "Failed"
    status_css()                           # ".ab-status-conflict { background:#D55E00; ... }"
"""

from __future__ import annotations

from dataclasses import dataclass

from ..sync.plan import LABELS, ImageStatus
from ..training.status import JobStatus

#: Okabe & Ito (2008), "Color Universal Design"
OKABE_ITO = {"orange": "#E69F00", "sky_blue": "#56B4E9", "bluish_green": "#009E73",
             "yellow": "#F0E442", "blue": "#0072B2", "vermillion": "#D55E00",
             "reddish_purple": "#CC79A7", "black": "#000000", "grey": "#999999"}
#: bars that are not a status (e.g. "all actors" behind "actors with images")
NEUTRAL = "#DDDDDD"


@dataclass(frozen=True)
class Swatch:
    colour: str  # "#RRGGBB", as CSS and matplotlib both read it
    label: str
    hatch: str = ""  # plots: tells apart two statuses that share a colour

    @property
    def text_colour(self) -> str:
        """Black or white, whichever reads better on ``colour`` (WCAG contrast)."""
        lum = _luminance(self.colour)
        return "#000000" if (lum + 0.05) / 0.05 >= 1.05 / (lum + 0.05) else "#FFFFFF"


_C = OKABE_ITO
IMAGE: dict[ImageStatus, Swatch] = {
    ImageStatus.SYNCED: Swatch(_C["bluish_green"], LABELS[ImageStatus.SYNCED]),
    ImageStatus.S3_ONLY: Swatch(_C["sky_blue"], LABELS[ImageStatus.S3_ONLY]),
    ImageStatus.LOCAL_ONLY: Swatch(_C["blue"], LABELS[ImageStatus.LOCAL_ONLY]),
    ImageStatus.LOCAL_MODIFIED: Swatch(_C["orange"], LABELS[ImageStatus.LOCAL_MODIFIED]),
    ImageStatus.REMOTE_MODIFIED: Swatch(_C["yellow"], LABELS[ImageStatus.REMOTE_MODIFIED]),
    ImageStatus.CONFLICT: Swatch(_C["vermillion"], LABELS[ImageStatus.CONFLICT]),
    ImageStatus.MISSING: Swatch(_C["grey"], LABELS[ImageStatus.MISSING]),
    # one side deleted it: the same hue, the plots hatch the S3 side
    ImageStatus.DELETED_LOCAL: Swatch(_C["reddish_purple"], LABELS[ImageStatus.DELETED_LOCAL]),
    ImageStatus.DELETED_REMOTE: Swatch(_C["reddish_purple"], LABELS[ImageStatus.DELETED_REMOTE],
                                       hatch="//"),
    ImageStatus.INVALID: Swatch(_C["black"], LABELS[ImageStatus.INVALID]),
}

#: a job's badge takes the swatch of the image status that means the same
JOB_TONE: dict[JobStatus, ImageStatus] = {
    JobStatus.LAUNCHING: ImageStatus.S3_ONLY,
    JobStatus.IN_QUEUE: ImageStatus.S3_ONLY,
    JobStatus.IN_PROGRESS: ImageStatus.REMOTE_MODIFIED,
    JobStatus.COMPLETED: ImageStatus.SYNCED,
    JobStatus.FAILED: ImageStatus.CONFLICT,
    JobStatus.TIMED_OUT: ImageStatus.CONFLICT,
    JobStatus.LAUNCH_FAILED: ImageStatus.CONFLICT,
    JobStatus.CANCELLED: ImageStatus.MISSING,
    JobStatus.LOST: ImageStatus.MISSING,
}


def job_tone(status: object) -> ImageStatus:
    """The image status whose colour a job in ``status`` shows; MISSING's grey for a value
    no ``JobStatus`` has (a hand-edited record)."""
    known = JobStatus.parse(status)
    return JOB_TONE[known] if known is not None else ImageStatus.MISSING


def job_swatch(status: object) -> Swatch:
    """Colour of ``job_tone``; the label is the job's own state, as RunPod spells it."""
    return Swatch(IMAGE[job_tone(status)].colour, str(status))


def colour(status: ImageStatus) -> str:
    return IMAGE[status].colour


def status_css() -> str:
    """``.ab-status-{value}`` rules, one per image status: the badges' only colour source."""
    return "\n".join(f".ab-status-{s.value} {{ background:{w.colour}; color:{w.text_colour};"
                     f"{_STRIPES if w.hatch else ''} }}" for s, w in IMAGE.items())


#: what a hatch looks like on a badge
_STRIPES = (" background-image:repeating-linear-gradient(45deg, transparent 0 3px, "
            "rgba(255,255,255,.45) 3px 5px);")


def _luminance(hex_colour: str) -> float:
    """WCAG 2 relative luminance of ``#RRGGBB``."""
    rgb = [int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]
