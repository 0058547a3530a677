"""Terminal output is inert: escapes in shared documents, ledgers and S3 keys print as text."""

from __future__ import annotations

import pytest

from actorbench.cli import main
from actorbench.settings import Settings
from actorbench.terminal import inert
from actorbench.training import JobStatus, TrainingService, TrainingVersion
from actorbench.workbench import Workbench
from tests.team_setup import ACTORS, atomic_moto_puts, team_bucket, team_env

A = ACTORS[0]
__all__ = ["atomic_moto_puts"]
OSC52 = "mallory\x1b]52;c;ZWNobyBwd25lZA==\x07"  # writes the clipboard
REWRITE = "\r\x1b[2K  v1 COMPLETED"  # a carriage return that rewrites the printed line
CLEAR = "\x1b[2J\x1b[H\u202e\x9b31m"  # clear screen, home, a bidi override, a C1 CSI
UNSAFE = ("\x1b", "\x07", "\r", "\x9b", "\u202e")


def test_inert_spells_every_control_character_out():
    assert inert(OSC52) == "mallory\\x1b]52;c;ZWNobyBwd25lZA==\\x07"
    assert inert("a\nb\tc\x7f\u2028") == "a\\x0ab\\x09c\\x7f\\u2028"
    assert inert("a\nb", keep="\n") == "a\nb" and inert("ünïcödé 😀") == "ünïcödé 😀"


def _version(vid: str, name: str, bucket: str, status: JobStatus) -> TrainingVersion:
    v = TrainingVersion.new(name, "2026-11-22T10:00:00+00:00" + CLEAR, {"base_model": "sdxl"},
                            [])
    v.id, v.status, v.job_id = vid, status, f"job-{vid}{REWRITE}"
    v.user, v.machine = OSC52, "ws1" + REWRITE
    if status == JobStatus.COMPLETED:
        v.lora_url = f"s3://{bucket}/system_actors/loras/{A}/{vid}/x.safetensors"
    else:
        v.error = "out of memory" + CLEAR + REWRITE
    return v


@pytest.mark.parametrize("team", [False, True])
@pytest.mark.attack("an OSC 52 clipboard write, a screen clear, a C1 CSI, a bidi override and a "
                    "carriage return in a ledger's user, machine, job id, date and error",
                    "`versions`, `mark-good` and `train status` print them spelled out "
                    "(\\x1b...), no escape reaches the terminal")
def test_versions_mark_good_and_train_status_print_no_escape(team, moto_server, tmp_path,
                                                              monkeypatch, capsys,
                                                              atomic_moto_puts):
    bucket = team_bucket(moto_server, tmp_path)
    env = team_env(moto_server, tmp_path / "ws", bucket, "carol",
                   ACTORBENCH_TEAM="1" if team else "0")
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    svc = TrainingService(Workbench(Settings.from_env(env=env, dotenv=False)))
    svc.versions.save(1, [_version("aaa111", "v1", bucket, JobStatus.COMPLETED),
                          _version("bbb222", "v2", bucket, JobStatus.FAILED)])
    outputs = []
    for args in (["versions", A], ["mark-good", A, "v1"], ["versions", A],
                 ["train", "status", A], ["train", "status", A, "v2"]):
        capsys.readouterr()
        main(args)
        out, err = capsys.readouterr()
        outputs.append(out + err)
    text = "".join(outputs)
    assert "mallory\\x1b]52;c;" in text and "\\x07" in text  # shown, spelled out
    assert "out of memory\\x1b[2J" in text and "job-aaa111\\x0d\\x1b[2K" in text
    for bad in UNSAFE:
        assert bad not in text, (bad, text)
