"""The embedded local stack behind ``stepmap dev``: every process on loopback."""
