"""Messages rendered from Jinja2 templates: plain text and HTML, per locale, overridable per tenant.

A template ``<key>`` in locale ``<lang>`` is two files under ``services/notify/templates/<lang>/``:
``<key>.txt`` (first line ``Subject: …``, a blank line, then the plain-text body) and
``<key>.html`` (the HTML body, autoescaped, usually extending ``layout.html``). A tenant may
override either file by giving the same name in its overrides. A locale is looked up as given
(``fr-CA``), then by its language (``fr``), then in English.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from jinja2 import (
    ChainableUndefined,
    ChoiceLoader,
    DictLoader,
    Environment,
    FileSystemLoader,
    StrictUndefined,
    TemplateError,
    TemplateNotFound,
    pass_context,
)
from jinja2.runtime import Context
from jinja2.sandbox import SandboxedEnvironment

from .errors import InvalidTemplate, UnknownTemplate

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
DEFAULT_LOCALE = "en"
SUBJECT_PREFIX = "Subject:"

MONTHS = {
    "en": (
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ),
    "fr": (
        "janvier",
        "février",
        "mars",
        "avril",
        "mai",
        "juin",
        "juillet",
        "août",
        "septembre",
        "octobre",
        "novembre",
        "décembre",
    ),
}


@dataclass(frozen=True)
class Message:
    """A rendered message: subject line, plain-text body and HTML body."""

    subject: str
    text: str
    html: str
    locale: str


def candidate_locales(locale: str | None) -> list[str]:
    """The locales to try for ``locale``, most specific first, English last."""
    out: list[str] = []
    if locale:
        tag = locale.replace("_", "-").strip()
        out += [tag, tag.split("-")[0].lower()]
    out.append(DEFAULT_LOCALE)
    return list(dict.fromkeys(t for t in out if t))


def format_day(value: Any, locale: str) -> str:
    """A date as people of ``locale`` write it: ``6 December 2026`` / ``6 décembre 2026``."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return str(value)
    if not isinstance(value, date):
        return str(value)
    months = MONTHS.get(locale.split("-")[0], MONTHS["en"])
    return f"{value.day} {months[value.month - 1]} {value.year}"


def format_instant(value: Any, locale: str) -> str:
    """An instant in UTC with the day as ``format_day`` writes it and the time: ``6 December 2026, 14:05 UTC``."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return str(value)
    if not isinstance(value, datetime):
        return format_day(value, locale)
    return f"{format_day(value, locale)}, {value:%H:%M} UTC"


class TemplateCatalogue:
    """Renders messages from the built-in templates, with a tenant's overrides taking precedence."""

    def __init__(self, folder: Path = TEMPLATES) -> None:
        self.folder = folder
        self._builtin = FileSystemLoader(str(folder))
        self._plain = self._environment(self._builtin)

    def _environment(self, loader: Any, undefined: type[Any] = StrictUndefined) -> Environment:
        # Overrides are written by tenants: a sandbox keeps their templates from reaching Python internals.
        env = SandboxedEnvironment(
            loader=loader,
            undefined=undefined,
            autoescape=lambda name: bool(name and name.endswith(".html")),
            keep_trailing_newline=True,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        env.filters["day"] = _day_filter
        env.filters["instant"] = _instant_filter
        return env

    def keys(self) -> set[str]:
        """Every built-in template key (those with an English text file)."""
        return {p.name.removesuffix(".txt") for p in (self.folder / DEFAULT_LOCALE).glob("*.txt")}

    def override_key(self, file: str) -> str:
        """The template key of an override file ``<key>.txt`` / ``<key>.html``; ``InvalidTemplate`` otherwise."""
        key, dot, extension = file.rpartition(".")
        if not dot or extension not in ("txt", "html") or key not in self.keys():
            known = ", ".join(sorted(self.keys()))
            raise InvalidTemplate(f"{file!r} is not <key>.txt or <key>.html of a known key ({known})")
        return key

    def check_override(self, locale: str, file: str, source: str) -> None:
        """Raise ``InvalidTemplate`` unless ``source`` compiles and renders as ``<locale>/<file>``.

        It is rendered with values that are all absent but tolerated (a tenant's template may use any
        value its key's messages carry), so what fails is the template itself: its syntax, a forbidden
        attribute the sandbox refuses, a missing Subject: line.
        """
        self.override_key(file)
        name = f"{locale}/{file}"
        env = self._environment(ChoiceLoader([DictLoader({name: source}), self._builtin]), ChainableUndefined)
        try:
            rendered = env.get_template(name).render({"brand": {}, "locale": locale, "subject": ""})
        except TemplateError as exc:
            line = getattr(exc, "lineno", None)
            where = f"line {line}: " if line else ""
            raise InvalidTemplate(f"{name} does not render: {where}{exc}") from None
        except Exception as exc:  # a sandbox refusal or an error raised while rendering
            raise InvalidTemplate(f"{name} does not render: {type(exc).__name__}: {exc}") from None
        if file.endswith(".txt") and not rendered.startswith(SUBJECT_PREFIX):
            raise InvalidTemplate(f"{name} must start with a '{SUBJECT_PREFIX} …' line")

    def locales(self, key: str) -> list[str]:
        """The locales a built-in template exists in."""
        return sorted(p.name for p in self.folder.iterdir() if p.is_dir() and (p / f"{key}.txt").exists())

    def render(
        self,
        key: str,
        locale: str | None,
        context: Mapping[str, Any],
        *,
        overrides: Mapping[str, str] | None = None,
        brand: Mapping[str, Any] | None = None,
    ) -> Message:
        """Render template ``key`` in the best locale available for ``locale``; ``UnknownTemplate`` when none has it."""
        env = (
            self._environment(ChoiceLoader([DictLoader(dict(overrides)), self._builtin])) if overrides else self._plain
        )
        for tag in candidate_locales(locale):
            try:
                text_template = env.get_template(f"{tag}/{key}.txt")
            except TemplateNotFound:
                continue
            values = {"brand": dict(brand or {}), "locale": tag, **context}
            try:
                subject, text = _split_subject(text_template.render(values), key)
                try:
                    html = env.get_template(f"{tag}/{key}.html").render(values | {"subject": subject})
                except TemplateNotFound:
                    html = env.get_template("plain.html").render(values | {"subject": subject, "body": text})
            except UnknownTemplate:
                raise
            except Exception as exc:  # a value missing or of the wrong shape, a sandbox refusal
                raise InvalidTemplate(
                    f"{tag}/{key} does not render with these values: {type(exc).__name__}: {exc}"
                ) from None
            return Message(subject=subject, text=text, html=html, locale=tag)
        raise UnknownTemplate(f"no template {key!r} in {', '.join(candidate_locales(locale))}")


@pass_context
def _day_filter(context: Context, value: Any) -> str:
    return format_day(value, str(context.get("locale", DEFAULT_LOCALE)))


@pass_context
def _instant_filter(context: Context, value: Any) -> str:
    return format_instant(value, str(context.get("locale", DEFAULT_LOCALE)))


def _split_subject(rendered: str, key: str) -> tuple[str, str]:
    first, _, rest = rendered.partition("\n")
    if not first.startswith(SUBJECT_PREFIX):
        raise UnknownTemplate(f"template {key!r} must start with a '{SUBJECT_PREFIX} …' line")
    return first.removeprefix(SUBJECT_PREFIX).strip(), rest.lstrip("\n")
