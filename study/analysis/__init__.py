"""Every number the report shows, from the saved result files alone, as frozen findings and tidy tables.

Per strategy (and swept value): the steady epoch time, its paired ratios to the baseline and to the
compute-bound limit (wall and CPU time, and the time in steps alone), the projected full-size epoch, the
pipeline's capacity and the causes of its gap to the limit, where its epochs wait at their boundaries; where
the time goes (step percentiles, time outside steps, the trial's resources); the regimes across a sweep, and
what the swept setting itself does to each strategy's steps.
Derived figures are computed here from the raw rows every time; nothing derived is stored in the tables.

    files.py      load: the result files of finished trials (Study)
    epochs.py     per epoch and trial: time in steps and outside them, CPU per step, the steady step time after warm-up
    findings.py   one strategy at one swept value (Finding) and its paired comparisons
    causes.py     why an epoch is longer than the limit's (the causes, the limit's diagnostic, the regimes)
    boundary.py   where steady epochs wait at their boundaries (Boundary)
    full_size.py  the user's epoch: the full setting and each strategy's projected epochs per block
    deciding.py   what would decide the open per-step verdicts: blocks at the measured spread, and their time
    setting_effects.py  across a sweep: each strategy's steps at every value against its steps at the first
    result.py     analyse: every finding, the recommendation and the diagnostics of a study (Analysis)
    tables.py     the tidy tables the report draws

The entry points are here; the report imports the modules whose tables it draws.
"""

from study.analysis.causes import (  # noqa: F401
    AT_LIMIT, INPUT_BOUND, REFAULTS, SHARING_CPU, UNDECIDED_STEPS, UNKNOWN_BATCH, WAITS_AT_BOUNDARY,
)
from study.analysis.files import Study, load  # noqa: F401
from study.analysis.findings import Finding  # noqa: F401
from study.analysis.full_size import FullSetting  # noqa: F401
from study.analysis.result import Analysis, analyse, analyse_study, baseline_of  # noqa: F401
