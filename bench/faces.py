"""Face analysis against the `face_recognition` command line, on the same photographs in the
same run (same dlib models: HOG detector, 5-point landmarks, ResNet descriptor).

Measures: per-image analysis (median, pictures 1024 and 2048 px on the long side, one core),
a whole-library first scan (287 actors x 20 pictures) estimated from a 60-picture scan in two
processes, a no-op rescan of a full 287 x 20 library with a warm cache (measured), and peak
memory. Needs `pip install --no-deps face_recognition==1.3.0` (`make bench-faces` does it).
Writes its section of bench/RESULTS.md (between the faces markers).
"""

from __future__ import annotations

import io
import json
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from PIL import Image

from actorbench.demo import photos as ph
from actorbench.faces import analyse, scan
from actorbench.faces.cache import FaceCache, cache_path
from actorbench.faces.models import load
from actorbench.storage.layout import Layout

ROUNDS = 3
ACTORS, PER_ACTOR = 287, 20
BEGIN, END = "<!-- faces: bench/faces.py -->", "<!-- /faces -->"


def sized(src: Path, side: int, out: Path) -> Path:
    img = ph.load_rgb(src)
    scale = side / max(img.size)
    img = img.resize((round(img.width * scale), round(img.height * scale)),
                     Image.Resampling.LANCZOS)
    img.save(out, "JPEG", quality=92)
    return out


def time_ours(files: list[Path]) -> tuple[float, list[int]]:
    load()
    times, faces = [], []
    for _ in range(ROUNDS):
        for f in files:
            data = f.read_bytes()
            t = time.perf_counter()
            r = analyse(data)
            times.append(time.perf_counter() - t)
            faces.append(len(r.faces))
    return statistics.median(times), faces[:len(files)]


def time_cli(known: Path, folder: Path, empty: Path) -> tuple[float, str]:
    exe = shutil.which("face_recognition", path=str(Path(sys.executable).parent))
    if exe is None:
        raise SystemExit("face_recognition is not installed: "
                         "pip install --no-deps face_recognition==1.3.0")
    n = len(list(folder.iterdir()))

    def run(where: Path) -> tuple[float, str]:
        t = time.perf_counter()
        r = subprocess.run([exe, "--cpus", "1", str(known), str(where)], capture_output=True,
                           text=True, timeout=900)
        if r.returncode:
            raise RuntimeError(r.stderr[-600:])
        return time.perf_counter() - t, r.stdout

    startup = statistics.median(run(empty)[0] for _ in range(ROUNDS))
    runs = [run(folder) for _ in range(ROUNDS)]
    total = statistics.median(t for t, _ in runs)
    return max(0.0, total - startup) / n, runs[0][1]


def library_scan(tmp: Path) -> dict[str, float]:
    """60 fresh pictures (3 actors x 20) scanned in two processes; then a full 287 x 20 library
    of links to them with a warm cache, rescanned."""
    photos = ph.fetch_photos()
    pics = [ph.load_rgb(photos[n]) for n in ph.PHOTOS]
    layout = Layout(tmp / "lib", "p")
    names = [f"{k:04d}_european_40_male" for k in range(1, ACTORS + 1)]
    for a in range(3):
        folder = layout.training_dir(names[a])
        folder.mkdir(parents=True)
        for i in range(PER_ACTOR):
            img = ph.variant(pics[(a + i) % len(pics)], i + a * PER_ACTOR)
            img.thumbnail((1024, 1024))
            buf = io.BytesIO()
            img.save(buf, "PNG", compress_level=3)
            (folder / f"{names[a]}_{i}.png").write_bytes(buf.getvalue())
    t = time.perf_counter()
    scan(layout, names[:3], workers=2)
    first = time.perf_counter() - t
    per_image = first / (3 * PER_ACTOR)
    # the rest of the library: links to the same files, caches as a scan leaves them
    sources = [FaceCache(cache_path(layout.actor_dir(n))) for n in names[:3]]
    for k, name in enumerate(names[3:], 3):
        src_actor = names[k % 3]
        src = sources[k % 3]
        folder = layout.training_dir(name)
        folder.mkdir(parents=True)
        cache = FaceCache(cache_path(layout.actor_dir(name)))
        for i in range(PER_ACTOR):
            link = folder / f"{name}_{i}.png"
            os.link(layout.training_dir(src_actor) / f"{src_actor}_{i}.png", link)
            cache.put(link, src.analyses[src.index[f"{src_actor}_{i}.png"][2]])
        cache.save()
    rescans = []
    for _ in range(ROUNDS):
        calls: list[tuple[int, int]] = []
        t = time.perf_counter()
        found = scan(layout, names, lambda d, n: calls.append((d, n)), workers=2)
        rescans.append(time.perf_counter() - t)
        assert calls == [(0, 0)], calls  # nothing analysed again
        assert sum(len(f.analyses) for f in found) == ACTORS * PER_ACTOR
    t = time.perf_counter()
    for f in found:
        f.judge()
    judge = time.perf_counter() - t
    return {"first_60_s": first, "per_image_s": per_image,
            "library_estimate_s": per_image * ACTORS * PER_ACTOR,
            "rescan_s": statistics.median(rescans), "judge_all_s": judge}


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp_:
        tmp = Path(tmp_)
        photos = ph.fetch_photos()
        known, empty = tmp / "known", tmp / "empty"
        known.mkdir()
        empty.mkdir()
        sized(photos["obama.jpg"], 1024, known / "obama.jpg")
        rows = []
        for side in (1024, 2048):
            folder = tmp / str(side)
            folder.mkdir()
            files = [sized(p, side, folder / n) for n, p in photos.items()]
            ours, faces = time_ours(files)
            theirs, out = time_cli(known, folder, empty)
            found = len(re.findall(r",(obama|unknown_person)", out))
            rows.append({"side": side, "images": len(files), "ours_s": ours, "cli_s": theirs,
                         "ratio": ours / theirs if theirs else None, "faces_ours": sum(faces),
                         "faces_cli": found})
        lib = library_scan(tmp)
    peak_self = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    peak_child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    report(rows, lib, peak_self, peak_child)


def report(rows: list[dict], lib: dict[str, float], peak_self: float, peak_child: float) -> None:  # type: ignore[type-arg]
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    load = os.getloadavg()[0]
    lines = [BEGIN, f"## Face analysis ({when})", "",
             f"Machine: {os.cpu_count()} cores, {platform.platform()}, load average "
             f"{load:.1f} when the run ended (above the core count: other work shared the "
             "CPUs, and two processes cannot run faster than one). The six photographs of "
             "the face_recognition 1.3.0 sdist, resized to the long side given (JPEG 92). "
             "actorbench: `actorbench.faces.analyse` in this process, models loaded once, one "
             f"core, median of {ROUNDS} rounds. face_recognition: its command line "
             "(`face_recognition --cpus 1 known/ pictures/`, same models: HOG with one "
             "upsample, 5-point landmarks, ResNet descriptor; it shrinks pictures over 1600 px "
             "to 1600), the median of its runs less the median of runs on an empty folder "
             "(its start-up), per picture. The machine is shared with other work: "
             "absolute times are noisy, the ratio is what to read.", "",
             "| pictures | actorbench per picture | face_recognition CLI per picture | ratio "
             "| faces found (ours / CLI lines) |", "|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['images']} x {r['side']} px | {r['ours_s']:.3f} s | "
                     f"{r['cli_s']:.3f} s | {r['ratio']:.2f} | {r['faces_ours']} / "
                     f"{r['faces_cli']} |")
    est = lib["library_estimate_s"]
    lines += ["", "| library | time |", "|---|---|",
              f"| first scan of 60 new 1024 px pictures, 2 processes | {lib['first_60_s']:.1f} s"
              f" ({lib['per_image_s']:.3f} s per picture) |",
              f"| whole library first scan, {ACTORS} x {PER_ACTOR} pictures (estimated from the "
              f"60) | {est / 60:.1f} min |",
              f"| no-op rescan of {ACTORS} x {PER_ACTOR} pictures, warm cache (measured, median "
              f"of {ROUNDS}) | {lib['rescan_s']:.2f} s |",
              f"| judging every actor (reference, distances, findings) | "
              f"{lib['judge_all_s']:.2f} s |",
              f"| peak memory: this process / largest worker | {peak_self:.0f} MB / "
              f"{peak_child:.0f} MB |", "", END]
    text = "\n".join(lines) + "\n"
    print(text)
    path = HERE / "RESULTS.md"
    old = path.read_text() if path.exists() else ""
    if BEGIN in old and END in old:
        new = old[:old.index(BEGIN)] + text + old[old.index(END) + len(END) + 1:]
    else:
        new = old.rstrip("\n") + "\n\n" + text
    path.write_text(new)
    (HERE / "faces.json").write_text(json.dumps({"rows": rows, "library": lib,
                                                 "peak_mb": [peak_self, peak_child]}, indent=2))


if __name__ == "__main__":
    main()
