"""The online-version usage data: "logged in during the call", measured instead of ticked (issue 13)."""
