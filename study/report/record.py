"""How the study ran and on what: the plan and the budget, the failed trials, the settings, the environment."""

from __future__ import annotations

from study import analysis, budget
from study.config import StudyConfig


def budget_lines(study: analysis.Study, config: StudyConfig) -> list[str]:
    """How the budget was planned, what was cut, and how the study ended against it (plan.json)."""
    record = study.plan_record
    if not record:
        return []
    lines = ["", "## Plan and budget", ""]
    planned = None
    if "plan" in record:
        planned = budget.Plan(**{**record["plan"], "cuts": tuple(record["plan"]["cuts"])})
        calibration = record["calibration"]
        trials_per_block = budget.trials_per_block(len(config.strategies), len(config.sweep_values()))
        lines += [f"Calibration on this machine: a trial costs {calibration['trial_overhead_seconds']:.0f} s outside its "
                  f"epochs and a training step {calibration['step_seconds'] * 1000:.1f} ms (one short `compute-bound` "
                  "trial).", "", planned.describe(trials_per_block)]
    else:
        lines += ["Epochs, blocks and data size were all set on the command line: nothing was planned."]
    ending = record.get("ending")
    if ending:
        minutes = ending["seconds_before_report"] / 60
        over = minutes - config.budget_minutes
        verdict = (f"over the {config.budget_minutes:g}-minute budget by {over:.1f} min" if over > 0
                   else f"within the {config.budget_minutes:g}-minute budget")
        lines += ["", f"The study ran {ending['blocks_run']} blocks and stopped because {ending['stopped']}; "
                  f"{minutes:.1f} min had passed before the report was drawn ({verdict})."]
        if over > 0 and planned is not None:
            lines[-1] += (" Trials took longer than calibrated (the machine was slower or busier than during the "
                          "calibration, or the settings you fixed cost more than the budget): compare trials.csv's "
                          f"wall_seconds with the planned {planned.trial_seconds:.0f} s per trial.")
        if ending.get("seconds_in_epochs") and ending["seconds_before_report"] > 0:
            share = ending["seconds_in_epochs"] / ending["seconds_before_report"]
            lines[-1] += (f" {ending['seconds_in_epochs'] / 60:.1f} min of it ({share:.0%}) were spent inside measured "
                          "epochs (warm-up epochs included)")
            teardowns, diagnostic = ending.get("seconds_at_fit_teardowns"), ending.get("seconds_in_diagnostic_fits")
            if teardowns is not None and diagnostic is not None:
                measuring = ending["seconds_in_epochs"] + teardowns + diagnostic
                lines[-1] += (f", {teardowns / 60:.1f} min in fit's teardowns (the boundary at the end of fit, measured "
                              f"and reported) and {diagnostic / 60:.1f} min in the limit's diagnostic fits: "
                              f"{measuring / ending['seconds_before_report']:.0%} measuring")
            lines[-1] += ("; the rest went to starting processes, building the model, evaluation, the pipeline-alone "
                          "pass, the boundary probes' full-size draws and the calibration.")
    return lines


def failed_trials(failures) -> list[str]:
    """The section listing each failed trial (a trials table's rows) and its error."""
    lines = ["", "## Failed trials", "", "| strategy | block | setting | status | error |", "|---|---|---|---|---|"]
    for row in failures.itertuples():
        setting = "" if row.sweep_value is None or row.sweep_value != row.sweep_value else row.sweep_value  # NaN: none
        lines.append(f"| {row.strategy} | {row.repeat} | {setting} | {row.status} | {str(row.error).replace('|', '/')} |")
    return lines


def settings_and_environment(study: analysis.Study, extra_settings: dict) -> list[str]:
    """The sections of the measured settings (and `extra_settings` after them) and of the machine it ran on."""
    settings = {**study.config.measured_settings(), **extra_settings}
    lines = ["", "## Settings", "", "| setting | value |", "|---|---|"]
    lines += [f"| {key} | {value} |" for key, value in settings.items()]
    lines += ["", "## Environment", "", "| | |", "|---|---|"]
    return lines + [f"| {key} | {value} |" for key, value in study.environment.items()]
