"""Photos and videos, end to end: attached by X's file input, paste or drop, each
checked by the real helper the moment it is attached, shown with its verdict,
and put right with the remedies through X's own controls.

Every test image is made here (Pillow, numpy) or comes from tests/data/photos/.
"""

from __future__ import annotations

import base64
import contextlib
import io
import os
import re
import signal

import numpy as np
from PIL import Image
from playwright.sync_api import Page, expect

from tests.conftest import DATA
from tests.e2e.test_compose import PANEL, type_post
from tests.e2e.test_helper_restart import host_pids

PHOTOS = DATA / "photos"
CARDS = "[data-tweetguard-photos] .card"
INLINE_POST = '[data-testid="tweetButtonInline"]'
FILE_INPUT = '[data-testid="fileInput"]'
DIALOG = '[role="dialog"]'
GPS_IFD = 0x8825  # GPSInfo


def png_without_faces(seed: int = 1, size: tuple[int, int] = (320, 240)) -> bytes:
    """A smooth colour gradient with a few blocks: nothing like a face, no metadata."""
    rng = np.random.default_rng(seed)
    w, h = size
    x = np.linspace(0, 255, w, dtype=np.float32)[None, :, None]
    y = np.linspace(0, 255, h, dtype=np.float32)[:, None, None]
    pixels = np.concatenate([x + 0 * y, y + 0 * x, (x + y) / 2], axis=2)
    for _ in range(4):
        x0, y0 = int(rng.integers(0, w - 40)), int(rng.integers(0, h - 40))
        pixels[y0 : y0 + 40, x0 : x0 + 40] = rng.integers(0, 255, 3)
    out = io.BytesIO()
    Image.fromarray(pixels.clip(0, 255).astype(np.uint8)).save(out, "PNG")
    return out.getvalue()


def jpeg_with_gps() -> bytes:
    """A photo with no faces whose EXIF says where it was taken."""
    image = Image.open(io.BytesIO(png_without_faces(seed=7))).convert("RGB")
    exif = Image.Exif()
    exif[0x010F] = "Canon"  # Make
    exif[0x0110] = "Canon EOS 200D"  # Model
    gps = exif.get_ifd(GPS_IFD)
    gps.update(
        {
            1: "N",
            2: (51.0, 30.0, 5.11),
            3: "W",
            4: (0.0, 8.0, 30.8),
        }
    )
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif, quality=90)
    return out.getvalue()


def has_gps(data: bytes) -> bool:
    exif = Image.open(io.BytesIO(data)).getexif()
    return bool(exif.get_ifd(GPS_IFD))


def big_noisy_jpeg() -> bytes:
    """A large photo (several MiB, many chunks) that takes the helper a while."""
    rng = np.random.default_rng(3)
    pixels = rng.integers(0, 255, (3000, 4000, 3), dtype=np.uint8)
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, "JPEG", quality=92)
    return out.getvalue()


def file(name: str, data: bytes, mime: str) -> dict[str, object]:
    return {"name": name, "mimeType": mime, "buffer": data}


def attach(page: Page, route: str, files: list[dict[str, object]], target: str) -> None:
    """Attaches files as a teacher would: X's file input, a paste into the text
    box, or a drop onto the composer."""
    if route == "input":
        page.locator(target).set_input_files(files=files)  # type: ignore[arg-type]
        return
    payload = [
        {"name": f["name"], "mime": f["mimeType"], "data": base64.b64encode(f["buffer"]).decode()}  # type: ignore[arg-type]
        for f in files
    ]
    page.evaluate(
        """([route, selector, files]) => {
            const transfer = new DataTransfer();
            for (const f of files) {
              const bytes = Uint8Array.from(atob(f.data), (c) => c.charCodeAt(0));
              transfer.items.add(new File([bytes], f.name, { type: f.mime }));
            }
            const target = document.querySelector(selector);
            const init = { bubbles: true, cancelable: true, composed: true };
            if (route === 'paste') {
              const paste = new ClipboardEvent('paste', { ...init, clipboardData: transfer });
              target.dispatchEvent(paste);
            } else {
              for (const type of ['dragenter', 'dragover', 'drop']) {
                target.dispatchEvent(new DragEvent(type, { ...init, dataTransfer: transfer }));
              }
            }
        }""",
        [route, target, payload],
    )


def card(page: Page, index: int = 0):  # type: ignore[no-untyped-def]
    return page.locator(CARDS).nth(index)


def home(launch):  # type: ignore[no-untyped-def]
    x = launch()
    x.page.goto("https://x.com/home")
    return x


def test_a_photo_without_faces_or_details_posts_without_any_prompt(launch) -> None:
    x = home(launch)
    photo = png_without_faces()
    type_post(x.page, "Our new reading corner is ready")
    attach(x.page, "input", [file("corner.png", photo, "image/png")], FILE_INPUT)
    expect(card(x.page)).to_have_attribute("data-verdict", "allow")
    expect(card(x.page)).to_contain_text("Fine to post")
    expect(card(x.page).get_by_role("button")).to_have_count(0)
    expect(x.page.locator(PANEL)).to_have_count(0)
    x.page.locator(INLINE_POST).click()
    [post] = x.site.wait_for_posts(1)
    assert post["text"] == "Our new reading corner is ready"
    assert [m["data"] for m in post["media"]] == [photo]


def test_photos_by_paste_and_by_drop_are_checked_too(launch) -> None:
    x = home(launch)
    pasted, dropped = png_without_faces(seed=11), png_without_faces(seed=12)
    type_post(x.page, "Art week displays")
    attach(x.page, "paste", [file("a.png", pasted, "image/png")], '[data-testid="tweetTextarea_0"]')
    attach(x.page, "drop", [file("b.png", dropped, "image/png")], ".composer")
    expect(x.page.locator('[data-testid="attachments"] img')).to_have_count(2)
    expect(x.page.locator(CARDS)).to_have_count(2)
    for i, route in enumerate(["paste", "drop"]):
        expect(card(x.page, i)).to_have_attribute("data-route", route)
        expect(card(x.page, i)).to_have_attribute("data-verdict", "allow")
    x.page.locator(INLINE_POST).click()
    [post] = x.site.wait_for_posts(1)
    assert [m["data"] for m in post["media"]] == [pasted, dropped]


def test_location_details_hold_the_post_until_removed_and_the_clean_copy_goes_out(launch) -> None:
    x = home(launch)
    original = jpeg_with_gps()
    assert has_gps(original)
    type_post(x.page, "Sunflowers in the garden")
    attach(
        x.page, "input", [file("IMG_2041.jpg", original, "image/jpeg")], '[data-testid="fileInput"]'
    )
    photo = card(x.page)
    expect(photo).to_have_attribute("data-verdict", "block")
    clean = photo.get_by_role("button", name="Remove hidden details")
    expect(clean).to_be_visible()

    x.page.locator(INLINE_POST).click()
    expect(x.page.locator(PANEL)).to_contain_text("tweetguard held this post")
    assert x.site.posts == []

    first_preview = x.page.locator('[data-testid="attachments"] img').first.get_attribute("src")
    clean.click()
    # The original went through X's remove button and the copy through X's file input.
    expect(x.page.locator('[data-testid="attachments"] img')).to_have_count(1)
    expect(x.page.locator('[data-testid="attachments"] img').first).not_to_have_attribute(
        "src", first_preview or ""
    )
    expect(x.page.locator(CARDS)).to_have_count(1)
    expect(card(x.page)).to_have_attribute("data-verdict", "allow")
    x.page.locator(INLINE_POST).click()
    [post] = x.site.wait_for_posts(1)
    [uploaded] = post["media"]
    assert uploaded["data"] != original
    assert not has_gps(uploaded["data"])
    assert Image.open(io.BytesIO(uploaded["data"])).size == (320, 240)


def pick_person(page: Page, photo, query: str, option: str) -> None:  # type: ignore[no-untyped-def]
    photo.get_by_role("button", name="Who is in this photo?").click()
    box = photo.get_by_role("combobox")
    expect(box).to_be_focused()
    page.keyboard.type(query)
    expect(photo.get_by_role("option").first).to_contain_text(option)
    page.keyboard.press("Enter")


def test_a_pupil_without_consent_holds_the_post_and_blurring_lets_it_go(launch) -> None:
    x = home(launch)
    face = (PHOTOS / "obama.jpg").read_bytes()
    type_post(x.page, "Reading buddies this morning")
    attach(x.page, "input", [file("buddies.jpg", face, "image/jpeg")], FILE_INPUT)
    photo = card(x.page)
    expect(photo).to_have_attribute("data-verdict", "block")
    expect(photo).to_contain_text("Who is in this photo?")

    pick_person(x.page, photo, "hope", "Hope Carrington")
    expect(photo.locator(".chosen")).to_contain_text("Hope Carrington")
    expect(photo).to_contain_text(re.compile("consent", re.I))
    expect(photo).to_have_attribute("data-verdict", "block")
    x.page.locator(INLINE_POST).click()
    expect(x.page.locator(PANEL)).to_contain_text("tweetguard held this post")
    assert x.site.posts == []
    if os.environ.get("TWEETGUARD_UPDATE_SCREENSHOTS"):
        shot = x.page.locator(".composer").first.screenshot()
        (DATA.parent.parent / "docs" / "photo-held.png").write_bytes(shot)

    photo.get_by_role("button", name="Blur faces").click()
    expect(x.page.locator(CARDS)).to_have_count(1)
    expect(card(x.page)).to_have_attribute("data-verdict", "allow")
    x.page.locator(INLINE_POST).click()
    [post] = x.site.wait_for_posts(1)
    [uploaded] = post["media"]
    assert uploaded["data"] != face


def test_a_pupil_with_consent_can_be_pictured(launch) -> None:
    x = home(launch)
    type_post(x.page, "Star reader of the week")
    attach(
        x.page,
        "input",
        [file("star.jpg", (PHOTOS / "obama_small.jpg").read_bytes(), "image/jpeg")],
        FILE_INPUT,
    )
    photo = card(x.page)
    expect(photo).to_have_attribute("data-verdict", "block")
    pick_person(x.page, photo, "amelia", "Amelia Thornbury")
    expect(photo).to_have_attribute("data-verdict", "allow")
    x.page.locator(INLINE_POST).click()
    assert len(x.site.wait_for_posts(1)) == 1


def test_no_one_can_be_recognised_lets_a_photo_with_faces_go(launch) -> None:
    x = home(launch)
    type_post(x.page, "Our Year 6 choir at the concert")
    attach(
        x.page,
        "input",
        [file("choir.jpg", (PHOTOS / "two_people.jpg").read_bytes(), "image/jpeg")],
        FILE_INPUT,
    )
    photo = card(x.page)
    expect(photo).to_have_attribute("data-verdict", "block")
    photo.get_by_role("button", name="Who is in this photo?").click()
    photo.get_by_label(re.compile("No one can be recognised")).check()
    expect(photo).to_have_attribute("data-verdict", "allow")
    expect(photo).to_contain_text("no one can be recognised")
    x.page.locator(INLINE_POST).click()
    assert len(x.site.wait_for_posts(1)) == 1


def test_a_post_waits_for_a_photo_still_being_checked(launch) -> None:
    x = home(launch)
    big = big_noisy_jpeg()
    assert len(big) > 4 * 1024 * 1024
    type_post(x.page, "The whole school on the field")
    attach(x.page, "input", [file("field.jpg", big, "image/jpeg")], FILE_INPUT)
    x.page.locator(INLINE_POST).click()  # at once, while the photo is still on its way
    expect(x.page.locator(PANEL)).to_contain_text("still checking a photo or video")
    assert x.site.posts == []
    [post] = x.site.wait_for_posts(1, timeout=90)
    assert [m["data"] for m in post["media"]] == [big]
    expect(card(x.page)).to_have_count(0)  # X cleared the composer after the post


def record_video(page: Page) -> bytes:
    """A short WebM made by the browser itself (MediaRecorder over a canvas)."""
    data = page.evaluate(
        """async () => {
            const canvas = document.createElement('canvas');
            canvas.width = 160; canvas.height = 120;
            const ctx = canvas.getContext('2d');
            const stream = canvas.captureStream(25);
            const recorder = new MediaRecorder(stream, { mimeType: 'video/webm' });
            const chunks = [];
            recorder.ondataavailable = (e) => chunks.push(e.data);
            const stopped = new Promise((resolve) => { recorder.onstop = resolve; });
            recorder.start();
            for (let i = 0; i < 20; i++) {
              ctx.fillStyle = `hsl(${i * 18}, 70%, 50%)`;
              ctx.fillRect(0, 0, 160, 120);
              await new Promise((resolve) => requestAnimationFrame(resolve));
            }
            recorder.stop();
            await stopped;
            const bytes = new Uint8Array(await new Blob(chunks).arrayBuffer());
            let text = '';
            for (const b of bytes) text += String.fromCharCode(b);
            return btoa(text);
        }"""
    )
    return base64.b64decode(data)


def test_a_video_says_the_rest_of_it_is_not_checked(launch) -> None:
    x = home(launch)
    video = record_video(x.page)
    type_post(x.page, "Sports day highlights")
    attach(x.page, "input", [file("sports.webm", video, "video/webm")], FILE_INPUT)
    clip = card(x.page)
    expect(clip).to_have_attribute("data-kind", "video")
    expect(clip).to_contain_text("the rest of the video is not checked")
    expect(clip).to_have_attribute("data-state", "done")
    expect(clip).to_have_attribute("data-verdict", "allow")  # no faces, no location
    x.page.locator(INLINE_POST).click()
    [post] = x.site.wait_for_posts(1)
    assert [m["data"] for m in post["media"]] == [video]


def describe_photo(page: Page, text: str) -> None:
    page.locator('[data-testid="attachments"] [data-testid="altTextEdit"]').first.click()
    page.locator('[data-testid="altTextInput"]').fill(text)
    page.locator('[data-testid="altTextSave"]').click()


def test_a_pupils_full_name_in_the_image_description_is_shown_like_text(launch) -> None:
    x = home(launch)
    type_post(x.page, "Fun on the climbing frame")
    attach(
        x.page,
        "input",
        [file("frame.png", png_without_faces(seed=5), "image/png")],
        FILE_INPUT,
    )
    expect(card(x.page)).to_have_attribute("data-verdict", "allow")
    describe_photo(x.page, "Amelia Thornbury at the top of the climbing frame")
    item = x.page.locator(f'{PANEL} li[data-field="alt"][data-rule="names.full-name"]')
    expect(item).to_contain_text("Photo 1 description:")
    expect(item).to_contain_text("is a pupil's full name")
    x.page.locator(INLINE_POST).click()
    expect(x.page.locator(PANEL)).to_contain_text("tweetguard held this post")
    assert x.site.posts == []

    # A description that names no one posts.
    describe_photo(x.page, "A child at the top of the climbing frame")
    expect(item).to_have_count(0)
    x.page.locator(INLINE_POST).click()
    assert len(x.site.wait_for_posts(1)) == 1


def test_each_post_of_a_thread_has_its_own_photos(launch) -> None:
    x = launch()
    x.page.goto("https://x.com/compose/post")
    dialog = x.page.locator('[role="dialog"]')
    type_post(
        x.page, "Harvest festival, part 1", box='[role="dialog"] [data-testid="tweetTextarea_0"]'
    )
    dialog.locator('[data-testid="addButton"]').click()
    type_post(x.page, "Part 2: the produce", box=f'{DIALOG} [data-testid="tweetTextarea_1"]')
    attach(
        x.page,
        "input",
        [file("produce.jpg", jpeg_with_gps(), "image/jpeg")],
        '[role="dialog"] [data-testid="fileInput"]',
    )
    expect(dialog.locator('.cell >> nth=1 >> [data-testid="attachments"] img')).to_have_count(1)
    expect(card(x.page)).to_have_attribute("data-verdict", "block")
    dialog.locator('[data-testid="tweetButton"]').click()
    expect(dialog.locator(PANEL)).to_contain_text("tweetguard held this post")
    card(x.page).get_by_role("button", name="Remove hidden details").click()
    expect(card(x.page)).to_have_attribute("data-verdict", "allow")
    # The clean copy went back into the second post, not the first.
    expect(dialog.locator('.cell >> nth=1 >> [data-testid="attachments"] img')).to_have_count(1)
    expect(dialog.locator('.cell >> nth=0 >> [data-testid="attachments"] img')).to_have_count(0)
    dialog.locator('[data-testid="tweetButton"]').click()
    posts = x.site.wait_for_posts(2)
    assert [len(p["media"]) for p in posts] == [0, 1]
    assert not has_gps(posts[1]["media"][0]["data"])


def add_preview_behind_our_back(page: Page, data: bytes, mime: str, revoked: bool = False) -> None:
    """A preview X shows without any event the extension saw (attached before it
    loaded, or by a route it does not know): only the preview's blob: URL is left."""
    page.evaluate(
        """([data, mime, revoked]) => {
            const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
            const area = document.querySelector('.composer [data-testid="attachments"]');
            addFiles(area, [new File([bytes], 'old.jpg', { type: mime })]);
            if (revoked) URL.revokeObjectURL(area.querySelector('img').src);
        }""",
        [base64.b64encode(data).decode(), mime, revoked],
    )


def test_a_preview_without_a_known_file_is_checked_from_the_preview(launch) -> None:
    x = home(launch)
    type_post(x.page, "Sunflowers again")
    add_preview_behind_our_back(x.page, jpeg_with_gps(), "image/jpeg")
    photo = card(x.page)
    expect(photo).to_have_attribute("data-route", "preview")
    expect(photo).to_have_attribute("data-verdict", "block")
    x.page.locator(INLINE_POST).click()
    expect(x.page.locator(PANEL)).to_contain_text("tweetguard held this post")
    assert x.site.posts == []


def test_a_preview_that_cannot_be_read_holds_the_post(launch) -> None:
    x = home(launch)
    type_post(x.page, "A lovely day")
    add_preview_behind_our_back(x.page, png_without_faces(), "image/png", revoked=True)
    expect(card(x.page)).to_have_attribute("data-verdict", "error")
    expect(card(x.page)).to_contain_text("could not read this photo")
    x.page.locator(INLINE_POST).click()
    expect(x.page.locator(PANEL)).to_contain_text("could not read this photo")
    assert x.site.posts == []


def test_a_photo_is_sent_again_after_the_helper_restarts(launch) -> None:
    x = home(launch)
    photo = png_without_faces(seed=21)
    type_post(x.page, "Cake sale raised lots")
    attach(x.page, "input", [file("cake.png", photo, "image/png")], FILE_INPUT)
    expect(card(x.page)).to_have_attribute("data-verdict", "allow")
    before = host_pids(x.home)
    for pid in before:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    # The next check starts a fresh helper, which has never seen the photo.
    x.page.locator(INLINE_POST).click()
    [post] = x.site.wait_for_posts(1)
    assert [m["data"] for m in post["media"]] == [photo]
    assert len(host_pids(x.home)) > len(before)
