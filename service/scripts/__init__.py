"""Call scripts (речевые ролики): catalog, sandboxed rendering and the variables a script sees.

The Expert's screen calls, per call:

    catalog = ScriptCatalog.load()                      # once, at start-up (CatalogError if broken)
    entry = catalog.for_topic(item.topic if item else None)
    variables = script_variables(client, contact, expert, item, today)
    rendered = render_script(entry, variables)          # .html (Markup) or .error (ScriptError)

See docs/scripts.md.
"""

from service.scripts.catalog import ScriptCatalog, ScriptEntry
from service.scripts.errors import CatalogError, ScriptError
from service.scripts.render import RenderedScript, ScriptSource, check_script_source, render_script
from service.scripts.sandbox import SCRIPTS_DIR, script_environment
from service.scripts.variables import respectful_name, sample_variables, script_variables, split_full_name

__all__ = [
    "SCRIPTS_DIR",
    "CatalogError",
    "RenderedScript",
    "ScriptCatalog",
    "ScriptEntry",
    "ScriptError",
    "ScriptSource",
    "check_script_source",
    "render_script",
    "respectful_name",
    "sample_variables",
    "script_environment",
    "script_variables",
    "split_full_name",
]
