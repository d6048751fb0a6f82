"""Child processes, below both study/ and inputs/ (both start processes that must not outlive them).

- `children`: start a child in a session of its own, reap it with its resource usage, stop it with a grace
  period (SIGTERM, then SIGKILL), read the line of its log that names its error.
- `parent_death`: in a child, end when the parent dies (Linux parent-death signal and a watchdog).
- `tree`: every descendant of a process, at any depth (from /proc), and ending them all.
- `supervisor`: a tiny process between a parent and a command that ends everything the command starts,
  at any depth, when the parent dies however it dies, and reports the command's own exit and usage.
"""
