"""Coaching (issue 18): scorecards, step scripts, comments on recordings."""
