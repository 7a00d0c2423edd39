"""Simulator errors.

SimulatorError
├── TemplateError     a shipped capture cannot be compiled into a call template
└── SimulatorStateError  an API call that needs a running (or stopped) simulator
"""

from __future__ import annotations


class SimulatorError(Exception):
    """Base class of the simulator's errors."""


class TemplateError(SimulatorError):
    """A capture in templates/ does not look like one single call."""


class SimulatorStateError(SimulatorError):
    """The simulator is not in the state this call needs (e.g. not started)."""
