"""The photo checks on their own: decoding, metadata, faces, clean and blurred copies.

Faces are real (tests/data/photos), placed by the tests into scenes of their own
making; every check that should fire has a photo beside it that must not.
"""

from __future__ import annotations

import io
import time

import pytest
from PIL import Image

from tests.photos import (
    PHOTOS,
    claimed_size_png,
    exif_bytes,
    group,
    jpeg,
    load,
    mp4_excerpt,
    png,
    scene,
    with_comment,
    with_iptc,
    with_xmp,
)
from tweetguard.checks.photos import metadata
from tweetguard.checks.photos.blur import blurred_copy
from tweetguard.checks.photos.clean import clean_copy
from tweetguard.checks.photos.report import analyse


def rules(data: bytes, **kwargs: str) -> list[str]:
    return [f.rule.id for f in analyse(data, **kwargs).findings]


def inside(box: tuple[int, int, int, int], area: tuple[int, int, int, int]) -> bool:
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    return area[0] <= cx <= area[2] and area[1] <= cy <= area[3]


# --- faces ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "count"),
    [
        ("obama.jpg", 1),
        ("obama2.jpg", 1),
        ("obama_small.jpg", 1),
        ("biden.jpg", 1),
        ("alex-lacamoire.jpg", 1),
        ("lin-manuel-miranda.jpg", 1),
        ("two_people.jpg", 2),
    ],
)
def test_every_face_in_the_real_photos_is_counted(name: str, count: int) -> None:
    report = analyse((PHOTOS / name).read_bytes(), name=name)
    assert report.faces == count
    assert "photos.who-pictured" in [f.rule.id for f in report.findings]


def test_a_group_with_large_and_small_faces_is_counted_face_by_face() -> None:
    picture, placed = group(
        [
            ("obama.jpg", 620, (80, 420)),
            ("biden.jpg", 420, (760, 600)),
            ("alex-lacamoire.jpg", 200, (1300, 820)),
            ("lin-manuel-miranda.jpg", 130, (1700, 900)),
            ("obama2.jpg", 160, (2100, 500)),
        ]
    )
    report = analyse(jpeg(picture))
    assert report.faces == len(placed)
    for area in placed:
        assert sum(inside(box, area) for box in report.boxes) == 1, area


def test_a_scene_with_no_one_in_it_has_no_faces_and_no_findings() -> None:
    data = jpeg(scene((2000, 1300), seed=11))
    report = analyse(data)
    assert report.faces == 0
    assert report.findings == []


@pytest.mark.parametrize(
    ("orientation", "stored_as"),
    [
        (6, Image.Transpose.ROTATE_90),
        (8, Image.Transpose.ROTATE_270),
        (3, Image.Transpose.ROTATE_180),
        (2, Image.Transpose.FLIP_LEFT_RIGHT),
    ],
)
def test_boxes_are_in_the_upright_picture_whatever_the_exif_rotation(
    orientation: int, stored_as: Image.Transpose
) -> None:
    upright = load("two_people.jpg")
    expected = analyse(jpeg(upright)).boxes
    turned = jpeg(upright.transpose(stored_as), exif=exif_bytes(orientation=orientation))
    report = analyse(turned)
    assert (report.width, report.height) == upright.size
    assert len(report.boxes) == len(expected) == 2
    for got, want in zip(sorted(report.boxes), sorted(expected), strict=True):
        assert all(abs(g - w) <= 6 for g, w in zip(got, want, strict=True)), (got, want)


def test_a_large_photo_is_decoded_reduced_but_boxes_are_in_its_own_pixels() -> None:
    upright = load("two_people.jpg")
    small = analyse(jpeg(upright)).boxes
    big = upright.resize((upright.width * 4, upright.height * 4), Image.Resampling.BICUBIC)
    report = analyse(jpeg(big))
    assert (report.width, report.height) == big.size
    for got, want in zip(sorted(report.boxes), sorted(small), strict=True):
        assert all(abs(g - 4 * w) <= 24 for g, w in zip(got, want, strict=True)), (got, want)


def test_png_gif_and_webp_are_checked_like_jpeg() -> None:
    picture = load("two_people.jpg")
    gif = io.BytesIO()
    picture.convert("P").save(gif, format="GIF")
    webp = io.BytesIO()
    picture.save(webp, format="WEBP", quality=85)
    for data in (png(picture), gif.getvalue(), webp.getvalue()):
        assert analyse(data).faces == 2


def test_an_iphone_heic_photo_is_read() -> None:
    pillow_heif = pytest.importorskip("pillow_heif")
    pillow_heif.register_heif_opener()
    out = io.BytesIO()
    try:
        load("obama.jpg").save(out, format="HEIF", quality=80)
    except (KeyError, OSError, ValueError) as exc:
        pytest.skip(f"this libheif cannot encode HEIC: {exc}")
    report = analyse(out.getvalue(), name="IMG_0001.HEIC")
    assert report.readable and report.faces == 1


# --- files that are not photos --------------------------------------------------


def test_a_picture_claiming_gigapixels_is_refused_unread_and_fast() -> None:
    bomb = claimed_size_png(50_000, 50_000)
    assert len(bomb) < 10_000
    started = time.perf_counter()
    found = rules(bomb, name="poster.png")
    assert found == ["photos.too-many-pixels"]
    assert time.perf_counter() - started < 2


def test_a_picture_just_over_the_cap_is_refused_and_one_under_is_not() -> None:
    assert rules(claimed_size_png(11_000, 10_000)) == ["photos.too-many-pixels"]
    assert "photos.too-many-pixels" not in rules(claimed_size_png(5_000, 4_000))


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (jpeg(load("obama.jpg"))[:9000], "cut short"),
        (b"Dear parents, the trip is on Friday.", "not a picture"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "damaged"),
        (b"", "not a picture"),
    ],
)
def test_broken_files_get_a_finding_that_says_why(data: bytes, why: str) -> None:
    report = analyse(data, name="sports-day.jpg")
    assert not report.readable
    assert [f.rule.id for f in report.findings] == ["photos.unreadable"]
    message = report.findings[0].message
    assert "sports-day.jpg" in message and why in message


# --- metadata -------------------------------------------------------------------


def test_gps_owner_and_serial_are_found_and_named() -> None:
    data = jpeg(
        scene(),
        exif=exif_bytes(gps=(53.4084, -2.9916), serial="SN-77120", owner="Harriet Quigley"),
    )
    report = analyse(data)
    assert report.metadata.gps is not None
    lat, lon = report.metadata.gps
    assert abs(lat - 53.4084) < 1e-3 and abs(lon + 2.9916) < 1e-3
    assert rules(data) == ["photos.location", "photos.hidden-details"]
    hidden = report.findings[1].message
    assert "camera owner" in hidden and "camera serial number" in hidden


def test_a_camera_make_and_model_alone_are_not_reported() -> None:
    data = jpeg(scene(), exif=exif_bytes(make="Canon", orientation=1))
    assert rules(data) == []


def test_a_date_alone_is_information_not_a_hold() -> None:
    data = jpeg(scene(), exif=exif_bytes(taken="2026:11:27 09:41:00"))
    report = analyse(data)
    assert [(f.rule.id, f.rule.severity.label) for f in report.findings] == [
        ("photos.date-taken", "info")
    ]


def test_gps_with_no_fix_written_as_zero_is_not_a_location() -> None:
    data = jpeg(scene(), exif=exif_bytes(gps=(0.0, 0.0)))
    assert "photos.location" not in rules(data)


def test_places_and_names_in_iptc_and_xmp_are_found() -> None:
    base = jpeg(scene())
    iptc = with_iptc(base, {90: "Whitby", 80: "Owain Pritchard"})
    report = analyse(iptc)
    assert [f.rule.id for f in report.findings] == ["photos.location", "photos.hidden-details"]
    assert "Whitby" in report.findings[0].message
    xmp = with_xmp(
        base,
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/">'
        "<Iptc4xmpExt:PersonInImage><rdf:Bag><rdf:li>Nia Kowalczyk</rdf:li></rdf:Bag>"
        "</Iptc4xmpExt:PersonInImage></rdf:Description></rdf:RDF></x:xmpmeta>",
    )
    fields = {f.name: f.value for f in analyse(xmp).metadata.fields}
    assert fields == {"People tagged": "Nia Kowalczyk"}


def test_a_jpeg_comment_and_png_author_are_hidden_details() -> None:
    commented = with_comment(jpeg(scene()), b"Year 3 trip, Brackenwood Farm")
    assert rules(commented) == ["photos.hidden-details"]
    info = __import__("PIL.PngImagePlugin", fromlist=["PngInfo"]).PngInfo()
    info.add_text("Author", "Mr Ellingham")
    assert rules(png(scene(), pnginfo=info)) == ["photos.hidden-details"]
    plain = png(scene())
    assert rules(plain) == []


def test_a_video_excerpt_with_a_place_holds_and_says_the_rest_is_not_checked() -> None:
    found = rules(mp4_excerpt("+54.5973-005.9301+012.000/", "2026-10-03T14:12:00"), kind="video")
    assert found == ["photos.video-location", "photos.video-partly-checked"]
    calm = rules(mp4_excerpt(None, "2026-10-03T14:12:00"), kind="video")
    assert calm == ["photos.video-partly-checked"]


def test_damaged_metadata_does_not_stop_the_pixels_being_checked() -> None:
    picture = load("two_people.jpg")
    broken_exif = b"Exif\x00\x00MM\x00*\x00\x00\x00\x08\xff\xff" + b"\x00" * 10
    data = jpeg(picture, exif=broken_exif)
    assert analyse(data).faces == 2


# --- the remedies ---------------------------------------------------------------


def test_a_clean_copy_keeps_the_picture_and_nothing_else() -> None:
    picture = load("two_people.jpg")
    stored = picture.transpose(Image.Transpose.ROTATE_90)
    dirty = with_xmp(
        with_iptc(
            with_comment(
                jpeg(
                    stored,
                    exif=exif_bytes(gps=(52.2, 0.12), serial="CAM-9", orientation=6),
                ),
                b"taken at Fenbridge Primary",
            ),
            {90: "Fenbridge"},
        ),
        '<x:xmpmeta xmlns:x="adobe:ns:meta/">'
        "<photoshop:City>Fenbridge</photoshop:City></x:xmpmeta>",
    )
    assert set(rules(dirty)) >= {"photos.location", "photos.hidden-details"}
    made = clean_copy(dirty)
    assert made.mime == "image/jpeg"
    for marker in (b"Exif", b"Fenbridge", b"CAM-9", b"http://ns.adobe.com/xap", b"Photoshop 3.0"):
        assert marker not in made.data
    copy = Image.open(io.BytesIO(made.data))
    assert copy.size == picture.size  # upright, with the rotation applied to the pixels
    assert not copy.getexif()
    report = analyse(made.data)
    assert report.faces == 2
    assert rules(made.data) == ["photos.who-pictured"]


def test_a_clean_copy_of_a_png_stays_png_with_its_transparency() -> None:
    picture = Image.new("RGBA", (300, 200), (10, 200, 30, 0))
    info = __import__("PIL.PngImagePlugin", fromlist=["PngInfo"]).PngInfo()
    info.add_text("Comment", "Sam's drawing")
    made = clean_copy(png(picture, pnginfo=info))
    assert made.mime == "image/png"
    copy = Image.open(io.BytesIO(made.data))
    assert copy.mode == "RGBA" and copy.getpixel((5, 5))[3] == 0
    assert "Comment" not in copy.info


def test_blurring_removes_the_chosen_faces_and_only_those() -> None:
    data = (PHOTOS / "two_people.jpg").read_bytes()
    boxes = analyse(data).boxes
    left_only = blurred_copy(data, [boxes[0]])
    after = analyse(left_only.data)
    assert after.faces == 1
    x0, y0, _, _ = after.boxes[0]
    assert abs(x0 - boxes[1][0]) < 10 and abs(y0 - boxes[1][1]) < 10
    both = analyse(blurred_copy(data, boxes).data)
    assert both.faces == 0


def test_reading_metadata_of_an_image_without_any_is_empty() -> None:
    image = Image.open(io.BytesIO(png(scene((200, 100)))))
    found = metadata.read(image)
    assert found.gps is None and found.fields == [] and found.taken is None


# --- found in review: files that used to slip through or be spoilt -------------------


def test_a_16_bit_greyscale_png_is_scaled_not_whited_out() -> None:
    import numpy as np

    grey = np.asarray(load("two_people.jpg").convert("L"), dtype=np.uint16) * 257
    sixteen = Image.fromarray(grey)
    assert sixteen.mode.startswith("I;16")
    data = png(sixteen)
    assert analyse(data).faces == 2
    copy = Image.open(io.BytesIO(clean_copy(data).data))
    assert 60 < float(np.asarray(copy.convert("L")).mean()) < 200  # not a white sheet


def animation(frames: list[Image.Image], fmt: str) -> bytes:
    out = io.BytesIO()
    frames[0].save(out, format=fmt, save_all=True, append_images=frames[1:], duration=100)
    return out.getvalue()


@pytest.mark.parametrize("fmt", ["GIF", "WEBP", "PNG"])
def test_a_face_in_a_later_frame_of_an_animation_is_found(fmt: str) -> None:
    blank = scene((900, 600), seed=2)
    face, _ = group([("obama.jpg", 420, (300, 100))], size=(900, 600))
    data = animation([blank, blank, face, blank], fmt)
    report = analyse(data)
    assert report.faces == 1
    assert "photos.who-pictured" in [f.rule.id for f in report.findings]


def test_an_animation_of_no_one_has_no_faces_and_a_long_one_says_what_was_sampled() -> None:
    frames = [scene((400, 300), seed=i) for i in range(20)]
    report = analyse(animation(frames, "GIF"))
    assert report.faces == 0
    [note] = report.findings
    assert note.rule.id == "photos.animation-partly-checked"
    assert "8 of the 20 frames" in note.message


def test_the_same_face_in_every_frame_is_counted_once() -> None:
    face, _ = group([("biden.jpg", 420, (300, 100))], size=(900, 600))
    assert analyse(animation([face, face, face], "GIF")).faces == 1


def test_gps_seconds_written_as_zero_over_zero_still_locate_the_photo() -> None:
    exif = Image.Exif()
    gps = exif.get_ifd(0x8825)
    from PIL.TiffImagePlugin import IFDRational

    gps[1], gps[2] = "N", (IFDRational(53), IFDRational(4812, 100), IFDRational(0, 0))
    gps[3], gps[4] = "W", (IFDRational(1), IFDRational(3312, 100), IFDRational(0, 0))
    report = analyse(jpeg(scene(), exif=exif.tobytes()))
    assert report.metadata.gps is not None
    assert abs(report.metadata.gps[0] - 53.802) < 1e-3
    assert "photos.location" in [f.rule.id for f in report.findings]


def test_half_a_gps_position_is_still_a_location() -> None:
    exif = Image.Exif()
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "N", (51.0, 30.0, 12.0)
    found = rules(jpeg(scene(), exif=exif.tobytes()))
    assert found == ["photos.location"]


def test_a_panoramas_faces_are_not_shrunk_away() -> None:
    people = [("obama.jpg", 300, (150 + i * 700, 700)) for i in range(8)]
    picture, placed = group(people, size=(6000, 1500))
    report = analyse(jpeg(picture))
    assert report.faces == len(placed)


@pytest.mark.parametrize(
    "comment",
    [b"AppleMark", b"LEAD Technologies Inc. V1.01", b"CREATOR: gd-jpeg v1.0 (using IJG JPEG v80)"],
)
def test_what_software_writes_into_a_file_is_not_a_hidden_detail(comment: bytes) -> None:
    assert rules(with_comment(jpeg(scene()), comment)) == []


def test_a_serial_number_of_zeros_is_not_a_detail_but_a_real_one_is() -> None:
    zeros = jpeg(scene(), exif=exif_bytes(serial="0000000000"))
    assert rules(zeros) == []
    real = jpeg(scene(), exif=exif_bytes(serial="CN-4471-0932"))
    assert rules(real) == ["photos.hidden-details"]


def test_a_clean_copy_keeps_a_png_transparent_colour() -> None:
    picture = Image.new("RGB", (60, 40), (1, 2, 3))
    picture.paste((200, 10, 10), (30, 0, 60, 40))
    made = clean_copy(png(picture, transparency=(1, 2, 3)))
    copy = Image.open(io.BytesIO(made.data))
    assert copy.mode == "RGBA"
    assert copy.getpixel((5, 5))[3] == 0 and copy.getpixel((45, 5))[3] == 255
