"""A/B simulation harness: simulated users (ReDial dialogues or held-out MovieLens users), paired runs of
two arms, statistics and reports."""
