"""Prepare, launch, follow and keep LoRA trainings: the parts wired together."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..captions import CaptionStore, Carried, Describe, drafts_for, facet_words, plain_only
from ..clock import now_iso, stamp
from ..errors import ActorbenchError
from ..fsutil import atomic_write_json
from ..storage.layout import lora_prefix
from ..sync.plan import in_s3
from .adapter import CONTRACT, CONTRACT_CAPTIONS, load_adapter
from .estimates import Estimate, estimate
from .params import TrainingParams, auto_adjust, make_params
from .runpod import RunPodClient, RunPodError, check_status, is_job_id
from .status import ACTIVE, FINAL, RETRYABLE, STATES, JobStatus
from .validate import CaptionInput, Validation, validate_dataset
from .versions import TrainingVersion, VersionStore

if TYPE_CHECKING:
    from ..workbench import Workbench  # passed in: the service needs no import of it


@dataclass
class Prepared:
    actor: str
    params: TrainingParams
    formula: str
    estimate: Estimate
    validation: Validation


class TrainingService:
    """Usage::

        svc = TrainingService(wb)
        prep = svc.prepare("0002_european_35_female", TrainingParams.from_preset("sdxl"))
        version = svc.launch(prep)
        svc.poll_until_done(prep.actor)
    """

    def __init__(self, wb: Workbench, client: RunPodClient | None = None,
                 describe: Describe | None = None) -> None:
        self.wb = wb
        self._client = client
        #: what varies per image (pose, framing), for draft captions: the face analysis's
        #: words by default (plain drafts without the faces extra)
        if describe is None:
            from ..faces.service import face_words  # numpy and PIL: only once a service is made

            describe = face_words(wb.layout)
        self.describe = describe
        # team mode: the ledger in the bucket (compare-and-swap); else the local file
        self.versions = (wb.team.ledger if wb.team is not None
                         else VersionStore(wb.layout, wb.settings.who.as_dict()))

    @property
    def client(self) -> RunPodClient:
        if self._client is None:
            s = self.wb.settings
            self._client = RunPodClient(s.runpod_base_url, s.runpod_endpoint_id,
                                        s.runpod_api_key,
                                        adapter=load_adapter(s.runpod_adapter))
        return self._client

    # -- parameters ----------------------------------------------------------------------
    def params_path(self, actor_name: str):
        return self.wb.layout.actor_dir(actor_name) / "training_params.json"

    def last_params(self, actor_name: str) -> TrainingParams | None:
        """The parameters used last time for this actor, if any were saved and still valid."""
        import json

        if self.wb.team is not None:  # the local file is the team's cache
            self.wb.team.refresh_params(actor_name, self.params_path(actor_name))
        try:
            return make_params(**json.loads(self.params_path(actor_name).read_text()))
        except (OSError, ValueError, RecursionError, ActorbenchError):
            return None

    def save_params(self, actor_name: str, params: TrainingParams) -> None:
        atomic_write_json(self.params_path(actor_name), params.model_dump())
        if self.wb.team is not None:
            self.wb.team.save_params(actor_name, params.model_dump())

    def prepare(self, actor_ref: str, params: TrainingParams, adjust: bool = True) -> Prepared:
        """Validate, adjust and estimate; a trigger word the caller did not set is the
        actor's (``actors.json``'s ``trigger_word``, else its rare default)."""
        actor = self.wb.registry.get(actor_ref)
        name = actor.name
        if "trigger_word" not in params.model_fields_set:
            params = make_params(**{**params.model_dump(), "trigger_word": actor.trigger_word})
        plan = self.wb.engine.plan([name])[name]
        validation = validate_dataset(plan, params.resolution,
                                      self.caption_input(name, params.trigger_word, plan))
        from .likeness import face_validation  # who is in the images (faces extra, cached)

        validation.findings += face_validation(self.wb.layout, name, params.resolution)
        formula = ""
        if adjust and validation.images:
            adj = auto_adjust(params, validation.images)
            params, formula = adj.params, adj.formula
        from .costs import all_local_versions, calibration

        measured = calibration(all_local_versions(self.wb.layout))
        return Prepared(name, params, formula, estimate(params, calibration=measured),
                        validation)

    def caption_input(self, name: str, trigger: str, plan: Any) -> CaptionInput:
        """The actor's captions, and the drafts used where an image has none."""
        facets = self.wb.registry.get(name).facets
        traits = tuple(facet_words(facets.ethnicity, facets.gender))
        images = {c.index: c.key.rsplit("/", 1)[-1] for c in plan.changes}
        return CaptionInput(CaptionStore(self.wb.layout).read(name), trigger,
                            drafts_for(images, trigger, self.describe, traits), traits)

    # -- launching -----------------------------------------------------------------------
    def launch(self, prep: Prepared, force: bool = False, another: bool = False
               ) -> TrainingVersion:
        """Create the version record first, then ``/run``: a double click never launches twice.

        A job of the actor queued or running (launched here or, in team mode, from another
        workstation) raises ``AlreadyTraining`` naming who launched it and when; ``another``
        confirms a second launch (``force`` also skips the dataset's blockers)."""
        if not prep.validation.ok and not force:
            raise ActorbenchError("Dataset has blockers: " + " ".join(
                f.message for f in prep.validation.blockers))
        actor = self.wb.registry.get(prep.actor)
        plan = self.wb.engine.plan([actor.name])[actor.name]
        images = [c for c in plan.changes if in_s3(c)]
        with self.versions.lock(actor.id):
            versions = self.versions.load(actor.id)
            version = TrainingVersion.new(
                f"v{len(versions) + 1}", now_iso(), prep.params.model_dump(),
                [{"key": c.key, "etag": c.remote.etag, **_caption_of(prep, c.index)}
                 for c in images if c.remote])
            version.estimate = {"seconds": round(prep.estimate.seconds),
                                "cost_usd": round(prep.estimate.cost_usd, 4),
                                "gpu": prep.estimate.gpu}
            # recorded before /run; in team mode by a compare-and-swap that re-checks
            self.versions.record_launch(actor, versions, version, another=force or another)
            job_input = job_contract(self.wb, actor.name, version, prep.params, images,
                                     prep.validation.captions)
            webhook = None
            if self.wb.settings.webhook_base_url:  # the secret proves a callback is RunPod's
                webhook = (f"{self.wb.settings.webhook_base_url.rstrip('/')}/{actor.id}/"
                           f"{version.id}?secret={version.webhook_secret}")
            try:
                job = self.client.run(job_input, prep.estimate.execution_timeout_ms, webhook)
            except RunPodError as exc:
                version.status, version.error = JobStatus.LAUNCH_FAILED, str(exc)
                self.versions.save(actor.id, versions)
                raise
            version.job_id = job["id"]
            version.status = JobStatus(job.get("status") or JobStatus.IN_QUEUE)
            version.timings["submitted_at"] = now_iso()
            self._save_launched(actor, versions, version)
        self.save_params(actor.name, prep.params)
        return version

    def _save_launched(self, actor: Any, versions: list[TrainingVersion],
                       version: TrainingVersion) -> None:
        """A paid job is running: its id must be kept even if the shared ledger cannot be
        written now. Then it goes to this workstation's file, and the error says so."""
        try:
            self.versions.save(actor.id, versions)
        except Exception as exc:  # whatever failed, keep the job id first
            local = VersionStore(self.wb.layout, self.wb.settings.who.as_dict())
            local.save(actor.id, versions)
            raise ActorbenchError(
                f"{actor.name} {version.name} was launched (RunPod job {version.job_id}) but "
                f"the shared ledger could not be written ({exc}); the job is recorded in "
                f"{local.path(actor.id)} and the next save shares it.") from exc

    def launch_batch(self, actor_refs: list[str], params: TrainingParams
                     ) -> dict[str, TrainingVersion | str]:
        """One preset for several actors, each auto-adjusted to its own image count."""
        out: dict[str, TrainingVersion | str] = {}
        for ref in actor_refs:
            try:
                out[ref] = self.launch(self.prepare(ref, params))
            except ActorbenchError as exc:
                out[ref] = str(exc)
        return out

    # -- following -----------------------------------------------------------------------
    def poll(self, actor_ref: str) -> list[TrainingVersion]:
        """Update every unfinished version of the actor from ``/status``; returns them all."""
        actor = self.wb.registry.get(actor_ref)
        with self.versions.lock(actor.id):
            versions = self.versions.load(actor.id)
            for v in versions:
                if v.status not in ACTIVE or not v.job_id:
                    continue
                if not is_job_id(v.job_id):  # an edited record: never send it, never retry it
                    v.status = JobStatus.LOST
                    v.error = (f"The record's job id {str(v.job_id)[:60]!r} is not one RunPod "
                               "makes; it was not sent to RunPod.")
                    continue
                try:
                    st = self.client.status(v.job_id)
                except RunPodError as exc:
                    if exc.status == 404:
                        v.error = "RunPod no longer knows this job (it keeps results 30 minutes)."
                        v.status = JobStatus.LOST
                    else:
                        v.error = str(exc)
                    continue
                apply_status(v, st)
            self.versions.save(actor.id, versions)
        return versions

    def poll_until_done(self, actor_ref: str, timeout: float = 600.0, interval: float = 0.5,
                        on_update: Callable[[list[TrainingVersion]], None] | None = None,
                        stop: threading.Event | None = None) -> list[TrainingVersion]:
        """Poll until no job of the actor is active, ``timeout`` passed, or ``stop`` is set
        (checked between polls; the wait ends as soon as it is set)."""
        deadline = time.monotonic() + timeout
        delay = interval
        stop = stop or threading.Event()
        while True:
            versions = self.poll(actor_ref)
            if on_update:
                on_update(versions)
            if not any(v.status in ACTIVE for v in versions) or time.monotonic() > deadline:
                return versions
            if stop.wait(delay):
                return versions
            delay = min(delay * 1.5, 10.0)

    def cancel(self, actor_ref: str, version_id: str) -> TrainingVersion:
        actor = self.wb.registry.get(actor_ref)
        with self.versions.lock(actor.id):
            versions = self.versions.load(actor.id)
            v = next((x for x in versions if x.id == version_id), None)
            if v is None or not v.job_id:
                raise ActorbenchError(f"No launched version {version_id!r} for {actor.name}.")
            if v.status in FINAL:
                return v
            self.client.cancel(v.job_id)
            v.status = JobStatus.CANCELLED
            v.timings["finished_at"] = now_iso()
            self.versions.save(actor.id, versions)
            return v

    def retry(self, actor_ref: str, version_id: str) -> TrainingVersion:
        actor = self.wb.registry.get(actor_ref)
        with self.versions.lock(actor.id):
            versions = self.versions.load(actor.id)
            v = next((x for x in versions if x.id == version_id), None)
            if v is None or not v.job_id or v.status not in RETRYABLE:
                raise ActorbenchError("Only a FAILED or TIMED_OUT version can be retried.")
            st = self.client.retry(v.job_id)
            v.status, v.error = JobStatus(st.get("status", JobStatus.IN_QUEUE)), None
            v.attempt += 1  # ahead of the FAILED it retries, in a team's merge too
            self.versions.save(actor.id, versions)
            return v

    def accept_webhook(self, actor_ref: str, version_id: str, secret: str,
                       body: dict[str, Any]) -> TrainingVersion:
        """Apply a RunPod webhook body, only if it carries the version's per-job secret."""
        import hmac

        actor = self.wb.registry.get(actor_ref)
        with self.versions.lock(actor.id):
            versions = self.versions.load(actor.id)
            v = next((x for x in versions if x.id == version_id), None)
            if v is None or not hmac.compare_digest(str(secret), v.webhook_secret):
                raise ActorbenchError("Webhook refused: unknown version or wrong secret.")
            if not v.job_id or body.get("id") != v.job_id or body.get("status") not in STATES:
                raise ActorbenchError("Webhook refused: it does not describe this job.")
            try:
                st = check_status(body, v.job_id, "Webhook")
            except RunPodError as exc:
                raise ActorbenchError(f"Webhook refused: {exc}") from None
            apply_status(v, st)
            self.versions.save(actor.id, versions)
            return v

    def mark_good(self, actor_ref: str, version_id: str) -> TrainingVersion:
        return self.versions.mark_good(self.wb.registry, actor_ref, version_id, stamp())


def _caption_of(prep: Prepared, index: int) -> dict[str, str]:
    """The caption the version trains image ``index`` with, for its record."""
    c = prep.validation.captions.get(index)
    return {"caption": c.text} if c is not None else {}


def job_contract(wb: Workbench, actor: str, version: TrainingVersion,
                 params: TrainingParams, images: list[Any],
                 captions: dict[int, Carried] | None = None) -> dict[str, Any]:
    """The job (docs/runpod-worker.md): presigned images with the ETags the worker must
    check, the parameters, and where the LoRA and samples go.

    With captions other than ``"{trigger}, photo"`` for every image, each image carries its
    ``caption`` (the trigger first) and the job says ``actorbench.lora/2``; otherwise it is
    the ``actorbench.lora/1`` job an older worker knows (it writes ``"{trigger}, photo"``).
    """
    s = wb.settings
    output: dict[str, Any] = {"bucket": s.bucket, "region": s.region,
                              "prefix": f"{lora_prefix(s.prefix)}/{actor}/{version.id}"}
    if s.endpoint_url:
        output["endpoint_url"] = s.endpoint_url
    carried_images = {im.index for im in images if im.remote}
    sent = {i: c for i, c in (captions or {}).items() if i in carried_images}
    with_captions = bool(sent) and not plain_only(sent, params.trigger_word)

    def caption(index: int) -> dict[str, str]:
        if not with_captions:
            return {}
        c = sent.get(index)
        return {"caption": c.text if c else f"{params.trigger_word}, photo"}

    return {"contract": CONTRACT_CAPTIONS if with_captions else CONTRACT, "actor": actor,
            "version": version.name, "trigger_word": params.trigger_word,
            "images": [{"url": wb.store.presign_get(c.key, 6 * 3600), "etag": c.remote.etag,
                        "name": c.key.rsplit("/", 1)[-1], **caption(c.index)}
                       for c in images if c.remote],
            "parameters": params.model_dump(), "output": output,
            "samples": {"every_steps": max(1, params.max_train_steps // 4)}}


def apply_status(v: TrainingVersion, st: dict[str, Any]) -> None:
    """Record a status answer already reduced by ``check_status`` (the client does it)."""
    status = JobStatus(st["status"])
    v.status = status
    v.timings["delay_ms"] = st.get("delayTime")
    v.timings["execution_ms"] = st.get("executionTime")
    out = st.get("output")
    if status is JobStatus.IN_PROGRESS and isinstance(out, dict):
        v.progress = out
    if status is JobStatus.COMPLETED:
        url = out.get("lora_url") if isinstance(out, dict) else None
        if not url:
            v.status, v.error = JobStatus.FAILED, "RunPod reported COMPLETED without a lora_url."
        v.lora_url = url
        v.progress = {"progress": 1.0, "stage": "done"}
        v.timings["finished_at"] = now_iso()
        if isinstance(out, dict):
            v.samples = list(out.get("samples") or [])
            v.loss = list(out.get("loss") or [])
            v.timings.update(out.get("timings") or {})
    elif status in FINAL:
        v.error = str(st.get("error") or status)
        v.timings["finished_at"] = now_iso()
    if status in FINAL and st.get("executionTime"):  # what RunPod bills for this job
        from .costs import actual_cost

        v.timings["cost_usd"] = actual_cost(v)
