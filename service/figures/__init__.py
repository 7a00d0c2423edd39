"""Control figures (SPEC-NOTES "Figures"): pure maths from per-Expert-per-day aggregates to reports."""
