"""Options of the standalone simulator that benchmarks use: demo clients from a CSV, the Expert's ring time."""

from __future__ import annotations

from pathlib import Path

from dialer.simulator.__main__ import build_parser, config_from_args


def test_demo_clients_and_expert_ring_reach_the_config(tmp_path: Path) -> None:
    clients = tmp_path / "clients.csv"
    clients.write_text("79115550101,\"ООО «Ромашка, и Ко»\",C-1001\n79115550102,АО Вектор,C-1002\n\n",
                       encoding="utf-8")
    args = build_parser().parse_args(["--demo-clients", str(clients), "--expert-ring", "1,2"])
    config = config_from_args(args)
    assert config.demo_clients == (("79115550101", "ООО «Ромашка, и Ко»", "C-1001"),
                                   ("79115550102", "АО Вектор", "C-1002"))
    assert config.expert_ring_s == (1.0, 2.0)


def test_the_defaults_are_unchanged() -> None:
    config = config_from_args(build_parser().parse_args([]))
    assert config.demo_clients == () and config.expert_ring_s == (1.0, 3.0)
