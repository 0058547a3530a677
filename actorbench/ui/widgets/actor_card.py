"""An actor in words and as a card: the Library's gallery, the page headers, empty states.

Plain functions (no widget); every string from a file goes through ``h``/``esc``, and the
status colours are the palette's ``ab-status-*`` classes, chosen from the enum, never from data.

Usage::

    actor_label(actor)                   # "0002 · European · 35 · female"
    tally(actor, here=12, plan=None)     # Tally(in_s3=20, here=12, ...)
    counts_words(t)                      # "20 in S3 · 12 here · 1 conflict"
    card_html(actor, t, thumb_uri, selected=True)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from actorbench.actors.model import NAME_RE
from actorbench.actors.registry import LibraryStatus
from actorbench.present.html import Html, esc, h, join
from actorbench.present.palette import IMAGE
from actorbench.present.words import facet_word, plural
from actorbench.sync.plan import ImageStatus
from actorbench.ui.pages import TRAINING, TRAINING_DATA

if TYPE_CHECKING:
    from actorbench.actors.model import Actor
    from actorbench.faces.health import Health
    from actorbench.sync.plan import ActorPlan

#: the Library's status of an actor (``library_status``), as the filter and the cards say it
STATUS_WORDS = {s.value: s.label for s in LibraryStatus}
#: which palette colour a status chip takes
_STATUS_TONE = {"synced": ImageStatus.SYNCED, "not_synced": ImageStatus.REMOTE_MODIFIED,
                "no_data": ImageStatus.MISSING}
#: what a card's buttons do: the hidden pick box receives "<action> <name> <nonce>"
ACTIONS = {"select": "", "training_data": TRAINING_DATA.title, "train": TRAINING.title}


def ethnicity_words(value: str | None) -> str:
    """``"east_asian"`` -> ``"East Asian"`` (``present.words.facet_word``)."""
    return facet_word(value or "")


def facet_words(actor: Actor) -> str:
    """``"European · 35 · female"``; "" for a name that does not follow the pattern."""
    f = actor.facets
    parts = [ethnicity_words(f.ethnicity), "" if f.age is None else str(f.age), f.gender or ""]
    return " · ".join(p for p in parts if p)


def actor_number(actor: Actor) -> str:
    """The number a name starts with, as written (``"0002"``); else the id from actors.json."""
    m = NAME_RE.match(actor.name)
    return m["id"] if m else str(actor.id)


def actor_label(actor: Actor) -> str:
    """``"0002 · European · 35 · female"``; the name itself when it carries no facets."""
    words = facet_words(actor)
    return f"{actor_number(actor)} · {words}" if words else actor.name


@dataclass(frozen=True)
class Tally:
    """An actor's images as a card counts them."""

    in_s3: int
    here: int
    conflicts: int = 0
    listed: bool = False  # from an S3 listing; else actors.json and the local folder
    synced: bool = False

    @property
    def shown(self) -> tuple[int, int, int, bool]:
        """What a card says of it: two cards with the same ``shown`` read the same."""
        return self.in_s3, self.here, self.conflicts, self.synced

    @property
    def empty(self) -> bool:
        return not (self.in_s3 or self.here)

    @property
    def status(self) -> str:
        """``synced``, ``not_synced`` or ``no_data`` (``STATUS_WORDS`` says them)."""
        return "no_data" if self.empty else "synced" if self.synced else "not_synced"


def tally(actor: Actor, here: int, plan: ActorPlan | None = None) -> Tally:
    """From the last listing when there is one; else from actors.json (``count``,
    ``synced``) and ``here``, the training images found in the local folder."""
    if plan is None:
        return Tally(actor.image_count, here, synced=actor.synced)
    changes = plan.changes
    return Tally(in_s3=sum(c.remote is not None for c in changes),
                 here=sum(c.local is not None for c in changes),
                 conflicts=sum(c.status is ImageStatus.CONFLICT for c in changes),
                 listed=True,
                 synced=bool(changes) and all(c.status is ImageStatus.SYNCED for c in changes))


def counts_words(t: Tally) -> str:
    """``"20 in S3 · 12 here · 1 conflict"``; ``"No images yet"`` when there are none."""
    if t.empty:
        return STATUS_WORDS["no_data"]
    parts = [f"{t.in_s3} in S3" if t.in_s3 else "none in S3",
             f"{t.here} here" if t.here else "none here"]
    if t.conflicts:
        parts.append(plural(t.conflicts, "conflict"))
    return " · ".join(parts)


def validated_version(actor: Actor) -> str:
    """The validated model's version name ("" without one, or when it has no name)."""
    vlm = actor.validated_lora_model or {}
    return next((str(vlm[k]) for k in ("version_name", "version", "version_id")
                 if vlm.get(k) not in (None, "")), "")


def validated_words(actor: Actor) -> str:
    """``"✓ validated v3"``; "" without a validated model."""
    if not actor.validated_lora_model:
        return ""
    return f"✓ validated {validated_version(actor)}".strip()


def status_chip(t: Tally) -> Html:
    return h("span", STATUS_WORDS[t.status],
             cls=["ab-chip", f"ab-status-{_STATUS_TONE[t.status].value}"])


def chips_html(actor: Actor, t: Tally) -> Html:
    """The status and the validated model as chips, the counts as a line of words."""
    counts = h("div", counts_words(t), cls="ab-gcard-counts")
    chips = [status_chip(t)] if not t.empty else []
    if actor.validated_lora_model:
        chips.append(h("span", validated_words(actor), cls=["ab-chip", "ab-chip-validated"]))
    return join([counts, h("div", *chips, cls="ab-chips")])


def trainable(t: Tally) -> str:
    """Why the actor cannot be trained yet ("" when it can): training reads images in S3."""
    if t.empty:
        return "No images yet: generate some or add files first."
    return "" if t.in_s3 else "Its images are not in S3 yet: sync them first."


def identity_html(health: Health | None) -> Html:
    """Who is in the actor's pictures, from the cached analyses (``faces.health``): "18 of 20
    fit", or "needs attention: ..." in amber; nothing before any analysis."""
    if health is None:
        return Html("")
    tone = ("ab-identity-attention" if health.needs_attention else
            "ab-identity-ok" if health.photographic else "ab-identity-na")
    return h("div", "👤 ", health.words(), cls=["ab-identity", tone],
             title="Who is in the pictures (actorbench faces): from the last analysis")


def card_html(actor: Actor, t: Tally, thumb: str | None, selected: bool = False,
              thumb_note: str = "", identity: object = "") -> Html:
    """One card; ``thumb`` a data URI, "" for no base image, None while it is being made;
    ``identity`` markup (``identity_html``)."""
    if thumb:  # a data URI this package made (base64): no text from a file in it
        img = Html(f'<img class="ab-gthumb" alt="" src="{esc(thumb)}">')
    elif thumb is None:  # being decoded: the card is drawn again when it is ready
        img = h("div", "…", cls=["ab-gthumb", "ab-gthumb-empty", "ab-gthumb-pending"])
    else:
        img = h("div", thumb_note or "No base image", cls=["ab-gthumb", "ab-gthumb-empty"])
    why_not = trainable(t)
    buttons = h("div",
                h("button", "Training data", cls="ab-gbtn", type="button",
                  data_ab_action="training_data", data_actor=actor.name,
                  title=f"Open {actor.name} on the Training Data page"),
                h("button", "Train", cls="ab-gbtn", type="button", data_ab_action="train",
                  data_actor=actor.name, disabled="disabled" if why_not else None,
                  title=why_not or f"Open {actor.name} on the Training page"),
                cls="ab-gcard-actions")
    words = facet_words(actor)
    # the whole card chooses the actor (a click anywhere); its number is the button for it
    return h("div", img,
             h("button", actor_number(actor) if words else actor.name, cls="ab-gcard-id",
               type="button", data_ab_action="select", data_actor=actor.name,
               title=f"Choose {actor.name}"),
             h("div", words, cls="ab-gcard-facets"),
             chips_html(actor, t), identity, buttons,
             cls=["ab-gcard", *(["ab-gcard-selected"] if selected else [])],
             data_ab_action="select", data_actor=actor.name, title=actor.name)


def actor_header(actor: Actor | None) -> Html:
    """The actor as every page's header names it: ``0002 · European · 35 · female``."""
    if actor is None:
        return h("span", "No actor chosen", cls=["ab-actor-header", "ab-actor-header-none"])
    return h("span", actor_label(actor), cls="ab-actor-header", title=actor.name)


def empty_state(what: str, next_step: str = "", where: str = "") -> Html:
    """``"No images yet: generate some or add files to /data/x/training_data"``: what is
    missing, then what to do about it (``where`` shown as a path)."""
    tail = [": ", next_step] if next_step else []
    if where:
        tail += [" ", h("code", where)]
    return h("div", h("b", what), *tail, cls="ab-empty-state")

def counts_html(counts: dict[str, int]) -> str:
    parts = [f'<span class="ab-badge ab-status-{k}">{esc(IMAGE[ImageStatus(k)].label)}: '
             f"{v}</span>" for k, v in counts.items() if v]
    return '<div class="ab-counts">' + ("".join(parts) or "no images") + "</div>"
