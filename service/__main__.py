"""`python -m service …`: the same as the `dsdesk` command."""

from service.cli import main

if __name__ == "__main__":
    raise SystemExit(main(prog="python -m service"))
