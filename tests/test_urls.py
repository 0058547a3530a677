"""S3 URLs in every form people paste, and every refusal."""

from __future__ import annotations

from pathlib import Path

import pytest

from actorbench.errors import UnsafePathError
from actorbench.storage import Layout, format_s3_url, parse_image_url, split_s3_url

B = "story-boards-assets"
P = "system_actors/training_data"
A = "0002_european_35_female"
KEY = f"{P}/{A}/{A}_3.png"
LAY = Layout(Path("data"), P)


@pytest.mark.parametrize("url", [
    f"https://{B}.s3.us-west-1.amazonaws.com/{KEY}",
    f"https://{B}.s3-us-west-1.amazonaws.com/{KEY}",
    f"https://{B}.s3.amazonaws.com/{KEY}",
    f"https://{B}.s3-accelerate.amazonaws.com/{KEY}",
    f"https://s3.us-west-1.amazonaws.com/{B}/{KEY}",
    f"https://s3.amazonaws.com/{B}/{KEY}",
    f"http://s3-us-west-1.amazonaws.com/{B}/{KEY}",
    f"s3://{B}/{KEY}",
    f"{B}.s3.us-west-1.amazonaws.com/{KEY}",
    f"https://{B}.s3.us-west-1.amazonaws.com/{KEY}?X-Amz-Signature=abc&X-Amz-Expires=60",
    f"https://{B}.s3.us-west-1.amazonaws.com/{P}/{A}/{A}%5F3.png",
    f"  https://{B}.s3.us-west-1.amazonaws.com/{KEY}  ",
])
def test_every_url_form_maps_to_the_image(url):
    assert parse_image_url(url, LAY, B) == (A, 3)
    assert parse_image_url(url, LAY, B, actor=A) == (A, 3)


def test_format_round_trips():
    url = format_s3_url(B, "us-west-1", KEY)
    assert url == f"https://{B}.s3.us-west-1.amazonaws.com/{KEY}"
    assert split_s3_url(url) == (B, KEY)


@pytest.mark.parametrize("url,needle", [
    (f"https://other-bucket.s3.us-west-1.amazonaws.com/{KEY}", "bucket 'other-bucket'"),
    (f"s3://other-bucket/{KEY}", "bucket 'other-bucket'"),
    (f"https://{B}.s3.amazonaws.com/other_prefix/{A}/{A}_3.png", "outside"),
    (f"https://{B}.s3.amazonaws.com/{P}/../{A}/{A}_3.png", "'..'"),
    (f"https://{B}.s3.amazonaws.com/{P}/%2e%2e/{A}/{A}_3.png", "'..'"),
    (f"https://{B}.s3.amazonaws.com/{P}/%2E%2E/{A}_3.png", "'..'"),
    (f"s3://{B}//{KEY}", "absolute"),
    (f"s3://{B}/{P}/{A}/../../x.png", "'..'"),
    (f"https://{B}.s3.amazonaws.com/{P}%2F..%2F{A}/{A}_3.png", "%2F"),
    (f"https://{B}.s3.amazonaws.com/{P}/{A}/{A}_3.jpg", "outside"),
    (f"https://{B}.s3.amazonaws.com/{P}/{A}/0001_other_1_f_3.png", "outside"),
    ("https://example.com/a.png", "not an S3 URL"),
    ("ftp://x/y", "not an S3 URL"),
    ("", "empty"),
    (f"https://{B}.s3.amazonaws.com/{P}/{A}/{A}_3.png\x00", "NUL"),
])
def test_refusals_are_clear(url, needle):
    with pytest.raises(UnsafePathError) as err:
        parse_image_url(url, LAY, B)
    assert needle in str(err.value)


def test_other_actor_refused():
    with pytest.raises(UnsafePathError, match="belongs to actor"):
        parse_image_url(f"s3://{B}/{KEY}", LAY, B, actor="0001_african_20_male")


def test_signature_never_in_message():
    url = f"https://other.s3.amazonaws.com/{KEY}?X-Amz-Signature=SECRETSIG"
    with pytest.raises(UnsafePathError) as err:
        parse_image_url(url, LAY, B)
    assert "SECRETSIG" not in str(err.value)


def test_layout_paths_never_escape(tmp_path):
    lay = Layout(tmp_path, P)
    assert lay.image_path(A, 3) == tmp_path / "actors" / A / "training_data" / f"{A}_3.png"
    assert lay.image_key(A, 3) == KEY
    with pytest.raises(UnsafePathError):
        lay.image_path("../evil", 1)
    with pytest.raises(UnsafePathError):
        lay.image_path(A, -1)
    with pytest.raises(UnsafePathError):
        lay.versions_path("../1")
    assert lay.parse_image_key(f"{P}/../{A}_3.png") is None
    assert lay.parse_image_key(f"{P}/{A}/sub/{A}_3.png") is None
