"""Synthetic school data for the benchmarks: a register of realistic names and posts.

Names are combinations of common first names and surnames, so a 2,000-pupil
register has distinct full names without made-up words.
"""

from __future__ import annotations

from pathlib import Path

FIRST = [
    "Amelia",
    "Noah",
    "Isla",
    "Leo",
    "Zoë",
    "Oliver",
    "Aisha",
    "Jack",
    "Freya",
    "Tomás",
    "Olivia",
    "George",
    "Ava",
    "Arthur",
    "Mia",
    "Muhammad",
    "Ivy",
    "Theo",
    "Grace",
    "Oscar",
    "Lily",
    "Harry",
    "Sophia",
    "Alfie",
    "Rosie",
    "Charlie",
    "Evie",
    "Jacob",
    "Ella",
    "Finley",
    "Chloe",
    "Henry",
    "Priya",
    "Kofi",
    "Mei",
    "Ciarán",
    "Siobhan",
    "Dev",
    "Nia",
    "Yusuf",
    "Maya",
    "Reuben",
    "Hannah",
    "Ibrahim",
    "Layla",
    "Zain",
    "Poppy",
    "Eli",
    "Sienna",
    "Omar",
    "Matilda",
    "Jude",
    "Esme",
    "Rory",
    "Phoebe",
    "Luca",
    "Imogen",
    "Ezra",
    "Ruby",
    "Felix",
    "Aria",
    "Jasper",
    "Elsie",
    "Sami",
    "Clara",
    "Idris",
    "Martha",
    "Rafael",
    "Orla",
    "Tobias",
    "Nina",
    "Kai",
    "Bella",
    "Hugo",
    "Ada",
    "Milo",
    "Niamh",
    "Ravi",
    "Lottie",
    "Bilal",
]
LAST = [
    "Thornbury",
    "Okafor",
    "Lindqvist",
    "Patel",
    "Nowak",
    "O'Brien",
    "Hughes",
    "Khan",
    "Smith",
    "Jones",
    "Taylor",
    "Brown",
    "Williams",
    "Wilson",
    "Johnson",
    "Davies",
    "Robinson",
    "Wright",
    "Thompson",
    "Evans",
    "Walker",
    "White",
    "Roberts",
    "Green",
    "Hall",
    "Wood",
    "Jackson",
    "Clarke",
    "Mensah",
    "Adeyemi",
    "Kowalski",
    "Rossi",
    "Müller",
    "García",
    "Chen",
    "Nguyen",
    "Singh",
    "Ahmed",
    "Murphy",
    "Kelly",
    "Byrne",
    "Walsh",
    "Campbell",
    "Stewart",
    "Morgan",
    "Price",
    "Bennett",
    "Ward",
    "Fox",
    "Gray",
    "Hunt",
    "Knight",
    "Lloyd",
    "Mills",
    "Palmer",
    "Reid",
    "Shaw",
    "Webb",
    "Frost-Whitley",
]
POSTS = [
    # Ordinary news, names, links, emoji: what teachers write on a normal day.
    "Year {n} planted sunflowers in the school garden this morning 🌻",
    "Well done {first} for a brilliant piece of writing in Year {n}!",
    "Congratulations to {first} {last} on reaching the county final!",
    "Reminder: parents' evening is on Thursday. Book a slot at https://example.sch.uk/book",
    "Our Year {n} choir sang beautifully at the care home today. Thank you all! 🎶",
    "Sports day results are in: well done to every house, and thanks to the PTA for the lollies.",
    # And the posts the checks exist for.
    "Year {n} are at the Science Museum tomorrow from 10am, coach leaves 8:45!",
    "Get well soon {first}, we hope you are out of hospital soon 💐",
    "Questions about the trip? Call Mrs Patel on 07700 900{n}12 or email {first}@gmail.com",
    "Sign up here: https://bit.ly/3xYz{n} — what a hell of a week!",
    "{last}, {first} (Year {n}) was star of the week ⭐️ #proud",
    "Lovely photos from Year {n}’s “Victorian Day” — more on the website: oakfield.sch.uk/news",
]


def pupil(i: int) -> tuple[str, str]:
    """The i-th of len(FIRST) * len(LAST) distinct, realistic full names."""
    return FIRST[i % len(FIRST)], LAST[(i // len(FIRST)) % len(LAST)]


def make_register(path: Path, pupils: int) -> None:
    lines = ["first_name,last_name,class,social_media_consent"]
    for i in range(pupils):
        first, last = pupil(i)
        lines.append(f'{first},"{last}",Year {i % 7},yes')
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def sample_posts(count: int, pupils: int, seed: int = 2) -> list[str]:
    import random

    rng = random.Random(seed)
    posts = []
    for _ in range(count):
        n = rng.randrange(pupils)
        first, last = pupil(n)
        posts.append(rng.choice(POSTS).format(n=n % 7, first=first, last=last))
    return posts
