"""One vocabulary per concept: a code compared in the code, its words shown on every page."""

from __future__ import annotations

from actorbench.actors.registry import LIBRARY_STATUSES, LibraryStatus, library_status
from actorbench.present.words import facet_word, library_status_word
from actorbench.ui.widgets.actor_card import STATUS_WORDS, ethnicity_words


def test_library_status_is_one_enum_with_its_words():
    assert LIBRARY_STATUSES == tuple(LibraryStatus)
    assert {s.value: s.label for s in LibraryStatus} == STATUS_WORDS
    assert [library_status_word(s) for s in LibraryStatus] == [
        "Synced", "Not synced yet", "No images yet"]
    assert LibraryStatus.NOT_SYNCED == "not_synced"  # what records and filters compare


def test_facets_read_the_same_everywhere():
    assert facet_word("east_asian") == ethnicity_words("east_asian") == "East Asian"
    assert facet_word("middle_eastern") == "Middle Eastern"


def test_the_batch_page_lists_facets_in_words_and_keeps_the_codes(wb):  # type: ignore[no-untyped-def]
    from actorbench.ui import App

    app = App(wb)
    try:
        batch = app.batch
        assert ("East Asian", "east_asian") in batch.ethnicity.options
        assert all(label != value or label == "Any" for label, value in batch.ethnicity.options
                   if "_" in value)
        batch.ethnicity.value = "east_asian"
        assert batch.model.ethnicity == "east_asian"
        assert [label for label, _ in batch.status.options][1:] == [
            s.label for s in LibraryStatus]
    finally:
        app.close()


def test_an_actors_library_status_is_a_member(wb):  # type: ignore[no-untyped-def]
    assert library_status(wb.registry.get(1)) is LibraryStatus.NO_DATA


def test_the_side_a_file_was_found_on_is_one_enum():
    from actorbench.sync.files import Side, Unrecognised

    assert [s.value for s in Side] == ["local", "s3"] and Side.S3.label == "in S3"
    assert Unrecognised(Side.S3, "x.txt", "not an image").to_json()["where"] == "s3"
