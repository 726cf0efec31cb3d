"""The fields a `data.text_template` names: checked with the config, before any data is read."""

from __future__ import annotations

from string import Formatter

from dynrec_cli.errors import ConfigError


def template_fields(template: str) -> list[str]:
    """The columns a `data.text_template` names, in order.

    Raises:
        ConfigError: the template is not valid `str.format` syntax, or has a positional field.
    """
    try:
        names = [name for _, name, _, _ in Formatter().parse(template) if name is not None]
    except ValueError as err:
        raise ConfigError(f"data.text_template={template!r}: not a valid template ({err}); "
                          "write fields as {title}, and a literal brace as {{ or }}") from None
    if any(name == "" or name.isdigit() for name in names):
        raise ConfigError(f"item-text template {template!r} must name its fields, e.g. {{title}}")
    # "{a.b}" / "{a[0]}" address a part of field a.
    return list(dict.fromkeys(name.split(".")[0].split("[")[0] for name in names))
