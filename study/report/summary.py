"""summary.md: the sections in order, each with the paragraph that says how to read it, from the analysis; the
sentences come from answer.py, why.py and measured.py, the tables from tables.py, the record of the run from
record.py. No statistics here."""

from __future__ import annotations

from pathlib import Path

from study import analysis, results_files, schema
from study.analysis.tables import trial_minutes
from study.config import StudyConfig
from study.report import answer, measured, record, tables

TITLE = "# Input-pipeline study: which way of feeding `model.fit` is fastest?"


def write_summary(out: Path, study: analysis.Study, result: analysis.Analysis, plots: list, order: list) -> Path:
    config = study.config
    lines = [TITLE, ""] + answer.answer_lines(result, config, plots)
    lines += _full_size_section(study, result)
    lines += _measured_section(result, config)
    lines += _time_section(study, order)
    lines += _boundary_section(result)
    lines += ["", "## Verdicts", ""] + measured.verdict_lines(result, config)
    lines += measured.setting_effect_lines(result, config)
    lines += measured.regime_lines(result, config)
    lines += record.budget_lines(study, config)
    if len(result.failures):
        lines += record.failed_trials(result.failures)
    lines += ["", "## More plots", ""] + [f"![{path.stem}]({path.name})" for path in plots if path.stem != answer.ANSWERING_PLOT]
    finished = f"{len(study.ok_trials)} of {len(study.trials)} ({trial_minutes(study):.1f} min of trial time)"
    lines += record.settings_and_environment(study, {"trials finished": finished})
    return _write(out, lines)


def write_failures_summary(out: Path, study: analysis.Study) -> Path:
    """summary.md for a study in which no trial finished: each failure and its cause, the settings and the
    environment - so that a study that measured nothing still says why."""
    failures = study.trials[study.trials["status"] != schema.OK]
    lines = ["# Input-pipeline study: no trial finished", "",
             f"All {len(failures)} trial(s) failed, so there is nothing to compare; each one and its cause below. "
             "Fix the cause and rerun the same command with --resume (finished trials are kept)."]
    lines += record.failed_trials(failures) + record.settings_and_environment(study, {})
    return _write(out, lines)


def _write(out: Path, lines: list[str]) -> Path:
    path = out / "summary.md"
    results_files.write_atomic(path, "\n".join(lines) + "\n")
    return path


def _full_size_section(study: analysis.Study, result: analysis.Analysis) -> list[str]:
    lines = ["", "## The full-size epoch", "",
             "Per block, the projected steady epoch is the full epoch's steps times the trial's steady time per step, "
             "plus the boundary at full age: for a strategy whose fit makes a new input iterator every epoch, what "
             "every boundary costs - the next epoch's iterator made and its first batch drawn on the whole training "
             "split, and the used iterator destroyed, as the block's probe measured them (study/boundary_probe.py) - plus, "
             "when the block's own shortened epochs' boundary waited idle (missed the autotune thread's wake-up), the "
             "time from a full epoch's age to that thread's next wake-up, as the probe watched it (study/projection.py); "
             "for a strategy that keeps one iterator, its own epochs' boundary. Ratios are paired within blocks like every verdict "
             "here. *CPU per step above the limit* is the process CPU per training step minus the limit's in the same "
             "block; *pipeline alone* is the strategy's pipeline drawn with no model; *step traced for* is the input "
             "shape Keras traced the training step for (`?`: any batch size); *page faults per step* are the process' minor "
             "page faults per step of its steady epochs - memory glibc handed back to the kernel and the next step "
             "faulted in again, which costs steps several percent (benchmarks/page_faults.py).", ""]
    lines += tables.full_epoch_table(result)
    probes = tables.probe_table(result) + tables.probe_errors(study)
    if probes:
        lines += ["", "## The boundary at a full epoch's age", "",
                  "Each probe held a used iterator, idle, until it was as old as fit's where a full-size fit destroys it "
                  "(a full epoch of its trial's pace at an epoch boundary; three, at the end of a fit that keeps one "
                  "iterator), and on until its autotune thread next woke (watched from /proc: study/autotune_wakeups.py), then "
                  "destroyed it, timed, with the process CPU over it (near 0%: idle waiting). A probe's own destruction "
                  "rarely waits, where fit's boundaries mostly do (benchmarks/probe_order.py): how often a boundary "
                  "waits comes from the short epochs, how long from the probe - and so for fit's teardown, once per "
                  "fit (the second table: how often from this study's fits, how long from the probe at a full fit's "
                  "end). Its CPU while holding shows what it cost the trials it overlapped.", ""] + probes
    return lines


def _measured_section(result: analysis.Analysis, config: StudyConfig) -> list[str]:
    lines = ["", "## Measured at the shortened epoch" if config.epochs_shortened else "## Steady-state results", "",
             "Steady epochs are every epoch after the first of each trial (end to end, boundaries included); the time "
             "in steps is each trial's mean step after its warm-up, where the step times settle (MSER-5 on the "
             f"per-step times{measured.warmup_note(result)}). Ratios are paired within blocks (geometric mean over blocks); "
             "below 1 is faster. Their 95% intervals are t intervals over blocks at the level a sequential plan "
             "needs, so that looking after every block keeps the 5% error rate (Pocock's repeated t test; "
             f"study/stats.py). Verdicts: faster, slower, equivalent within ±{config.margin:.0%}, or undecided. "
             "Epoch times carry a 95% bootstrap interval. *Limit* is the compute-bound limit, `compute-bound`: "
             "the model fed one ready batch over and over."
             + (" These epochs are shorter than the one you train: their boundaries happen at the wrong age, so "
                "their end-to-end figures answer for them only." if config.epochs_shortened else ""), ""]
    return lines + tables.steady_table(result, config) + [""] + measured.short_epoch_lines(result)


def _time_section(study: analysis.Study, order: list) -> list[str]:
    return ["", "## Where the time goes", "",
            "Medians over trials; step times from steady epochs. *Outside steps* is an epoch's wall time minus the sum "
            "of its step times: time spent between epochs' batches rather than in training steps. CPU utilisation = "
            "(user + system) / wall time of the trial process; pipeline figures are the input pipeline alone, with no model.",
            ""] + tables.where_the_time_goes(study, order)


def _boundary_section(result: analysis.Analysis) -> list[str]:
    return ["", "## Epoch boundaries", "",
            "A steady epoch's time in training steps against the waits at its boundaries (medians over steady epochs), "
            "the share of those waits the process spent on the CPU (near 0%: idle waiting, not input work), and fit's "
            "teardown after its last epoch (once per trial, outside every epoch). Keras makes a new input iterator "
            "every epoch for a finite dataset, and keeps one for all of fit when the data is endless and "
            "`steps_per_epoch` is given.", ""] + tables.boundary_table(result)
