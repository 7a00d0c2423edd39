"""The personal manager's visits (issue 16, item 1): the rules, the repository's records and the /visits page."""
