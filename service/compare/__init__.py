"""The comparison of remote (ДС) and field (КС) service (issue 17)."""
