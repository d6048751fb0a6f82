"""Child processes, below both study/ and inputs/ (both start processes that must not outlive them).

- `children`: start a child in a session of its own, reap it with its resource usage, stop it with a grace
  period (SIGTERM, then SIGKILL), read the line of its log that names its error.
- `parent_death`: in a child, end when the parent dies (Linux parent-death signal and a watchdog).
"""
