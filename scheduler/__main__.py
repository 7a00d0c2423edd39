"""`python -m scheduler …`: the planning commands of the `dsdesk` CLI."""

from service.cli import main

# Top-level `dsdesk` commands that belong to planning; the daily-plan issue adds them.
SCHEDULER_COMMANDS = ("plan", "experts", "import")

if __name__ == "__main__":
    raise SystemExit(main(prog="python -m scheduler", only=SCHEDULER_COMMANDS))
