"""A hostile teammate's marks and saved parameters: ordered by the bucket's revision counter,
believed only for the library's own LoRA of a completed version, never dated in the future.

Against moto's server process; the attacker writes the shared documents directly, as anyone
with write access to the bucket can.
"""

from __future__ import annotations

from typing import Any

import pytest

from actorbench.cli import main
from actorbench.clock import now_iso
from actorbench.training import TrainingService
from actorbench.workbench import Workbench
from tests.team_setup import ACTORS, atomic_moto_puts, team_bucket, team_env, team_settings
from tests.test_team import completed

A, B = ACTORS[0], ACTORS[1]
__all__ = ["atomic_moto_puts"]
FAR = "9999-12-31T23:59:59+00:00"


def run(capsys, *args: str) -> tuple[int, str]:  # type: ignore[no-untyped-def]
    capsys.readouterr()
    try:
        main(list(args))
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out + err


def plant(wb: Workbench, mark: dict[str, Any]) -> None:
    """What mallory writes: the mark into A's ledger and into the shared registry."""
    team = wb.team
    assert team is not None
    team.docs.update("ledgers/1.json", lambda cur: {**(cur or {}), "good": mark})
    team.docs.update("registry.json", lambda cur: {**(cur or {}),
                                                   "validated": {A: mark}})


def good_of(settings_dir, moto_server, bucket: str) -> dict[str, Any] | None:  # type: ignore[no-untyped-def]
    wb = Workbench(team_settings(moto_server, settings_dir, bucket, "erin"))
    return wb.registry.get(A).validated_lora_model


@pytest.mark.attack("a teammate's mark dated 9999, or pointing at http://evil.example/... or at "
                    "another actor's LoRA, with a huge revision",
                    "not believed on any workstation; a real mark-good wins (revision + 1)")
def test_forged_marks_are_refused_and_a_real_mark_good_wins(moto_server, tmp_path, monkeypatch,
                                                            capsys, atomic_moto_puts):
    bucket = team_bucket(moto_server, tmp_path)
    for k, v in team_env(moto_server, tmp_path / "carol", bucket, "carol").items():
        monkeypatch.setenv(k, v)
    carol = TrainingService(Workbench(team_settings(moto_server, tmp_path / "carol", bucket,
                                                    "carol")))
    v1, v2 = completed("aaa111", "v1", "dave", bucket), completed("bbb222", "v2", "dave", bucket)
    carol.versions.save(1, [v1, v2])
    theirs = completed("ccc333", "v1", "dave", bucket)
    theirs.lora_url = theirs.lora_url.replace(A, B)  # B's own LoRA
    carol.versions.save(2, [theirs])
    mallory = Workbench(team_settings(moto_server, tmp_path / "mallory", bucket, "mallory"))
    base = {"version_id": v1.id, "version_name": "v1", "user": "mallory", "machine": "x",
            "parameters": {}}
    forged = [
        {**base, "lora_url": "http://evil.example/backdoor.safetensors", "marked_at": FAR},
        {**base, "lora_url": v1.lora_url, "marked_at": FAR},  # own LoRA, dated ahead
        {**base, "lora_url": theirs.lora_url, "marked_at": now_iso()},  # another actor's
        {**base, "version_id": "nope", "lora_url": v1.lora_url.replace("aaa111", "nope"),
         "marked_at": now_iso()},  # no such version
    ]
    for n, mark in enumerate(forged):
        plant(mallory, {**mark, "revision": 10**6 * (n + 1)})
        assert good_of(tmp_path / f"erin{n}", moto_server, bucket) is None, mark
        code, out = run(capsys, "versions", A)
        assert code == 0 and "✓ good" not in out and "mallory" not in out, out
        code, out = run(capsys, "mark-good", A, "v2")
        assert code == 0 and "v2 is the validated model (marked by carol@" in out, out
        good = good_of(tmp_path / f"erin{n}b", moto_server, bucket)
        assert good is not None and (good["version_id"], good["user"]) == (v2.id, "carol")
        assert good["revision"] == 10**6 * (n + 1) + 1  # the bucket's order, not a clock
        assert [v.isGood for v in carol.versions.load(1)] == [False, True]


@pytest.mark.attack("a teammate's believable mark kept in the shared registry with a higher "
                    "revision than the ledger's", "mark-good says which mark was kept and "
                    "exits 1 (its mark did not take effect)")
def test_mark_good_exits_non_zero_when_its_mark_did_not_take_effect(
        moto_server, tmp_path, monkeypatch, capsys, atomic_moto_puts):
    bucket = team_bucket(moto_server, tmp_path)
    for k, v in team_env(moto_server, tmp_path / "carol", bucket, "carol").items():
        monkeypatch.setenv(k, v)
    carol = TrainingService(Workbench(team_settings(moto_server, tmp_path / "carol", bucket,
                                                    "carol")))
    v1, v2 = completed("aaa111", "v1", "dave", bucket), completed("bbb222", "v2", "dave", bucket)
    carol.versions.save(1, [v1, v2])
    mallory = Workbench(team_settings(moto_server, tmp_path / "mallory", bucket, "mallory"))
    assert mallory.team is not None
    mark = {"version_id": v1.id, "version_name": "v1", "lora_url": v1.lora_url, "user":
            "mallory", "machine": "x", "marked_at": now_iso(), "revision": 10**9}
    mallory.team.docs.update("registry.json", lambda cur: {**(cur or {}),
                                                           "validated": {A: mark}})
    code, out = run(capsys, "mark-good", A, "v2")
    assert code == 1 and "v2 was marked, but a later mark by mallory@x" in out, out


@pytest.mark.attack("a teammate's saved parameters dated 9999 with a huge revision",
                    "never copied to a workstation; the next real save wins")
def test_saved_parameters_dated_ahead_are_not_believed(moto_server, tmp_path, atomic_moto_puts):
    bucket = team_bucket(moto_server, tmp_path)
    mallory = Workbench(team_settings(moto_server, tmp_path / "mallory", bucket, "mallory"))
    carol = Workbench(team_settings(moto_server, tmp_path / "carol", bucket, "carol"))
    assert mallory.team is not None and carol.team is not None
    doc = carol.team.params_doc(A)
    mallory.team.docs.update(doc, lambda cur: {"params": {"rank": 666}, "saved_at": FAR,
                                               "user": "mallory", "revision": 10**6})
    cache = tmp_path / "params.json"
    carol.team.refresh_params(A, cache)
    assert not cache.exists()
    carol.team.save_params(A, {"rank": 16})
    stored, _ = carol.team.docs.read(doc)
    assert stored is not None and (stored["params"], stored["user"]) == ({"rank": 16}, "carol")
    assert stored["revision"] == 10**6 + 1
    carol.team.refresh_params(A, cache)
    assert cache.read_text().count("16") == 1
