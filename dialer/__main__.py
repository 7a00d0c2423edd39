"""`python -m dialer replay FILE`: the PBX-side commands of the `dsdesk` CLI."""

from service.cli import main

# Top-level `dsdesk` commands that belong to the PBX side; add new ones here.
DIALER_COMMANDS = ("replay",)

if __name__ == "__main__":
    raise SystemExit(main(prog="python -m dialer", only=DIALER_COMMANDS))
