"""The department's month (issue 16): business events from the CRM, monthly plans and values, closed months."""
