"""One attached file, checked on its own: the photo report.

What a file shows and carries does not depend on the post around it, so it is
worked out once, when the file is attached, and kept by its SHA-256; the check of
the post adds what depends on the teacher's answers (who is pictured) in
pictured.py.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from tweetguard.checks.base import Rule, Severity
from tweetguard.checks.photos import metadata
from tweetguard.checks.photos import rules as R

KINDS = ("image", "video", "video-frame")
Box = tuple[int, int, int, int]


@dataclass(frozen=True)
class PhotoFinding:
    rule: Rule
    params: dict[str, str | int] = field(default_factory=dict)

    @property
    def message(self) -> str:
        return self.rule.message.format(**self.params)


@dataclass(frozen=True)
class Match:
    """A face the opt-in matcher links to an enrolled person (see matching.py)."""

    face: int
    ref: str
    name: str
    confident: bool


@dataclass
class PhotoReport:
    sha256: str
    kind: str
    mime: str
    name: str
    size: int
    width: int = 0
    height: int = 0
    boxes: list[Box] = field(default_factory=list)
    metadata: metadata.Metadata = field(default_factory=metadata.Metadata)
    findings: list[PhotoFinding] = field(default_factory=list)
    readable: bool = True
    matches: list[Match] | None = None  # None: matching is off

    @property
    def faces(self) -> int:
        return len(self.boxes)

    def to_json(self, severity_of: Callable[[Rule], Severity | None]) -> dict[str, Any]:
        """The report as the protocol sends it; `severity_of` applies the policy
        (None: the rule is off)."""
        shown = []
        for finding in self.findings:
            severity = severity_of(finding.rule)
            if severity is None:
                continue
            shown.append(
                {
                    "rule": finding.rule.id,
                    "severity": severity.label,
                    "message": finding.message,
                    "fix": R.REMEDY.get(finding.rule.id),
                }
            )
        worst = max((Severity.parse(str(f["severity"])) for f in shown), default=None)
        verdict = {None: "allow", Severity.INFO: "allow", Severity.WARN: "warn"}.get(worst, "block")
        if self.faces and verdict != "block":
            verdict = "block"  # until the teacher says who is pictured
        return {
            "sha256": self.sha256,
            "kind": self.kind,
            "mime": self.mime,
            "name": self.name,
            "size": self.size,
            "width": self.width,
            "height": self.height,
            "faces": self.faces,
            "boxes": [list(b) for b in self.boxes],
            "metadata": self.metadata.to_json(),
            "findings": shown,
            "verdict": verdict,
            "needs_pictured": self.faces > 0,
            "matching": None
            if self.matches is None
            else {
                "state": "done",
                "matches": [
                    {"face": m.face, "ref": m.ref, "name": m.name, "confident": m.confident}
                    for m in self.matches
                ],
            },
        }


# Match faces against enrolled people: (upright RGB picture, boxes in it) -> matches.
FaceMatcher = Callable[[Any, list[Box]], list[Match]]


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def analyse(
    data: bytes,
    *,
    mime: str = "",
    name: str = "",
    kind: str = "image",
    matcher: FaceMatcher | None = None,
    exclude: Sequence[Box] = (),
) -> PhotoReport:
    """Checks one file. Never raises for a bad file: it gets a finding instead.

    `exclude` are faces this file was made without (a blurred copy): a detector may
    still box a blurred face, and the teacher is not asked about it again."""
    from tweetguard.checks.photos import decode, faces  # Pillow, numpy, OpenCV: on first use

    report = PhotoReport(
        sha256=sha256_of(data), kind=kind, mime=mime, name=name or "the photo", size=len(data)
    )
    if kind == "video":
        report.metadata = metadata.read_video(data)
        _metadata_findings(report)
        report.findings.append(PhotoFinding(R.VIDEO_PARTLY_CHECKED))
        return report
    try:
        decoded = decode.decode(data)
    except decode.TooManyPixels as exc:
        report.readable = False
        report.findings.append(
            PhotoFinding(
                R.TOO_MANY_PIXELS, {"name": report.name, "megapixels": round(exc.pixels / 1e6)}
            )
        )
        return report
    except decode.Unreadable as exc:
        report.readable = False
        report.findings.append(PhotoFinding(R.UNREADABLE, {"name": report.name, "why": str(exc)}))
        return report
    report.width, report.height = decoded.width, decoded.height
    report.metadata = metadata.read(decoded.source)
    _metadata_findings(report)
    work, scale_back = decode.work_copy(decoded)
    report.boxes = [f.box for f in faces.detect(work, scale_back)]
    if getattr(decoded.source, "is_animated", False):
        _animation(data, report)
    if exclude:
        report.boxes = [b for b in report.boxes if not any(overlap(b, e) >= 0.3 for e in exclude)]
    if report.boxes:
        report.findings.append(
            PhotoFinding(R.WHO_PICTURED, {"faces": _faces_phrase(len(report.boxes))})
        )
    if matcher is not None:
        # Matching wants detail: the decoded picture, scaled to the original's boxes.
        picture = decoded.image
        factor = picture.width / decoded.width
        boxes = [
            (round(x0 * factor), round(y0 * factor), round(x1 * factor), round(y1 * factor))
            for x0, y0, x1, y1 in report.boxes
        ]
        report.matches = matcher(picture, boxes) if boxes else []
        for match in report.matches:
            rule = R.FACE_MATCH if match.confident else R.POSSIBLE_MATCH
            report.findings.append(PhotoFinding(rule, {"name": match.name}))
    return report


def _animation(data: bytes, report: PhotoReport) -> None:
    """Faces in any of the sampled frames of an animated GIF, WebP or PNG: X plays
    every frame. The same face in several frames is counted once."""
    from tweetguard.checks.photos import decode, faces

    sampled, total = decode.frames(data)
    for frame in sampled[1:]:  # the first was checked with the picture itself
        work, scale_back = decode.scaled_for_work(frame, report.width)
        for face in faces.detect(work, scale_back):
            if not any(overlap(face.box, known) >= SAME_FACE for known in report.boxes):
                report.boxes.append(face.box)
    report.boxes.sort()
    if total > len(sampled):
        report.findings.append(
            PhotoFinding(R.ANIMATION_PARTLY_CHECKED, {"checked": len(sampled), "frames": total})
        )


# Boxes overlapping this much (of the smaller) in two frames are one face.
SAME_FACE = 0.5


def overlap(a: Box, b: Box) -> float:
    """Intersection over the smaller box: how much of one face lies in the other."""
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    if w <= 0 or h <= 0:
        return 0.0
    smaller = min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]))
    return (w * h) / smaller if smaller > 0 else 0.0


def _faces_phrase(count: int) -> str:
    return "a face" if count == 1 else f"{count} faces"


def _metadata_findings(report: PhotoReport) -> None:
    meta = report.metadata
    places = [f.value for f in meta.fields if f.locates]
    # A video cannot be cleaned here (only an excerpt of it travels): its rule says what to do.
    location = R.VIDEO_LOCATION if report.kind == "video" else R.LOCATION
    if meta.gps is not None:
        where = f"GPS {meta.gps[0]:.4f}, {meta.gps[1]:.4f}"
        report.findings.append(PhotoFinding(location, {"where": where}))
    elif places:
        report.findings.append(PhotoFinding(location, {"where": ", ".join(places)[:80]}))
    identifying = sorted({f.name.lower() for f in meta.fields if not f.locates})
    if identifying and report.kind != "video":
        report.findings.append(PhotoFinding(R.HIDDEN_DETAILS, {"fields": ", ".join(identifying)}))
    if meta.taken and report.kind != "video":
        report.findings.append(PhotoFinding(R.DATE_TAKEN, {"when": meta.taken}))
