"""Meeting links and codes as users paste them."""

from __future__ import annotations

import pytest

from visio_desktop.net.links import DEFAULT_INSTANCE, LinkError, parse_link


@pytest.mark.parametrize(("text", "instance", "slug"), [
    ("abc-defg-hij", DEFAULT_INSTANCE, "abc-defg-hij"),
    ("  ABCDEFGHIJ ", DEFAULT_INSTANCE, "abc-defg-hij"),
    ("https://visio.numerique.gouv.fr/abc-defg-hij", DEFAULT_INSTANCE, "abc-defg-hij"),
    ("https://meet.example.org/ABC-DEFG-HIJ/", "https://meet.example.org", "abc-defg-hij"),
    ("visio.numerique.gouv.fr/abc-defg-hij", DEFAULT_INSTANCE, "abc-defg-hij"),
    ("visio://visio.numerique.gouv.fr/abc-defg-hij", DEFAULT_INSTANCE, "abc-defg-hij"),
    ("visio://192.168.1.20:7880/abc-defg-hij", "http://192.168.1.20:7880", "abc-defg-hij"),
    ("http://192.168.1.20:7880/abc-defg-hij", "http://192.168.1.20:7880", "abc-defg-hij"),
    ("http://127.0.0.1:7880/abc-defg-hij", "http://127.0.0.1:7880", "abc-defg-hij"),
    ("https://user:pw@meet.example.org/abc-defg-hij", "https://meet.example.org",
     "abc-defg-hij"),
])
def test_accepted_links(text: str, instance: str, slug: str) -> None:
    link = parse_link(text)
    assert (link.instance, link.slug) == (instance, slug)


@pytest.mark.parametrize(("text", "message"), [
    ("", "Enter a meeting link"),
    ("abc-defg", "does not name a meeting"),
    ("https://visio.numerique.gouv.fr/", "does not name a meeting"),
    ("http://visio.numerique.gouv.fr/abc-defg-hij", "only accepted on the local network"),
    ("ftp://192.168.1.2/abc-defg-hij", "Unsupported link type"),
])
def test_refused_links(text: str, message: str) -> None:
    with pytest.raises(LinkError, match=message):
        parse_link(text)
