"""What the team-mode tests share: a bucket with three actors' images on the moto server, a
workstation (its own data folder) on it, and moto made atomic on PUT.

Import ``atomic_moto_puts`` into a test module to use the fixture.
"""

from __future__ import annotations

import threading
import uuid
from pathlib import Path

import pytest

from actorbench.actors import Actor, Registry
from actorbench.demo import LocalS3
from actorbench.settings import Settings
from actorbench.storage.client import make_s3_client
from actorbench.storage.layout import Layout
from tests.conftest import settings_for
from tests.helpers import png

ACTORS = ["0001_european_30_female", "0002_african_45_male", "0003_east_asian_22_female"]
IMAGES = 12  # enough that the dataset check has no blocker


@pytest.fixture
def atomic_moto_puts(monkeypatch: pytest.MonkeyPatch) -> None:
    """moto's server checks If-Match / If-None-Match, then writes: two steps with no lock
    between them (S3 does both at once). One lock makes them one step, so a race inside the
    test server is never taken for one in actorbench."""
    from moto.s3.responses import S3Response

    original = S3Response.put_object
    lock = threading.Lock()

    def put_object(self):  # type: ignore[no-untyped-def]
        with lock:
            return original(self)

    monkeypatch.setattr(S3Response, "put_object", put_object)


def team_bucket(s3: LocalS3, tmp: Path, versioned: bool = False) -> str:
    """A fresh bucket with ``IMAGES`` training images for each actor of ``ACTORS``."""
    bucket = f"team-{uuid.uuid4().hex[:10]}"
    settings = settings_for(s3, tmp / "setup", bucket)
    client = make_s3_client(settings)
    client.create_bucket(Bucket=bucket, CreateBucketConfiguration={
        "LocationConstraint": settings.region})
    if versioned:  # every revision of every shared document kept, for the checks
        client.put_bucket_versioning(Bucket=bucket,
                                     VersioningConfiguration={"Status": "Enabled"})
    layout = Layout(settings.data_dir, settings.prefix)
    for n, name in enumerate(ACTORS):
        for i in range(IMAGES):
            client.put_object(Bucket=bucket, Key=layout.image_key(name, i),
                              Body=png(n * 50 + i + 1))
    return bucket


def team_env(s3: LocalS3, data_dir: Path, bucket: str, user: str,
             **extra: str) -> dict[str, str]:
    """A workstation's environment: its own data folder with the three actors, team mode on."""
    data_dir.mkdir(parents=True, exist_ok=True)
    if not (data_dir / "actors.json").exists():  # a second call keeps what the cache holds
        Registry(data_dir / "actors.json", [Actor(i + 1, n) for i, n in enumerate(ACTORS)]
                 ).save()
    return {**s3.env, "ACTORBENCH_DATA_DIR": str(data_dir), "ACTORBENCH_BUCKET": bucket,
            "ACTORBENCH_TEAM": "1", "ACTORBENCH_USER": user, **extra}


def team_settings(s3: LocalS3, data_dir: Path, bucket: str, user: str,
                  **extra: str) -> Settings:
    return Settings.from_env(env=team_env(s3, data_dir, bucket, user, **extra), dotenv=False)
