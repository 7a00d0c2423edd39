"""`python -m dialer replay FILE`: the PBX side's own command, run without the service or its settings.

It replays with the call tracker's defaults; `--expert-channel-pattern` stands for what
`dsdesk replay FILE` reads from config.yaml (`ami.expert_channel_pattern`).
"""

from __future__ import annotations

import argparse
import logging
import re
import sys
from collections.abc import Sequence

from dialer.replay import replay_file, replay_lines
from dialer.tracker import TrackerConfig

PROG = "python -m dialer"


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    verbosity = args.verbose - args.quiet
    level = logging.DEBUG if verbosity > 0 else logging.INFO if verbosity == 0 else logging.WARNING
    logging.basicConfig(level=level, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    config = TrackerConfig(expert_channel_pattern=args.expert_channel_pattern)
    try:
        records = replay_file(args.file, config)
    except FileNotFoundError:
        print(f"{PROG} replay: no such file: {args.file}", file=sys.stderr)
        return 1
    if (sys.stdout.encoding or "").lower().replace("-", "") != "utf8":
        sys.stdout.reconfigure(encoding="utf-8")  # type: ignore[union-attr]  # TextIO has no reconfigure; stdout does
    for line in replay_lines(records):
        sys.stdout.write(line + "\n")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description="DS Desk's PBX side.")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output")
    parser.add_argument("-q", "--quiet", action="count", default=0, help="less log output")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)
    replay = commands.add_parser("replay", help="print the call records of a raw AMI capture as JSON lines",
                                 description="Print the call records of a raw AMI capture as JSON lines.")
    replay.add_argument("file", help="AMI capture, bytes as received")
    replay.add_argument("--expert-channel-pattern", metavar="REGEX", type=_pattern,
                        default=TrackerConfig().expert_channel_pattern,
                        help="how an Expert's channel is recognised; the named group `ext` is the extension")
    return parser


def _pattern(text: str) -> str:
    try:
        compiled = re.compile(text)
    except re.error as e:
        raise argparse.ArgumentTypeError(f"not a regular expression: {e}") from e
    if "ext" not in compiled.groupindex:
        raise argparse.ArgumentTypeError("needs a named group (?P<ext>…) for the extension")
    return text


if __name__ == "__main__":
    raise SystemExit(main())
