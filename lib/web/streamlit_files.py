"""Where the installed Streamlit keeps its front-end files (its shell's index.html, hashed
bundles and fonts), found without importing streamlit (lib.web must not), and which of them our
pages need early.

Streamlit fetches most of its modules only once the script has sent its first elements: markdown
with HTML, buttons, lists, check boxes, st.html, components. Every family page draws those at
once, so on a phone the text waited for a chain of round trips after the websocket (Lighthouse's
mobile profile: bench/LIGHTHOUSE.md). The login page prefetches all of them while the parent types;
the shell itself asks at once only for the markdown-with-HTML chain, which held the first text
back: preloading every late module there delayed the first paint by 1.3 s on that profile (they
compete with the first bundle), and this one chain brought the largest paint from 6.2 s to 5.6 s.
The names carry a hash that changes with each Streamlit release: they are looked up here by their
stem, and a stem that no longer exists is simply not preloaded."""

from __future__ import annotations

import functools
import importlib.util
from pathlib import Path

# Modules Streamlit loads late on « Accueil », « Mes inscriptions » and « Mes factures » (seen in
# Lighthouse's network log, requested after the websocket opened), by the stem of their file name.
LATE_MODULES = (
    "rehype-raw",
    "hastscript",
    "web-namespaces",  # markdown with HTML
    "Button",
    "DownloadButton",
    "createDownloadLinkElement",  # buttons, the PDF
    "Selectbox",
    "useMenuTrigger",
    "Autocomplete",
    "useLoadMoreSentinel",
    "useCollator",
    "Input",
    "useSyncComboBoxEnterTargetFocus",
    "sortBy",
    "_baseMap",
    "useFilter",  # lists
    "useFormValidation",
    "useFormReset",
    "useTextField",
    "useField",
    "requiredField",
    "WidgetLabel",
    "WidgetLabelHelpIcon",
    "WidgetLabelHelpIconInline",
    "useBasicWidgetState",
    "ErrorOutline.esm",
    "Cancel.esm",
    "Checkbox",
    "useSlot",
    "checkboxIndicatorStyles",  # toggles and check boxes
    "Html",
    "purify.es",  # st.html (the legend)
    "ComponentInstance",
    "IFrameUtil",
    "urls",
    "withCalculatedWidth",  # the calendar's frame
)
ICON_FONT = "MaterialSymbols-Rounded"
SHELL_EARLY = ("rehype-raw", "hastscript", "web-namespaces")  # the shell's own early asks (see above)


def package_dir() -> Path | None:
    spec = importlib.util.find_spec("streamlit")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def index_html() -> Path | None:
    """Streamlit's own index.html (its shell)."""
    package = package_dir()
    return package / "static" / "index.html" if package else None


def _one(folder: Path, stem: str, suffix: str) -> str | None:
    found = sorted(folder.glob(f"{stem}.*{suffix}"))
    return found[0].name if len(found) == 1 else None


@functools.cache
def early_assets() -> tuple[tuple[str, str], ...]:
    """(href relative to the shell, `as` destination) of the late modules and the icon font."""
    package = package_dir()
    if package is None:
        return ()
    static = package / "static" / "static"
    found = [
        (f"./static/js/{name}", "script")
        for name in (_one(static / "js", stem, ".js") for stem in LATE_MODULES)
        if name
    ]
    font = _one(static / "media", ICON_FONT, ".woff2")
    if font:
        found.append((f"./static/media/{font}", "font"))
    return tuple(found)


def early_links() -> str:
    """The <link>s that ask for them at once: modules as module preloads (crossorigin like the
    shell's own), the font as a preload (fonts are always fetched in CORS mode)."""
    links = []
    for href, kind in early_assets():
        if href.rsplit("/", 1)[1].split(".")[0] not in SHELL_EARLY:
            continue
        if kind == "script":
            links.append(f'<link rel="modulepreload" crossorigin href="{href}">')
        else:
            links.append(f'<link rel="preload" as="font" type="font/woff2" crossorigin href="{href}">')
    return "".join(links)
