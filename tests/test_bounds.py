"""Unbounded work from the bucket is cut off: a shared document over its cap, a prefix with too
many objects, and the unrecognised-files list (caps lowered here to keep the test quick)."""

from __future__ import annotations

import pytest

import actorbench.sync.listing as listing
import actorbench.team.documents as documents
from actorbench.errors import RegistryError, StoreError
from actorbench.training import TrainingService
from actorbench.ui.pages.training_data import header as plan_html
from actorbench.workbench import Workbench
from tests.helpers import png, put_remote
from tests.team_setup import atomic_moto_puts, team_bucket, team_settings
from tests.test_team import completed

A = "0001_european_30_female"
__all__ = ["atomic_moto_puts"]


@pytest.mark.parametrize("backend", ["moto-server-lean"], indirect=True)
@pytest.mark.attack("100,000 odd files beside an actor's images; a prefix with more objects "
                    "than a listing may hold", "the unrecognised list shows 200 names and "
                    "counts the rest; the listing stops at its cap with one line naming "
                    "the prefix")
def test_the_unrecognised_list_and_the_listing_are_capped(wb, monkeypatch):
    put_remote(wb, A, 1, png(1))
    prefix = wb.layout.actor_prefix(A)
    for i in range(5):
        wb.store.put_bytes(f"{prefix}odd-{i}.txt", b"x")
    monkeypatch.setattr(plan_html, "UNRECOGNISED_SHOWN", 3)
    html = plan_html.unrecognised_html(wb.engine.plan([A])[A])
    assert html.count("<code>") == 3 and "… and 2 more files" in html and "5 files" in html
    monkeypatch.setattr(listing, "MAX_LISTED", 4)
    with pytest.raises(StoreError, match=f"{prefix} holds more than 4 objects") as err:
        wb.engine.plan([A])
    assert "\n" not in str(err.value)


@pytest.mark.attack("a 100,000-version ledger in the bucket",
                    "refused with one line naming the document and its size, not parsed")
def test_a_shared_document_over_its_cap_is_refused_naming_it(moto_server, tmp_path,
                                                             monkeypatch, atomic_moto_puts):
    bucket = team_bucket(moto_server, tmp_path)
    svc = TrainingService(Workbench(team_settings(moto_server, tmp_path / "ws", bucket, "al")))
    svc.versions.save(1, [completed(f"id{i:04d}", f"v{i}", "al", bucket) for i in range(20)])
    assert len(svc.versions.load(1)) == 20
    monkeypatch.setattr(documents, "MAX_DOC_BYTES", 2000)
    with pytest.raises(RegistryError, match=r"ledgers/1\.json: is [\d,]+ bytes, over the "
                                            r"2,000-byte cap") as err:
        svc.versions.load(1)
    assert "\n" not in str(err.value)
