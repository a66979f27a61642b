"""Text a user typed is shown as text, never run as markup (docs/security.md, "XSS"): the templates
are auto-escaped and none marks a value ``|safe``, so a hamlet named with a ``<script>`` tag, or a
search for one, shows the tag as characters on the pages of everybody who reads it."""

from __future__ import annotations

from urllib.parse import quote

from danso_network.extensions import db

from . import factories
from .conftest import login

PAYLOAD = '<script>alert("x")</script><img src=x onerror=alert(1)>'
ESCAPED = "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;"


def test_a_stored_name_with_markup_is_shown_as_text(client, world):
    hamlet = factories.hamlet(world.commune_a, PAYLOAD, type="khu_pho")
    db.session.commit()
    login(client, "ttyt689")  # the centre officer reads what the station wrote
    for url in (f"/units/{world.commune_a.id}", f"/units/{hamlet.id}", "/units/search?q=" + quote("alert")):
        page = client.get(url).get_data(as_text=True)
        assert ESCAPED in page, url
        assert "<script>alert" not in page and "<img src=x" not in page, url


def test_a_search_for_markup_is_echoed_as_text(client, world):
    login(client, "truongtram_a")
    page = client.get("/units/search?q=" + quote(PAYLOAD)).get_data(as_text=True)
    assert "&lt;script&gt;alert(" in page
    assert "<script>alert" not in page and "<img src=x" not in page
