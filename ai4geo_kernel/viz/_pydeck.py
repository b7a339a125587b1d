"""pydeck scenes offline: pydeck's HTML with its deck.gl bundle inlined and every CDN reference removed.

pydeck's ``to_html(offline=True)`` inlines the ``@deck.gl/jupyter-widget`` bundle shipped in its wheel but
still links Mapbox GL, Bootstrap, Font Awesome and MapLibre CSS from CDNs (and the widgets stylesheet):
offline those requests fail or hang. :func:`pydeck_html` keeps pydeck's own rendering and drops them, so a
scene without a base map renders with nothing fetched.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["pydeck_html", "show_pydeck"]

_REMOTE = re.compile(
    r"""<script[^>]*\bsrc=["']?https?://[^>]*>\s*</script>|<link[^>]*\bhref=["']?https?://[^>]*>""",
    re.IGNORECASE,
)


def pydeck_html(deck: Any) -> str:
    """The standalone HTML page of a ``pydeck.Deck``, with no reference to a remote URL.

    Parameters
    ----------
    deck : pydeck.Deck
        A deck without a base map (``map_style=None``, or ``map_provider=None``): base maps come from the
        internet by nature.

    Returns
    -------
    str
        HTML with the deck.gl bundle inline (about 4 MB).
    """
    page = deck.to_html(as_string=True, offline=True, notebook_display=False)
    return _REMOTE.sub("", page)


def show_pydeck(deck: Any, *, height: int = 500) -> Any:
    """Display a ``pydeck.Deck`` in a notebook offline (an iframe whose document is :func:`pydeck_html`)."""
    from pydeck.io.html import iframe_with_srcdoc

    return iframe_with_srcdoc(pydeck_html(deck), height=height)
