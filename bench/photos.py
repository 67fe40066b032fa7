"""Photo checks: what a teacher waits for after attaching a photo, and how many faces are found.

    .venv/bin/python bench/photos.py [--runs 15] [--group DIR]

Prints, on this machine:
- a 12-megapixel JPEG (4032 x 3024, with EXIF and GPS): decode + metadata + faces, in process,
  median and p90 over --runs (target <= 300 ms median);
- the same through the real host: media_put in 1 MiB chunks to the photo report;
- `tweetguard check --photo` with 1 and with 4 photos (wall clock: the cost of a further photo);
- the host's RSS idle (no photo seen: target <= 60 MB) and after its first photo;
- with --group DIR (a folder of photos and a ground_truth.json as in ../shared/data/faces/group,
  the default when it exists): recall (all faces and small ones, < 4% of the long side) and false
  faces, a found box matching a counted one at IoU >= 0.3; faces marked "ignore" count neither way.
Figures vary with machine load: compare medians and ratios.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image

from host_latency import frame, read_reply
from stats import percentile

ROOT = Path(__file__).resolve().parent.parent
PHOTOS = ROOT / "tests" / "data" / "photos"
SHARED_GROUP = ROOT.parent / "shared" / "data" / "faces" / "group"
CHUNK = 1024 * 1024


def twelve_megapixels() -> bytes:
    """Two real faces in a 4032 x 3024 phone-sized photo, with EXIF and a GPS position."""
    sys.path.insert(0, str(ROOT))
    from tests.photos import exif_bytes, group

    picture, _ = group(
        [("two_people.jpg", 1400, (300, 900)), ("obama2.jpg", 900, (2900, 1500))],
        size=(4032, 3024),
    )
    # Sensor-like grain, so the file is as large as a phone's (4-6 MB) and decodes as slowly.
    import numpy as np

    pixels = np.asarray(picture, dtype=np.int16)
    grain = np.random.default_rng(1).normal(0, 10, pixels.shape).astype(np.int16)
    picture = Image.fromarray(np.clip(pixels + grain, 0, 255).astype(np.uint8))
    out = io.BytesIO()
    exif = exif_bytes(gps=(51.5, -0.12), serial="BENCH-1", taken="2026:11:27 10:00:00", make="X")
    picture.save(out, format="JPEG", quality=90, exif=exif)
    return out.getvalue()


def in_process(data: bytes, runs: int) -> list[float]:
    from tweetguard.checks.photos.report import analyse

    analyse(data)  # loads the model
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        analyse(data)
        times.append((time.perf_counter() - started) * 1000)
    return times


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def through_host(data: bytes, runs: int, home: Path) -> tuple[list[float], int, int]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tweetguard", "--home", str(home), "host"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert proc.stdin and proc.stdout
    proc.stdin.write(frame({"id": 0, "type": "hello"}))
    proc.stdin.flush()
    read_reply(proc.stdout)
    proc.stdin.write(frame({"id": 1, "type": "check", "text": "Idle check"}))
    proc.stdin.flush()
    read_reply(proc.stdout)
    time.sleep(1.0)  # let the background preload settle before reading idle memory
    idle = rss_kb(proc.pid)
    times = []
    for run in range(runs + 1):
        # A different file each time (one byte of the JPEG comment), so nothing is cached.
        variant = data[:2] + b"\xff\xfe\x00\x04" + bytes([run % 256, run // 256]) + data[2:]
        sha = hashlib.sha256(variant).hexdigest()
        started = time.perf_counter()
        offsets = list(range(0, len(variant), CHUNK))
        for offset in offsets:
            message = {
                "id": f"p{run}-{offset}",
                "type": "media_put",
                "sha256": sha,
                "size": len(variant),
                "offset": offset,
                "data": base64.b64encode(variant[offset : offset + CHUNK]).decode(),
            }
            proc.stdin.write(frame(message))
            proc.stdin.flush()
            reply = read_reply(proc.stdout)
        assert reply.get("photo"), reply
        if run:  # the first loads the model
            times.append((time.perf_counter() - started) * 1000)
    loaded = rss_kb(proc.pid)
    proc.stdin.close()
    proc.wait(timeout=10)
    return times, idle, loaded


def cli(files: list[Path], home: Path, runs: int) -> list[float]:
    times = []
    args = [a for f in files for a in ("--photo", str(f))]
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "tweetguard", "--home", str(home), "check", "--json", *args],
            capture_output=True,
            check=False,
        )
        times.append((time.perf_counter() - started) * 1000)
    return times


def iou(a: list[float], b: list[float]) -> float:
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    if w <= 0 or h <= 0:
        return 0.0
    inter = w * h
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def recall(folder: Path) -> None:
    from tweetguard.checks.photos.report import analyse

    truth = json.loads((folder / "ground_truth.json").read_text())
    found_all = total = small_found = small_total = false = 0
    times = []
    for name, entry in truth.items():
        data = (folder / name).read_bytes()
        started = time.perf_counter()
        boxes = [list(b) for b in analyse(data).boxes]
        times.append((time.perf_counter() - started) * 1000)
        long_side = max(entry["w"], entry["h"])
        counted = entry["faces"]
        ignored = entry.get("ignore", [])
        used: set[int] = set()
        for face in counted:
            small = (face[3] - face[1]) < 0.04 * long_side
            total += 1
            small_total += small
            best = max(
                ((iou(face, box), i) for i, box in enumerate(boxes) if i not in used),
                default=(0.0, -1),
            )
            if best[0] >= 0.3:
                used.add(best[1])
                found_all += 1
                small_found += small
        for i, box in enumerate(boxes):
            if i not in used and not any(iou(box, ig) >= 0.3 for ig in ignored):
                false += 1
        missed = len(counted) - sum(1 for i in used)
        if missed or len(boxes) - len(used) > 0:
            print(f"    {name}: counted {len(counted)}, found {len(boxes)}, missed {missed}")
    print(
        f"  group photos ({len(truth)} photos, {total} faces): recall {found_all}/{total} "
        f"= {found_all / total:.2f}, small {small_found}/{small_total}, false faces {false}, "
        f"median {statistics.median(times):.0f} ms per photo"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--group", type=Path, default=SHARED_GROUP)
    args = parser.parse_args()
    data = twelve_megapixels()
    print(f"12 MP JPEG: {len(data) / 1e6:.1f} MB, 4032 x 3024")
    times = in_process(data, args.runs)
    print(
        f"  in process: median {statistics.median(times):.0f} ms, "
        f"p90 {percentile(times, 90):.0f} ms (target <= 300 ms median)"
    )
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        host_times, idle, loaded = through_host(data, args.runs, home)
        print(
            "  through the host (media_put in 1 MiB chunks to the report): "
            f"median {statistics.median(host_times):.0f} ms, "
            f"p90 {percentile(host_times, 90):.0f} ms"
        )
        print(
            f"  host RSS: idle {idle / 1024:.0f} MB (target <= 60), "
            f"after photos {loaded / 1024:.0f} MB"
        )
        files = []
        for number in range(4):
            path = home / f"photo{number}.jpg"
            path.write_bytes(data[:2] + b"\xff\xfe\x00\x03" + bytes([number]) + data[2:])
            files.append(path)
        one = statistics.median(cli(files[:1], home, max(3, args.runs // 3)))
        four = statistics.median(cli(files, home, max(3, args.runs // 3)))
        print(
            f"  tweetguard check --photo: 1 photo {one:.0f} ms, 4 photos {four:.0f} ms "
            f"({(four - one) / 3:.0f} ms per further photo)"
        )
    if (args.group / "ground_truth.json").exists():
        recall(args.group)
    else:
        print(f"  (no group photos at {args.group}: recall not measured)")


if __name__ == "__main__":
    main()
