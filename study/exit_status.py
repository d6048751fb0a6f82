"""The command's exit statuses, each written once: run_study.py returns them, and so does study.runner.run_study."""

OK = 0  # every trial finished
FAILED = 1  # some trial failed (recorded; the others ran), or the study could not go on
BAD_INPUT = 2  # a bad option, source or file: one line on stderr, before any training
INTERRUPTED = 130  # Ctrl-C, SIGTERM or SIGHUP (128 + SIGINT, the shell's convention); rerun with --resume

MEANINGS = {
    OK: "all trials finished", FAILED: "some trial failed", BAD_INPUT: "bad input",
    INTERRUPTED: "interrupted (resume with --resume)",
}
