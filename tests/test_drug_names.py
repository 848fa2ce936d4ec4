"""Drug names in free text: the one-pattern screen in front of the per-drug scan changes no answer."""

from __future__ import annotations

import random

from linter.terminology import terminology


def _scan_every_name(text: str) -> set[str]:
    """The per-drug scan alone, without the screen (what drug_names_in answered before it)."""
    t = terminology()
    spans = [(m.start(), m.end(), key) for key, pat in t._drug_names for m in pat.finditer(text)]
    return {
        key
        for start, end, key in spans
        if not any(k != key and s <= start and end <= e and (e - s) > (end - start) for s, e, k in spans)
    }


def test_the_screen_gives_the_same_drugs_as_scanning_every_name() -> None:
    t = terminology()
    names = [n for drug in t.drugs.values() for n in (*drug.names, drug.display)]
    noise = ["", " ", "-", "/", "x", "2.5 MG", "Oral Tablet", "low molecular weight", "IA", "ſ", "K", "(", "PO bid"]
    rng = random.Random(20261130)
    texts = [*names, *(n.upper() for n in names), "amlodipine 5 MG Oral Tablet", "acetaminophen 500 MG"]
    for _ in range(3000):
        parts = [rng.choice(names) if rng.random() < 0.4 else rng.choice(noise) for _ in range(rng.randint(1, 5))]
        texts.append(rng.choice(["", " "]).join(parts))
    named = 0
    for text in texts:
        expected = _scan_every_name(text)
        assert t.drug_names_in(text) == expected, text
        named += bool(expected)
    assert 1000 < named < len(texts)  # both kinds of text were tried
