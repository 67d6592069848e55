"""The translation files against Home Assistant's own rules, and the translation keys the code uses.

hassfest (``script/hassfest/translations.py`` in Home Assistant's repository, not shipped in the wheel) rejects an
integration whose ``strings.json`` or ``translations/en.json`` breaks its rules; a custom integration only finds
out when HACS or a reviewer runs it. These tests apply the same rules on every run:

- keys that are translation keys (selector options, entity and state keys, state attributes, services and their
  fields, devices) match ``[a-z0-9-_]+``, without a leading or trailing ``-``/``_`` nor two of them in a row;
  selector names, entity platforms and exception keys are slugs (``cv.slug``);
- every section and field is one hassfest knows (an unknown one is an error there), ``data_description`` only
  describes fields of ``data``, an issue has a title and either a description or a fix flow;
- every string: no HTML, no placeholder in single quotes, placeholders are identifiers (and none where Home
  Assistant does not fill them: entity states and state attributes), no combined ``[%key:…%]`` reference, no
  leading or trailing space, no URL (URLs go in placeholders).

Beyond hassfest: issue ids are held to the translation-key rule too (they are the ``translation_key`` of
``ir.async_create_issue``); ``translations/en.json`` is byte-identical to ``strings.json``; ``fr.json`` has
exactly the same keys and, string by string, the same placeholders; and every translation key the code passes
(``translation_key=…`` literals, directly or through a helper that forwards its argument, and the options of
every translated selector) exists in ``strings.json`` and follows the rules.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
import importlib
import json
from pathlib import Path
import re
import string
from typing import Any

from homeassistant.helpers import config_validation as cv
import pytest

COMPONENT = Path(__file__).resolve().parent.parent / "custom_components" / "enedis"
STRINGS = COMPONENT / "strings.json"
LANGUAGES = ("en", "fr")

# hassfest's patterns (script/hassfest/translations.py).
TRANSLATION_KEY_RE = re.compile(r"^(?!.+[_-]{2})(?![_-])[a-z0-9-_]+(?<![_-])$")
SINGLE_QUOTED_PLACEHOLDER_RE = re.compile(r"'{\w+}'")
COMBINED_REFERENCE_RE = re.compile(r"(.+\[%)|(%\].+)")
URL_RE = re.compile(
    r"(((ftp|ftps|scp|http|https|mqtt|mqtts|socket|socks5):\/\/|www\.)"
    r"[a-z0-9]+([\-\.]{1}[a-z0-9]+)*\.[a-z]{2,5}(:[0-9]{1,5})?(\/.*)?)",
    re.IGNORECASE,
)

type Errors = list[str]
type Rule = Callable[[object, str, Errors], None]
type KeyRule = Callable[[str], str | None]


# --------------------------------------------------------------------------------------------- key rules


def any_key(_key: str) -> str | None:
    """hassfest's ``str`` keys (step ids, form fields, errors, aborts)."""
    return None


def translation_key(key: str) -> str | None:
    """hassfest's ``translation_key_validator``."""
    if TRANSLATION_KEY_RE.match(key) is None:
        return f"invalid translation key {key!r}: [a-z0-9-_]+, not starting or ending with - or _, no -- or __"
    return None


def slug(key: str) -> str | None:
    """``cv.slug``: the key equals its own slugified form."""
    try:
        cv.slug(key)
    except Exception as err:  # Home Assistant's validation error, whatever its library
        return f"invalid slug {key!r}: {err}"
    return None


def slug_or_underscore(key: str) -> str | None:
    """``vol.Any("_", cv.slug)``."""
    return None if key == "_" else slug(key)


# --------------------------------------------------------------------------------------------- value rules


def text(*, placeholders: bool = True) -> Rule:
    """hassfest's ``validate_translation_value``."""

    def check(value: object, path: str, errors: Errors) -> None:
        if not isinstance(value, str):
            errors.append(f"{path}: expected a string, got {type(value).__name__}")
            return
        try:
            cv.string_with_no_html(value)
        except Exception:  # Home Assistant's validation error, whatever its library
            errors.append(f"{path}: contains HTML")
        if SINGLE_QUOTED_PLACEHOLDER_RE.search(value):
            errors.append(f"{path}: placeholder inside single quotes")
        try:
            names = [name for _, name, _, _ in string.Formatter().parse(value) if name]
        except ValueError as err:
            errors.append(f"{path}: unbalanced braces ({err})")
            names = []
        for name in names:
            if not placeholders:
                errors.append(f"{path}: placeholders are not filled here ({{{name}}})")
            elif not name.isidentifier():
                errors.append(f"{path}: placeholder {{{name}}} is not an identifier")
        if COMBINED_REFERENCE_RE.search(value):
            errors.append(f"{path}: combined translations ([%key:…%] with other text)")
        if value != value.strip():
            errors.append(f"{path}: leading or trailing spaces")
        if URL_RE.search(value):
            errors.append(f"{path}: contains a URL (use a description placeholder)")

    return check


def any_string(value: object, path: str, errors: Errors) -> None:
    """hassfest's bare ``str`` values (service field names, entity component names)."""
    if not isinstance(value, str):
        errors.append(f"{path}: expected a string, got {type(value).__name__}")


def keyed(key_rule: KeyRule, value_rule: Rule) -> Rule:
    """A mapping whose keys are free but must pass ``key_rule`` (``cv.schema_with_slug_keys``)."""

    def check(value: object, path: str, errors: Errors) -> None:
        if not isinstance(value, Mapping):
            errors.append(f"{path}: expected an object")
            return
        for key, item in value.items():
            if (error := key_rule(key)) is not None:
                errors.append(f"{path}: {error}")
            value_rule(item, f"{path}.{key}", errors)

    return check


@dataclass(frozen=True)
class Obj:
    """A mapping with known fields; an unknown field is an error, as in hassfest's schemas."""

    fields: dict[str, Rule]
    required: frozenset[str] = frozenset()
    extra: tuple[Callable[[Mapping[str, Any], str, Errors], None], ...] = field(default=())

    def __call__(self, value: object, path: str, errors: Errors) -> None:
        if not isinstance(value, Mapping):
            errors.append(f"{path}: expected an object")
            return
        for key in sorted(self.required - set(value)):
            errors.append(f"{path}: required key {key!r} is missing")
        for key, item in value.items():
            rule = self.fields.get(key)
            if rule is None:
                errors.append(f"{path}: unknown key {key!r} (Home Assistant does not read it)")
            else:
                rule(item, f"{path}.{key}", errors)
        for check in self.extra:
            check(value, path, errors)


# --------------------------------------------------------------------------------------------- the schema

TEXT = text()
TEXT_NO_PLACEHOLDER = text(placeholders=False)


def _data_description_in_data(flow: Mapping[str, Any], path: str, errors: Errors) -> None:
    for step_id, step in (flow.get("step") or {}).items():
        if isinstance(step, Mapping):
            for key in step.get("data_description") or {}:
                if key not in (step.get("data") or {}):
                    errors.append(f"{path}.step.{step_id}.data_description: {key!r} is not in data")


def _description_or_fix_flow(issue: Mapping[str, Any], path: str, errors: Errors) -> None:
    if ("description" in issue) == ("fix_flow" in issue):
        errors.append(f"{path}: an issue has either a description or a fix_flow")


SECTION = Obj(
    {
        "data": keyed(any_key, TEXT),
        "data_description": keyed(any_key, TEXT),
        "description": TEXT,
        "name": TEXT,
    }
)
STEP = Obj(
    {
        "title": TEXT,
        "description": TEXT,
        "data": keyed(any_key, TEXT),
        "data_description": keyed(any_key, TEXT),
        "menu_options": keyed(any_key, TEXT),
        "menu_option_descriptions": keyed(any_key, TEXT),
        "submit": TEXT,
        "sections": keyed(any_key, SECTION),
    }
)
FLOW_FIELDS: dict[str, Rule] = {
    "flow_title": TEXT,
    "step": keyed(any_key, STEP),
    "error": keyed(any_key, TEXT),
    "abort": keyed(any_key, TEXT),
    "progress": keyed(any_key, TEXT),
    "create_entry": keyed(any_key, TEXT),
    "initiate_flow": Obj({"user": TEXT}, frozenset({"user"})),
}
FLOW = Obj(FLOW_FIELDS, frozenset({"step"}), (_data_description_in_data,))
STATES = keyed(translation_key, TEXT_NO_PLACEHOLDER)
SERVICE_FIELD = Obj({"name": any_string, "description": TEXT, "example": TEXT}, frozenset({"name", "description"}))
STRINGS_SCHEMA = Obj(
    {
        "title": TEXT,
        "config": FLOW,
        "options": FLOW,
        "selector": keyed(
            slug_or_underscore,
            Obj(
                {
                    "choices": keyed(translation_key, TEXT),
                    "options": keyed(translation_key, TEXT),
                    "unit_of_measurement": keyed(translation_key, TEXT),
                    "fields": keyed(
                        translation_key,
                        Obj({"name": any_string, "description": TEXT}, frozenset({"name", "description"})),
                    ),
                }
            ),
        ),
        "application_credentials": Obj({"description": TEXT}),
        "issues": keyed(
            translation_key,
            Obj(
                {"title": TEXT, "description": TEXT, "fix_flow": FLOW},
                frozenset({"title"}),
                (_description_or_fix_flow,),
            ),
        ),
        "entity_component": keyed(
            slug_or_underscore,
            Obj(
                {
                    "name": any_string,
                    "state": STATES,
                    "state_attributes": keyed(translation_key, Obj({"name": any_string, "state": STATES})),
                }
            ),
        ),
        "device": keyed(translation_key, Obj({"name": TEXT})),
        "entity": keyed(
            slug,
            keyed(
                translation_key,
                Obj(
                    {
                        "name": TEXT,
                        "state": STATES,
                        "state_attributes": keyed(translation_key, Obj({"name": TEXT_NO_PLACEHOLDER, "state": STATES})),
                        "unit_of_measurement": TEXT_NO_PLACEHOLDER,
                    }
                ),
            ),
        ),
        "exceptions": keyed(slug, Obj({"message": TEXT})),
        "services": keyed(
            translation_key,
            Obj(
                {
                    "name": TEXT,
                    "description": TEXT,
                    "fields": keyed(translation_key, SERVICE_FIELD),
                    "sections": keyed(
                        translation_key, Obj({"name": any_string, "description": TEXT}, frozenset({"name"}))
                    ),
                },
                frozenset({"name", "description"}),
            ),
        ),
        "system_health": Obj({"info": keyed(translation_key, TEXT)}),
        "common": keyed(slug, TEXT),
    }
)


def hassfest_errors(strings: object) -> Errors:
    """Every rule ``strings`` breaks (empty when hassfest would accept it)."""
    errors: Errors = []
    STRINGS_SCHEMA(strings, "", errors)
    return errors


def load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def leaves(node: object, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], object]]:
    """(path, value) of every string of a translation tree."""
    if isinstance(node, Mapping):
        for key, value in node.items():
            yield from leaves(value, (*path, key))
    else:
        yield path, node


def placeholders(value: object) -> set[str]:
    if not isinstance(value, str):
        return set()
    return {name for _, name, _, _ in string.Formatter().parse(value) if name}


# --------------------------------------------------------------------------------------------- the files


@pytest.mark.parametrize("path", [STRINGS, *(COMPONENT / "translations" / f"{lang}.json" for lang in LANGUAGES)])
def test_translation_files_pass_home_assistant_rules(path: Path) -> None:
    assert hassfest_errors(load(path)) == []


def test_english_translation_is_strings_json() -> None:
    assert (COMPONENT / "translations" / "en.json").read_bytes() == STRINGS.read_bytes()


def test_french_has_the_same_keys_and_placeholders() -> None:
    english = dict(leaves(load(STRINGS)))
    french = dict(leaves(load(COMPONENT / "translations" / "fr.json")))
    assert sorted(".".join(p) for p in french.keys() - english.keys()) == [], "keys only in French"
    assert sorted(".".join(p) for p in english.keys() - french.keys()) == [], "keys missing in French"
    different = {
        ".".join(path): (placeholders(value), placeholders(french[path]))
        for path, value in english.items()
        if placeholders(value) != placeholders(french[path])
    }
    assert different == {}


def test_the_rules_catch_what_hassfest_rejects() -> None:
    """The checker itself: each of these is an error hassfest reports."""
    bad: dict[str, Any] = {
        "selector": {"consent_duration": {"options": {"P1Y": "1 year", "_x": "x", "a__b": "x"}}},
        "entity": {"sensor": {"Last_power": {"name": "Last power", "state": {"on": "{value}"}}}},
        "exceptions": {"Bad-key": {"message": "x"}},
        "issues": {"no_description": {"title": "x"}},
        "config": {
            "step": {"user": {"data": {"a": "A"}, "data_description": {"b": "B"}, "description": " <b>x</b>"}},
            "error": {"x": "Open https://example.com", "y": "'{name}'", "z": "{1abc}"},
        },
        "unknown_section": {},
    }
    errors = "\n".join(hassfest_errors(bad))
    for expected in (
        "invalid translation key 'P1Y'",
        "invalid translation key '_x'",
        "invalid translation key 'a__b'",
        "invalid translation key 'Last_power'",
        "placeholders are not filled here",
        "invalid slug 'Bad-key'",
        "either a description or a fix_flow",
        "'b' is not in data",
        "contains HTML",
        "leading or trailing spaces",
        "contains a URL",
        "placeholder inside single quotes",
        "is not an identifier",
        "unknown key 'unknown_section'",
    ):
        assert expected in errors


# --------------------------------------------------------------------------------------------- the code


@dataclass(frozen=True)
class KeyUse:
    """A translation key passed by the code."""

    where: str
    section: str  # "selector", "exceptions", "issues", "entity.<platform>" or "exceptions|issues"
    key: str
    options: tuple[str, ...] | None = None  # a selector's option values


def _name(func: ast.expr) -> str:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return ""


def _section(call: ast.Call, platform: str) -> str:
    name = _name(call.func)
    if "select" in name.lower():
        return "selector"
    if name.endswith("EntityDescription"):
        return f"entity.{platform}"
    if name.endswith("create_issue"):
        return "issues"
    if any(keyword.arg == "translation_domain" for keyword in call.keywords):
        return "exceptions"
    return "exceptions|issues"


def _options(call: ast.Call, module: object, where: str) -> tuple[str, ...]:
    """The option values of a translated selector, resolved from the module's constants."""
    expr = next((k.value for k in call.keywords if k.arg == "options"), call.args[0] if call.args else None)
    while isinstance(expr, ast.Call) and _name(expr.func) in {"list", "tuple", "sorted"} and expr.args:
        expr = expr.args[0]
    if isinstance(expr, ast.IfExp):  # ``A if cond else B``: every option either constant can offer
        options: dict[str, None] = {}
        for branch in (expr.body, expr.orelse):
            fake = ast.Call(func=ast.Name("list"), args=[branch], keywords=[])
            options.update(dict.fromkeys(_options(fake, module, where)))
        return tuple(options)
    value: object = None
    if isinstance(expr, ast.Name):
        value = getattr(module, expr.id, None)
    elif isinstance(expr, ast.List | ast.Tuple) and all(isinstance(e, ast.Constant) for e in expr.elts):
        value = [e.value for e in expr.elts if isinstance(e, ast.Constant)]
    if not isinstance(value, Mapping | list | tuple) or not all(isinstance(v, str) for v in value):
        pytest.fail(f"{where}: cannot resolve the selector's options (use a module-level constant of strings)")
    return tuple(value)


def code_key_uses() -> list[KeyUse]:
    """Every literal translation key of the integration's modules (the library under api/ has none)."""
    uses: list[KeyUse] = []
    for path in sorted(COMPONENT.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        module = importlib.import_module(f"custom_components.enedis.{path.stem}")
        platform = path.stem
        # Helpers that forward one of their parameters as ``translation_key=`` (e.g. ``_create_issue``).
        forwarders: dict[str, tuple[int, str, str]] = {}
        for node in ast.walk(tree):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            params = [a.arg for a in node.args.args if a.arg not in {"self", "cls"}]
            for inner in ast.walk(node):
                if not isinstance(inner, ast.Call):
                    continue
                for keyword in inner.keywords:
                    value = keyword.value
                    if keyword.arg == "translation_key" and isinstance(value, ast.Name) and value.id in params:
                        forwarders[node.name] = (params.index(value.id), value.id, _section(inner, platform))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            where = f"{path.name}:{node.lineno}"
            for keyword in node.keywords:
                if keyword.arg == "translation_key" and isinstance(keyword.value, ast.Constant):
                    key = str(keyword.value.value)
                    section = _section(node, platform)
                    options = _options(node, module, where) if section == "selector" else None
                    uses.append(KeyUse(where, section, key, options))
            forwarded = forwarders.get(_name(node.func))
            if forwarded is not None:
                index, param, section = forwarded
                arg = next((k.value for k in node.keywords if k.arg == param), None)
                if arg is None and len(node.args) > index:
                    arg = node.args[index]
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    uses.append(KeyUse(where, section, arg.value))
    return uses


def test_code_finds_the_translation_keys_it_uses() -> None:
    """The scan sees the kinds of keys the integration uses (a scan finding nothing would prove nothing)."""
    sections = {use.section for use in code_key_uses()}
    assert {"selector", "exceptions", "issues", "entity.sensor"} <= sections


def test_every_translation_key_of_the_code_exists_and_follows_the_rules() -> None:
    strings = load(STRINGS)
    problems: list[str] = []
    for use in code_key_uses():
        if (error := translation_key(use.key)) is not None:
            problems.append(f"{use.where}: {error}")
        if use.section == "selector":
            translated = strings.get("selector", {}).get(use.key, {}).get("options", {})
            problems.extend(
                f"{use.where}: selector {use.key!r} option: {error}"
                for option in use.options or ()
                if (error := translation_key(option)) is not None
            )
            if set(use.options or ()) != set(translated):
                problems.append(
                    f"{use.where}: selector {use.key!r} offers {sorted(use.options or ())},"
                    f" strings.json translates {sorted(translated)}"
                )
            continue
        found = False
        for section in use.section.split("|"):
            node: Any = strings
            for part in section.split("."):
                node = node.get(part, {}) if isinstance(node, Mapping) else {}
            found = found or use.key in node
        if not found:
            problems.append(f"{use.where}: {use.key!r} is not in strings.json ({use.section})")
    assert problems == []
