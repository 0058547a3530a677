"""One workstation of tests/test_team.py: launches, marks, polls and cancels at random on actors
the other workstation works on too. Settings come from the environment (ACTORBENCH_TEAM=1).

Usage: python tests/team_worker.py OUT.json ROUNDS SEED GO_FILE ACTOR...
"""

from __future__ import annotations

import json
import random
import sys
import time
from pathlib import Path

from actorbench.errors import ActorbenchError, AlreadyTraining
from actorbench.settings import Settings
from actorbench.team import stamp
from actorbench.training import JobStatus, TrainingParams, TrainingService
from actorbench.training.status import RUNNING
from actorbench.workbench import Workbench

OPS = ["launch", "launch_another", "poll", "mark", "cancel"]
WEIGHTS = [30, 4, 36, 24, 6]


def main(out: Path, rounds: int, seed: int, go: Path, actors: list[str]) -> None:
    wb = Workbench(Settings.from_env(dotenv=False))
    svc = TrainingService(wb)  # team mode: probes the server here
    rng = random.Random(seed)
    log: dict[str, list] = {"launches": [], "refused": [], "marks": [], "seen": [],
                            "cancels": [], "errors": []}
    params = TrainingParams.from_preset("sd15", resolution=256)
    preps = {a: svc.prepare(a, params) for a in actors}
    ids = {a: wb.registry.get(a).id for a in actors}
    Path(f"{out}.ready").touch()
    while not go.exists():
        time.sleep(0.01)
    for r in range(rounds):
        actor = rng.choice(actors)
        op = rng.choices(OPS, WEIGHTS)[0]
        try:
            if op.startswith("launch"):
                v = svc.launch(preps[actor], another=op == "launch_another")
                log["launches"].append({"actor": actor, "id": v.id, "job_id": v.job_id,
                                        "forced": op == "launch_another", "round": r})
            elif op == "poll":
                vs = svc.poll(actor)
                log["seen"].append({"actor": actor, "round": r, "states": {
                    v.id: [v.attempt, str(v.status)] for v in vs}})
            elif op == "mark":
                done = [v for v in svc.versions.load(ids[actor])
                        if v.status == JobStatus.COMPLETED]
                if done:
                    chosen = rng.choice(done)
                    at = stamp()  # what TrainingService.mark_good passes
                    svc.versions.mark_good(wb.registry, actor, chosen.id, at)
                    log["marks"].append({"actor": actor, "version_id": chosen.id,
                                         "marked_at": at, **svc.versions.who})
            else:
                running = [v for v in svc.versions.load(ids[actor])
                           if v.status in RUNNING and v.job_id]
                if running:
                    v = svc.cancel(actor, rng.choice(running).id)
                    log["cancels"].append({"actor": actor, "id": v.id})
        except AlreadyTraining as exc:
            log["refused"].append({"actor": actor, "round": r, "message": str(exc)})
        except ActorbenchError as exc:
            log["errors"].append(f"round {r} {op} {actor}: {exc}")
        time.sleep(rng.uniform(0, 0.01))
    log["conflicts"] = [svc.versions.docs.conflicts]
    out.write_text(json.dumps(log, indent=1))


if __name__ == "__main__":
    main(Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), Path(sys.argv[4]), sys.argv[5:])
