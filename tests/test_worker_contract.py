"""One vocabulary, one contract: actorbench's words equal the worker's, the job built for every
preset validates against the worker's schema, and its sd-scripts command parses with
sd-scripts' own argument parsers at the pinned release (tests/fixtures/sdscripts_args.json,
generated from its source by worker/tools/gen_sdscripts_args.py)."""

from __future__ import annotations

import argparse
import json
import os
import typing
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import jsonschema
import pytest

from actorbench.captions.overview import Carried
from actorbench.training import params as P
from actorbench.training import vocab
from actorbench.training.service import job_contract
from actorbench.training.versions import TrainingVersion
from worker import contract, trainer

FIXTURE = Path(__file__).with_name("fixtures") / "sdscripts_args.json"
ARGS = json.loads(FIXTURE.read_text())


def test_one_vocabulary() -> None:
    assert vocab.BASE_MODELS == contract.BASE_MODELS == typing.get_args(P.BaseModelName) \
        == tuple(P.PRESETS) == tuple(trainer.SCRIPTS) == tuple(trainer.MODEL_FILES)
    assert vocab.OPTIMIZERS == contract.OPTIMIZERS == typing.get_args(P.OptimizerName)
    assert vocab.SCHEDULERS == contract.SCHEDULERS == typing.get_args(P.SchedulerName)
    assert vocab.STAGES == contract.STAGES
    assert vocab.CONTRACTS == contract.CONTRACTS
    from actorbench.training import runpod
    assert runpod.STAGES == contract.STAGES
    for preset in P.PRESETS.values():
        assert preset.optimizer in vocab.OPTIMIZERS and preset.scheduler in vocab.SCHEDULERS
    # the schema names exactly these words
    props = contract.INPUT["properties"]["parameters"]["properties"]
    assert props["base_model"]["enum"] == list(vocab.BASE_MODELS)
    assert props["optimizer"]["enum"] == list(vocab.OPTIMIZERS)
    assert props["lr_scheduler"]["enum"] == list(vocab.SCHEDULERS)
    assert contract.PROGRESS["properties"]["stage"]["enum"] == list(vocab.STAGES)


class _Refused(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> typing.NoReturn:
        raise _Refused(message)


def sdscripts_parser(script: str) -> argparse.ArgumentParser:
    """sd-scripts' parser for ``script`` at the pinned commit, rebuilt from the fixture."""
    p = _Parser(prog=script, allow_abbrev=False, add_help=False)
    types: dict[str | None, Any] = {"int": int, "float": float, "int_or_float": float}
    for flag, spec in ARGS["scripts"][script].items():
        kw: dict[str, Any] = {}
        if spec["action"]:
            kw["action"] = spec["action"]
        else:
            kw["type"] = types.get(spec["type"], str)
            if spec["nargs"]:
                kw["nargs"] = spec["nargs"]
            if isinstance(spec["choices"], list):
                kw["choices"] = spec["choices"]
        p.add_argument(flag, **kw)
    return p


def test_the_fixture_is_sd_scripts_at_the_pinned_release() -> None:
    assert ARGS["ref"] == trainer.SD_SCRIPTS_REF and ARGS["commit"] == trainer.SD_SCRIPTS_COMMIT
    dockerfile = (Path(__file__).parents[1] / "worker" / "Dockerfile").read_text()
    assert f"ARG SD_SCRIPTS_REF={trainer.SD_SCRIPTS_REF}" in dockerfile
    assert f"ARG SD_SCRIPTS_COMMIT={trainer.SD_SCRIPTS_COMMIT}" in dockerfile
    # the parser refuses what sd-scripts refuses
    p = sdscripts_parser("flux_train_network.py")
    with pytest.raises(_Refused):
        p.parse_args(["--timestep_sampling=sometimes"])
    with pytest.raises(_Refused):
        p.parse_args(["--no_such_flag"])
    with pytest.raises(_Refused):  # SD1.5's script has no Flux flags
        sdscripts_parser("train_network.py").parse_args(["--clip_l=x"])


def _job(base_model: str, captions: bool = False) -> dict[str, Any]:
    """The job actorbench builds (training.service.job_contract) for a preset, 14 images
    (with a person's caption on each when ``captions``: the ``actorbench.lora/2`` job)."""
    params = P.auto_adjust(P.TrainingParams.from_preset(base_model), 14).params
    settings = SimpleNamespace(bucket="ab-bucket", region="eu-west-1",
                               prefix="system_actors/training_data", endpoint_url=None)
    store = SimpleNamespace(presign_get=lambda key, _s: f"https://ab-bucket.s3.eu-west-1."
                            f"amazonaws.com/{key}?X-Amz-Signature=ab")
    wb = SimpleNamespace(settings=settings, store=store)
    images = [SimpleNamespace(key=f"system_actors/training_data/a1/a1_{i}.png", index=i,
                              remote=SimpleNamespace(etag="0" * 32)) for i in range(14)]
    version = TrainingVersion.new("v1", "2026-12-07T00:00:00Z", params.model_dump(), [])
    carried = ({i: Carried(i, f"{params.trigger_word}, three-quarter view, photo {i}", "person")
                for i in range(14)} if captions else None)
    return job_contract(wb, "a1", version, params, images,  # type: ignore[arg-type]
                        captions=carried)


@pytest.mark.parametrize("base_model", vocab.BASE_MODELS)
def test_a_job_with_captions_is_lora_2_and_the_worker_accepts_it(base_model: str) -> None:
    job = _job(base_model, captions=True)
    assert job["contract"] == "actorbench.lora/2"
    assert all(im["caption"].startswith(job["trigger_word"]) for im in job["images"])
    jsonschema.validate(job, contract.INPUT)
    assert _job(base_model)["contract"] == "actorbench.lora/1"


@pytest.mark.parametrize("base_model", vocab.BASE_MODELS)
def test_every_preset_makes_a_job_the_worker_accepts_and_sd_scripts_parses(
        base_model: str, tmp_path: Path) -> None:
    job = _job(base_model)
    jsonschema.validate(job, contract.INPUT)
    from tests.test_worker import make_store
    from worker.handler import WorkerConfig, provenance

    config = WorkerConfig(bucket="ab-bucket", model_store=make_store(tmp_path / "m"))
    cmd = trainer.command(job["parameters"], tmp_path / "d", tmp_path / "o", "a1_v1",
                          tmp_path / "prompts.json", 100, "python", keep_tokens=1,
                          metadata=provenance(job, config, job["output"]["prefix"]))
    script = trainer.SCRIPTS[base_model]
    assert cmd[1] == f"/opt/sd-scripts/{script}"
    ns = sdscripts_parser(script).parse_args(cmd[2:])  # no unknown flag, every value in choices
    assert ns.enable_bucket and ns.bucket_no_upscale and ns.sdpa
    assert ns.save_precision in ("fp16", "bf16") and ns.sample_at_first and ns.keep_tokens == 1
    assert json.loads(ns.training_comment)["base_model"] == base_model
    assert ns.metadata_trigger_phrase == job["trigger_word"]
    assert ns.optimizer_type in vocab.OPTIMIZERS and ns.lr_scheduler in vocab.SCHEDULERS
    if ns.lr_scheduler == "cosine_with_restarts":
        assert ns.lr_scheduler_num_cycles > 1
    if base_model != "sd15":  # docs/sdxl_train_network.md: caching needs U-Net only
        assert ns.cache_text_encoder_outputs and ns.network_train_unet_only
    if base_model == "flux1-dev":
        assert ns.clip_l.endswith("clip_l.safetensors") and ns.t5xxl and ns.ae
        assert ns.guidance_scale == 1.0 and ns.model_prediction_type == "raw"
        assert ns.timestep_sampling == "shift" and ns.network_module == "networks.lora_flux"


def test_every_optimizer_and_scheduler_parses(tmp_path: Path) -> None:
    p = sdscripts_parser("sdxl_train_network.py")
    for opt in vocab.OPTIMIZERS:
        for sched in vocab.SCHEDULERS:
            params = {**_job("sdxl")["parameters"], "optimizer": opt, "lr_scheduler": sched}
            jsonschema.validate(params, contract.PARAMETERS)
            cmd = trainer.command(params, tmp_path, tmp_path, "n", None, 10)
            p.parse_args(cmd[2:])


def test_the_old_words_are_refused() -> None:
    job = _job("flux1-dev")
    for field, bad in (("base_model", "flux"), ("optimizer", "adamw8bit"),
                       ("lr_scheduler", "cosine_annealing")):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate({**job, "parameters": {**job["parameters"], field: bad}},
                                contract.INPUT)


def test_saved_parameters_with_another_spelling_still_load() -> None:
    from actorbench.errors import ActorbenchError

    assert P.make_params(base_model="flux1-dev", optimizer="adamw8bit").optimizer == "AdamW8bit"
    with pytest.raises(ActorbenchError, match="optimizer: Input should be 'AdamW8bit'"):
        P.make_params(optimizer="Lion")
    with pytest.raises(ActorbenchError, match="lr_scheduler"):
        P.make_params(lr_scheduler="cosine_annealing")


@pytest.mark.skipif(not os.environ.get("SD_SCRIPTS_GIT_DIR"),
                    reason="needs a clone of kohya-ss/sd-scripts (SD_SCRIPTS_GIT_DIR)")
def test_the_fixture_is_what_the_generator_reads() -> None:
    """With a clone at hand, the committed fixture is exactly what the generator produces."""
    from worker.tools.gen_sdscripts_args import generate

    assert generate(os.environ["SD_SCRIPTS_GIT_DIR"], ARGS["ref"]) == ARGS
