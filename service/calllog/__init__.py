"""The supervisor's call log: filters (pure), labels and the quality codes' explanations."""
