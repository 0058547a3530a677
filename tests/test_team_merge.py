"""Team mode's merge rules and compare-and-swap loop, without a server."""

from __future__ import annotations

import itertools
import json

import pytest

from actorbench.errors import ConfigError, SharedWriteConflict
from actorbench.settings import Settings
from actorbench.storage.memory import MemoryStore
from actorbench.team.documents import SharedDocuments
from actorbench.team.merge import (
    in_future,
    later_mark,
    merge_ledger,
    merge_params,
    merge_registry,
    merge_version,
    next_revision,
    revision,
    state_key,
)


def ver(vid, status, attempt=0, **extra):
    return {"id": vid, "name": vid, "status": status, "attempt": attempt, **extra}


def mark(vid, at, user="alice", machine="ws1"):
    return {"version_id": vid, "marked_at": at, "user": user, "machine": machine}


FORWARD = ["LAUNCHING", "IN_QUEUE", "IN_PROGRESS", "COMPLETED"]


@pytest.mark.parametrize("older,newer", itertools.combinations(FORWARD, 2))
def test_a_state_only_moves_forward(older, newer):
    a, b = ver("x", older), ver("x", newer)
    assert merge_version(a, b)["status"] == newer == merge_version(b, a)["status"]


@pytest.mark.parametrize("final", ["COMPLETED", "FAILED", "CANCELLED", "TIMED_OUT", "LOST",
                                   "LAUNCH_FAILED"])
def test_final_states_beat_queued_and_running(final):
    for live in ("LAUNCHING", "IN_QUEUE", "IN_PROGRESS"):
        assert merge_version(ver("x", final), ver("x", live))["status"] == final
        assert merge_version(ver("x", live), ver("x", final))["status"] == final


def test_the_answer_that_says_more_wins_among_final_states():
    # a job RunPod completed before the cancel reached it did complete
    assert merge_version(ver("x", "CANCELLED"), ver("x", "COMPLETED"))["status"] == "COMPLETED"
    assert merge_version(ver("x", "LOST"), ver("x", "FAILED"))["status"] == "FAILED"


def test_a_retry_moves_ahead_of_the_failure_it_retries():
    failed, retried = ver("x", "FAILED"), ver("x", "IN_QUEUE", attempt=1)
    assert merge_version(failed, retried)["status"] == "IN_QUEUE"
    assert merge_version(retried, failed)["attempt"] == 1


def test_the_loser_fills_what_the_winner_lacks():
    launching = ver("x", "LAUNCHING", user="bob", timings={"created": 1})
    queued = ver("x", "IN_QUEUE", job_id="j-1", user=None, timings={"submitted_at": 2})
    out = merge_version(launching, queued)
    assert (out["status"], out["job_id"], out["user"]) == ("IN_QUEUE", "j-1", "bob")
    assert out["timings"] == {"created": 1, "submitted_at": 2}


def test_progress_moves_forward_within_a_state():
    a = ver("x", "IN_PROGRESS", progress={"progress": 0.7})
    b = ver("x", "IN_PROGRESS", progress={"progress": 0.3})
    assert merge_version(b, a)["progress"]["progress"] == 0.7
    assert state_key(ver("x", "edited-by-hand")) < state_key(ver("x", "LAUNCHING"))


def test_versions_merge_by_id_and_nothing_is_lost():
    stored = {"actor_id": "1", "versions": [ver("a", "IN_PROGRESS"), ver("b", "IN_QUEUE")]}
    mine = {"versions": [ver("a", "IN_QUEUE"), ver("c", "LAUNCHING")]}
    out = merge_ledger(stored, mine)
    assert [(v["id"], v["status"]) for v in out["versions"]] == [
        ("a", "IN_PROGRESS"), ("b", "IN_QUEUE"), ("c", "LAUNCHING")]
    assert out["actor_id"] == "1" and merge_ledger(out, mine) == out  # re-applying: no change


def test_the_later_mark_wins_ties_by_user():
    early, late = mark("a", "2026-11-22T10:00:00.000001+00:00"), mark("b",
                                                                      "2026-11-22T10:00:01+00:00")
    assert later_mark(early, late) is late and later_mark(late, early) is late
    assert later_mark(None, early) is early and later_mark(early, None) is early
    tie_a, tie_b = mark("a", "2026-11-22T10:00:00+00:00", "alice"), mark(
        "b", "2026-11-22T10:00:00+00:00", "bob")
    assert later_mark(tie_a, tie_b) is tie_b and later_mark(tie_b, tie_a) is tie_b
    # a to-the-second stamp and a finer one compare as times, not as strings
    assert later_mark(mark("a", "2026-11-22T10:00:00.5+00:00"),
                      mark("b", "2026-11-22T10:00:00+00:00"))["version_id"] == "a"


def test_one_good_version_per_actor_follows_the_winning_mark():
    stored = {"versions": [ver("a", "COMPLETED"), ver("b", "COMPLETED")],
              "good": mark("b", "2026-11-22T10:00:05+00:00", "bob")}
    out = merge_ledger(stored, {"good": mark("a", "2026-11-22T10:00:01+00:00")})
    assert out["good"]["version_id"] == "b"  # an earlier mark arriving late loses
    assert [v["isGood"] for v in out["versions"]] == [False, True]
    out = merge_ledger(out, {"good": mark("a", "2026-11-22T10:00:09+00:00")})
    assert [v["isGood"] for v in out["versions"]] == [True, False]


def test_merge_order_does_not_matter():
    changes = [{"versions": [ver("a", "IN_QUEUE")]}, {"versions": [ver("a", "COMPLETED")]},
               {"versions": [ver("b", "LAUNCHING")]},
               {"good": mark("a", "2026-11-22T10:00:00+00:00", "bob")},
               {"good": mark("a", "2026-11-22T10:00:00+00:00", "alice")}]
    results = set()
    for order in itertools.permutations(changes):
        doc = None
        for change in order:
            doc = merge_ledger(doc, change)
        results.add(json.dumps(sorted(doc["versions"], key=lambda v: v["id"]), sort_keys=True)
                    + json.dumps(doc["good"], sort_keys=True))
    assert len(results) == 1


def test_registry_and_params_merge():
    stored = {"actors": [{"id": 7, "name": "0007_x_30_male"}],
              "validated": {"0007_x_30_male": mark("a", "2026-11-22T10:00:05+00:00")}}
    mine = {"actors": [{"id": 8, "name": "0007_x_30_male"}, {"id": 9, "name": "0009_y_20_male"}],
            "validated": {"0007_x_30_male": mark("b", "2026-11-22T10:00:01+00:00"),
                          "0009_y_20_male": mark("c", "2026-11-22T10:00:01+00:00")}}
    out = merge_registry(stored, mine)
    assert [(a["id"], a["name"]) for a in out["actors"]] == [(7, "0007_x_30_male"),
                                                             (9, "0009_y_20_male")]
    assert {k: v["version_id"] for k, v in out["validated"].items()} == {
        "0007_x_30_male": "a", "0009_y_20_male": "c"}
    old = {"params": {"rank": 8}, "saved_at": "2026-11-22T10:00:00+00:00", "user": "a"}
    new = {"params": {"rank": 16}, "saved_at": "2026-11-22T10:00:02+00:00", "user": "b"}
    assert merge_params(old, new) is new and merge_params(new, old) is new
    assert merge_params(None, old) is old


def test_the_revision_orders_marks_and_saves_not_the_clock():
    pinned = {**mark("a", "9999-12-31T00:00:00+00:00", "mallory"), "revision": 7}
    real = {**mark("b", "2026-11-22T10:00:00+00:00"), "revision": next_revision(pinned)}
    assert real["revision"] == 8
    assert later_mark(pinned, real) is real and later_mark(real, pinned) is real
    # a mark ``valid`` refuses never wins, whatever its revision
    assert later_mark(real, {**pinned, "revision": 99}, lambda m: m["user"] != "mallory") is real
    assert later_mark({**pinned, "revision": 99}, None, lambda m: False) is None
    assert revision({"revision": True}) == revision({"revision": -3}) == revision(None) == 0
    ahead = {"params": {"rank": 666}, "saved_at": "9999-12-31T00:00:00+00:00", "revision": 50}
    mine = {"params": {"rank": 16}, "saved_at": "2026-11-22T10:00:00+00:00", "revision": 1}
    assert merge_params(ahead, mine) is mine  # dated in the future: never kept
    assert in_future("9999-01-01T00:00:00+00:00") and not in_future("2026-01-01T00:00:00Z")


class RacingStore(MemoryStore):
    """Another writer gets in between our read and our write, ``races`` times."""

    def __init__(self, races):
        super().__init__("race")
        self.races = races

    def put_bytes_if(self, key, data, if_match=None, if_none_match=False,
                     content_type="application/json"):
        if self.races:
            self.races -= 1
            got = self.get_bytes(key)
            doc = json.loads(got[0]) if got else {"versions": []}
            doc["versions"].append(ver(f"other{self.races}", "IN_QUEUE"))
            super().put_bytes_if(key, json.dumps(doc).encode())
        return super().put_bytes_if(key, data, if_match, if_none_match, content_type)


def test_a_lost_race_is_merged_again_and_nothing_is_lost():
    store = RacingStore(races=3)
    docs = SharedDocuments(store, "state", sleep=lambda s: None)
    doc = docs.update("ledgers/1.json",
                      lambda cur: merge_ledger(cur, {"versions": [ver("mine", "LAUNCHING")]}))
    assert docs.conflicts == 3
    assert {v["id"] for v in doc["versions"]} == {"mine", "other0", "other1", "other2"}
    assert json.loads(store.get_bytes("state/ledgers/1.json")[0]) == doc


def test_endless_races_give_up_loudly():
    docs = SharedDocuments(RacingStore(races=100), "state", attempts=4, sleep=lambda s: None)
    with pytest.raises(SharedWriteConflict, match="4 attempts"):
        docs.update("ledgers/1.json", lambda cur: merge_ledger(cur, {"versions": [ver("m", "X")]}))


def test_team_settings():
    s = Settings.from_env(env={}, dotenv=False)
    assert not s.team and s.team_prefix == "system_actors/actorbench_state"
    s = Settings.from_env(env={"ACTORBENCH_TEAM": "1", "ACTORBENCH_STATE_PREFIX": "/st/",
                               "ACTORBENCH_USER": "zoe"}, dotenv=False)
    assert (s.team, s.team_prefix, s.user) == (True, "st", "zoe")
    with pytest.raises(ConfigError, match="ACTORBENCH_TEAM"):
        Settings.from_env(env={"ACTORBENCH_TEAM": "maybe"}, dotenv=False)
    with pytest.raises(ConfigError, match="outside the training data"):
        Settings.from_env(env={"ACTORBENCH_STATE_PREFIX": "system_actors/training_data/x"},
                          dotenv=False)


def test_the_later_trigger_word_wins():
    a = {"word": "ohwx anna", "at": "2026-11-22T10:00:05+00:00", "user": "a"}
    b = {"word": "zqkvtm", "at": "2026-11-22T10:00:01+00:00", "user": "b"}
    out = merge_registry({"triggers": {"x": a}}, {"triggers": {"x": b, "y": b}})
    assert out["triggers"] == {"x": a, "y": b}
    assert merge_registry(out, {"triggers": {"x": {**b, "at": "2026-11-22T10:00:09+00:00"}}}
                          )["triggers"]["x"]["word"] == "zqkvtm"
    assert "triggers" not in merge_registry({}, {"validated": {}})


def test_a_trigger_word_dated_9999_does_not_beat_a_later_real_setting():
    """Issue 28: the order of trigger settings is the bucket's (a revision given inside the
    compare-and-swap), not the writer's clock; a setting dated beyond the skew is refused."""
    from datetime import UTC, datetime

    now = datetime.now(UTC).isoformat()
    pinned = {"word": "pinned", "at": "9999-12-31T23:59:59+00:00", "user": "m", "revision": 7}
    real = {"word": "ohwx anna", "at": now, "user": "a", "revision": next_revision(pinned)}
    assert real["revision"] == 8
    out = merge_registry({"triggers": {"x": pinned}}, {"triggers": {"x": real}})
    assert out["triggers"]["x"] == real
    # a stored future setting loses to any real one, even one with a lower revision
    low = {**real, "revision": 1}
    assert merge_registry({"triggers": {"x": pinned}}, {"triggers": {"x": low}}
                          )["triggers"]["x"] == low
    # and a future setting is never taken in, whatever its revision
    ahead = {**pinned, "revision": 10**9}
    assert merge_registry({"triggers": {"x": real}}, {"triggers": {"x": ahead}}
                          )["triggers"]["x"] == real
    assert "triggers" not in merge_registry({}, {"triggers": {"x": pinned}})
    # the higher revision wins over a later clock
    older_clock = {**real, "word": "zqkvtm", "at": "2026-01-01T00:00:00+00:00", "revision": 9}
    assert merge_registry(out, {"triggers": {"x": older_clock}})["triggers"]["x"] == older_clock
    assert merge_registry({"triggers": {"x": older_clock}}, {"triggers": {"x": real}}
                          )["triggers"]["x"] == older_clock
