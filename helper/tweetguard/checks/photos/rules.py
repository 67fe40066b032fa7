"""The photo rules, as data: id, severity, the line a teacher reads and the remedy.

`fix_hint` is what the docs and `tweetguard rules` show; the panel offers the
remedy named by `REMEDY` as a button.
"""

from __future__ import annotations

from tweetguard.checks.base import Rule, Severity

UNREADABLE = Rule(
    id="photos.unreadable",
    family="photos",
    severity=Severity.BLOCK,
    message=(
        "tweetguard cannot read “{name}” as a photo ({why}). Save it again as JPEG or PNG and "
        "attach that."
    ),
    fix_hint="Save the photo again as JPEG or PNG, then attach the new file.",
    description=(
        "A file that is not a photo tweetguard can open: broken, cut short, or of an unknown kind."
    ),
)
TOO_MANY_PIXELS = Rule(
    id="photos.too-many-pixels",
    family="photos",
    severity=Severity.BLOCK,
    message="“{name}” is {megapixels} megapixels, too large to check. Attach a smaller copy.",
    fix_hint="Attach a copy no larger than 100 megapixels (X shrinks photos anyway).",
    description=(
        "A photo larger than 100 megapixels. Such files are refused unread: a small file "
        "that claims huge dimensions is a known way to exhaust memory (a decompression bomb)."
    ),
)
UNCHECKED = Rule(
    id="photos.unchecked",
    family="photos",
    severity=Severity.BLOCK,
    message="A photo in this post has not been checked yet. Wait a moment, then press Post again.",
    fix_hint=(
        "Wait for the check to finish; if it never does, remove the photo and attach it again."
    ),
    description="A photo the helper has not seen, or whose check has not finished.",
)
LOCATION = Rule(
    id="photos.location",
    family="photos",
    severity=Severity.BLOCK,
    message=(
        "This photo records where it was taken ({where}). Press “Remove hidden details” before "
        "posting."
    ),
    fix_hint="Remove hidden details: tweetguard puts a clean copy in its place.",
    description=(
        "A GPS position in the photo's EXIF or XMP, or a place name in its IPTC or XMP "
        "(city, sublocation): it can lead to the school or a trip."
    ),
)
HIDDEN_DETAILS = Rule(
    id="photos.hidden-details",
    family="photos",
    severity=Severity.WARN,
    message=(
        "This photo carries hidden details that can identify people ({fields}). Press “Remove "
        "hidden details”."
    ),
    fix_hint="Remove hidden details: tweetguard puts a clean copy in its place.",
    description=(
        "Camera owner, serial numbers, author, names of people tagged in the photo, "
        "captions and comments kept inside the file."
    ),
)
DATE_TAKEN = Rule(
    id="photos.date-taken",
    family="photos",
    severity=Severity.INFO,
    message="This photo records when it was taken ({when}). “Remove hidden details” takes it out.",
    fix_hint="Remove hidden details if the date should not go out.",
    description=(
        "The date and time the photo was taken. X removes it on upload; it is shown so nothing is "
        "a surprise."
    ),
)
WHO_PICTURED = Rule(
    id="photos.who-pictured",
    family="photos",
    severity=Severity.BLOCK,
    message="This photo shows {faces}. Say who is in it, or that no one can be recognised.",
    fix_hint=(
        "Press “Who is in this photo?” and pick each person, or tick “No one can be recognised”."
    ),
    description=(
        "A photo with faces in it, until the teacher says who is pictured: photos of pupils "
        "and staff go online only with their consent."
    ),
)
NO_CONSENT = Rule(
    id="photos.no-consent",
    family="photos",
    severity=Severity.BLOCK,
    message=(
        "{name} has no consent for photos on social media. Remove the photo, or blur {name}'s face."
    ),
    fix_hint="Blur the person's face, or post without this photo.",
    description=(
        "A person the teacher says is pictured whose social media consent is no or has expired."
    ),
)
NOT_IN_REGISTER = Rule(
    id="photos.not-in-register",
    family="photos",
    severity=Severity.BLOCK,
    message=(
        "Someone picked as pictured is no longer in the consent register. Choose who is in the "
        "photo again."
    ),
    fix_hint="Open “Who is in this photo?” and pick again.",
    description=(
        "A pictured person chosen before the register was re-imported, who is not in the new one."
    ),
)
FACE_MATCH = Rule(
    id="photos.face-match",
    family="photos",
    severity=Severity.BLOCK,
    message=(
        "This photo looks like {name}, who must not appear. Blur that face or use another photo."
    ),
    fix_hint="Blur the face, or post without this photo.",
    description="Face matching (opt-in) recognised a person enrolled as never to appear.",
)
POSSIBLE_MATCH = Rule(
    id="photos.possible-match",
    family="photos",
    severity=Severity.BLOCK,
    message=(
        "A face in this photo may be {name}, who must not appear. Blur it, or confirm it is "
        "someone else."
    ),
    fix_hint="Blur the face, or say in “Who is in this photo?” that it is not them.",
    description=(
        "Face matching (opt-in) found a face close to an enrolled person, but not certainly them."
    ),
)
MATCHING_UNAVAILABLE = Rule(
    id="photos.matching-unavailable",
    family="photos",
    severity=Severity.BLOCK,
    message=(
        "Your school checks faces against pupils who must not appear, but that check cannot "
        "run on this computer. Ask IT ({why})."
    ),
    fix_hint="IT installs tweetguard[matching] on this computer, or the school turns matching off.",
    description=(
        "Face matching is on in the policy but dlib or its models are missing here: photos "
        "with faces are held rather than passed unchecked."
    ),
)
VIDEO_LOCATION = Rule(
    id="photos.video-location",
    family="photos",
    severity=Severity.BLOCK,
    message=(
        "This video records where it was filmed ({where}). Share it again without its location, "
        "then attach that."
    ),
    fix_hint=(
        "On the phone, share the video with location turned off (iPhone: Options, Location), or "
        "export it again."
    ),
    description="A GPS position in a video's metadata (QuickTime or MP4 location atoms).",
)
ANIMATION_PARTLY_CHECKED = Rule(
    id="photos.animation-partly-checked",
    family="photos",
    severity=Severity.INFO,
    message=(
        "Only {checked} of the {frames} frames of this animation were checked for faces. "
        "Watch it through before posting."
    ),
    fix_hint="Watch the whole animation for faces, names and places before posting.",
    description=(
        "An animated GIF, WebP or PNG with more frames than are checked (eight, evenly "
        "spaced): faces in any of those frames are counted."
    ),
)
VIDEO_PARTLY_CHECKED = Rule(
    id="photos.video-partly-checked",
    family="photos",
    severity=Severity.INFO,
    message=(
        "Only this video's first frame and hidden details were checked. Watch all of it before "
        "posting."
    ),
    fix_hint="Watch the whole video for faces, names and places before posting.",
    description="A video: tweetguard checks its metadata and its first frame, not the rest.",
)

RULES = (
    UNREADABLE,
    TOO_MANY_PIXELS,
    UNCHECKED,
    LOCATION,
    HIDDEN_DETAILS,
    DATE_TAKEN,
    WHO_PICTURED,
    NO_CONSENT,
    NOT_IN_REGISTER,
    FACE_MATCH,
    POSSIBLE_MATCH,
    MATCHING_UNAVAILABLE,
    VIDEO_LOCATION,
    ANIMATION_PARTLY_CHECKED,
    VIDEO_PARTLY_CHECKED,
)

# The remedy the panel offers for a finding, by rule id (protocol: `fix` on photo findings).
REMEDY = {
    LOCATION.id: "clean",
    HIDDEN_DETAILS.id: "clean",
    DATE_TAKEN.id: "clean",
    WHO_PICTURED.id: "pictured",
    NO_CONSENT.id: "blur",
    FACE_MATCH.id: "blur",
    POSSIBLE_MATCH.id: "blur",
}
