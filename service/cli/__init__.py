"""The `dsdesk` command line (also `python -m service`): the registry and entry point, and one module per command group.

`registry` parses and runs; `foundation` (db upgrade, calls list, replay, run), `imports`, `plan`,
`users`, `recordings` and `selection` register their commands with `@command`; `arguments` makes argparse speak
Russian and reads dates; `output` prints for them.
"""

from service.cli.registry import COMMANDS, Command, build_parser, command, group, main

__all__ = ["COMMANDS", "Command", "build_parser", "command", "group", "main"]
