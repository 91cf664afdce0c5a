"""A/B simulation harness: simulated ReDial users, paired runs of two arms, statistics and reports."""
