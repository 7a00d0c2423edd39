"""Choosing clients for remote service (ДС): the department's criteria, the candidates, the transition."""
