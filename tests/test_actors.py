"""The registry: facets from names, search and filters, round trip, precise errors."""

from __future__ import annotations

import json

import pytest

from actorbench.actors import Actor, ActorQuery, Facets, Registry, check_actor_name
from actorbench.errors import RegistryError, UnknownActorError, UnsafePathError


@pytest.mark.parametrize("name,expected", [
    ("0002_european_35_female", Facets(2, "european", 35, "female")),
    ("0150_middle_eastern_61_male", Facets(150, "middle_eastern", 61, "male")),
    ("0003_east_asian_22_nonbinary", Facets(3, "east_asian", 22, "nonbinary")),
    ("custom-actor", Facets(None, None, None, None)),
])
def test_facets_from_name(name, expected):
    assert Facets.from_name(name) == expected


def test_age_band():
    assert Facets.from_name("0002_european_35_female").age_band == "30-39"


@pytest.mark.parametrize("bad", ["../etc", "a/b", "", ".hidden", "a b", "x" * 200, "..", "/abs"])
def test_unsafe_names_refused(bad):
    with pytest.raises(UnsafePathError):
        check_actor_name(bad)


def make_registry(tmp_path):
    data = [
        {"id": 1, "name": "0001_european_30_female", "custom": [1, 2],
         "training_data": {"s3_urls": ["u"], "count": 1, "synced": True, "extra_td": "x"}},
        {"id": 2, "name": "0002_african_45_male"},
        {"id": 3, "name": "0003_east_asian_22_female", "training_data": {"count": 4,
                                                                        "synced": False},
         "validated_lora_model": {"version_id": "v1"}},
        {"id": 40, "name": "0040_african_61_female", "training_data": {"count": 0}},
    ]
    path = tmp_path / "actors.json"
    path.write_text(json.dumps(data))
    return Registry.load(path), path, data


def test_search_by_name_and_id(tmp_path):
    reg, _, _ = make_registry(tmp_path)
    assert [a.name for a in reg.search(ActorQuery(text="african"))] == [
        "0002_african_45_male", "0040_african_61_female"]
    assert reg.get("2").name == "0002_african_45_male"
    assert reg.get("0040").name == "0040_african_61_female"
    assert reg.get("0001_european_30_female").id == 1
    with pytest.raises(UnknownActorError, match="9999"):
        reg.get("9999")


@pytest.mark.parametrize("query,names", [
    (ActorQuery(gender="female"), {"0001_european_30_female", "0003_east_asian_22_female",
                                   "0040_african_61_female"}),
    (ActorQuery(ethnicity="african", gender="male"), {"0002_african_45_male"}),
    (ActorQuery(age_min=40), {"0002_african_45_male", "0040_african_61_female"}),
    (ActorQuery(age_min=25, age_max=50), {"0001_european_30_female", "0002_african_45_male"}),
    (ActorQuery(status="synced"), {"0001_european_30_female"}),
    (ActorQuery(status="not_synced"), {"0003_east_asian_22_female"}),
    (ActorQuery(status="no_data"), {"0002_african_45_male", "0040_african_61_female"}),
    (ActorQuery(validated=True), {"0003_east_asian_22_female"}),
])
def test_filters(tmp_path, query, names):
    reg, _, _ = make_registry(tmp_path)
    assert {a.name for a in reg.search(query)} == names


def test_round_trip_keeps_unknown_fields(tmp_path):
    reg, path, data = make_registry(tmp_path)
    reg.update("1", lambda raw: raw["training_data"].update(count=5))
    again = json.loads(path.read_text())
    assert again[0]["custom"] == [1, 2]
    assert again[0]["training_data"]["extra_td"] == "x"
    assert again[0]["training_data"]["count"] == 5
    assert again[1:] == data[1:]
    reg.save()
    assert json.loads(path.read_text())[0]["custom"] == [1, 2]


def test_only_id_and_name_is_valid(tmp_path):
    p = tmp_path / "actors.json"
    p.write_text('[{"id": 7, "name": "0007_latino_33_male"}]')
    a = Registry.load(p).get("7")
    assert a.training_data is None and a.image_count == 0 and not a.synced


@pytest.mark.parametrize("text,needle", [
    ('[{"id": 1, "name": "0001_x_3_f"', "malformed JSON at line 1"),
    ('{"id": 1}', "must hold a JSON list"),
    ('[{"name": "0001_a_3_f"}]', "actor '0001_a_3_f', field 'id'"),
    ('[{"id": 1}]', "field 'name'"),
    ('[{"id": 1, "name": "../x"}]', "field 'name'"),
    ('[{"id": 1, "name": "a1", "training_data": {"count": "three"}}]',
     "actor 'a1', field 'training_data.count'"),
    ('[{"id": 1, "name": "a1", "training_data": {"s3_urls": "u"}}]', "training_data.s3_urls"),
    ('[{"id": 1, "name": "a1", "training_data": {"synced": "yes"}}]', "training_data.synced"),
    ('[{"id": 1, "name": "a1", "training_data": []}]', "field 'training_data'"),
    ('[{"id": 1, "name": "a1"}, {"id": 2, "name": "a1"}]', "#0 and #1 have the same name 'a1'"),
    ('[3]', "entry #0 must be an object"),
])
def test_malformed_registry_names_file_actor_and_field(tmp_path, text, needle):
    p = tmp_path / "actors.json"
    p.write_text(text)
    with pytest.raises(RegistryError) as err:
        Registry.load(p)
    assert str(p) in str(err.value) and needle in str(err.value)


def test_update_under_lock_loses_nothing(tmp_path):
    import threading

    reg, path, _ = make_registry(tmp_path)

    def bump(i):
        Registry.load(path).update("1", lambda raw: raw.setdefault("marks", []).append(i))

    threads = [threading.Thread(target=bump, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(json.loads(path.read_text())[0]["marks"]) == list(range(20))


def test_to_dict_keeps_order_of_known_fields():
    a = Actor(1, "n1", {"count": 0}, None, {"z": 1})
    assert a.to_dict() == {"id": 1, "name": "n1", "z": 1, "training_data": {"count": 0}}


def test_update_removes_what_a_killed_writer_left_of_actors_json(tmp_path):
    p = tmp_path / "actors.json"
    p.write_text(json.dumps([{"id": 1, "name": "0001_european_30_female"}]))
    left = tmp_path / ".abtmp-actors.json.999-1"  # a writer killed between write and rename
    left.write_text("[")
    other = tmp_path / ".abtmp-notes.json.999-2"  # not the registry's: not ours to remove
    other.write_text("x")
    Registry.load(p).update("1", lambda raw: raw.update(note="kept"))
    assert not left.exists() and other.exists()
    assert json.loads(p.read_text())[0]["note"] == "kept"
