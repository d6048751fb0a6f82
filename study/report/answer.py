"""The answer at the top of summary.md: for the user's epoch, the strategy to use and what it saves, the
per-step verdicts, the plot that answers it, the wait at a full-size epoch's boundary, why each strategy is
slower than the limit, and the few lines to feed fit like the strategy recommended."""

from __future__ import annotations

import math
from pathlib import Path

from inputs.base import steps_per_epoch
from study import analysis, projection, schema, stats
from study.analysis.deciding import DIFFERENCE as DECIDING_DIFFERENCE
from study.config import StudyConfig
from study.report import words
from study.report.why import STALL_CAUSE, restoring_strategy, slowed_by_fixed_threshold, why_lines
from study.schema import COMPUTE_BOUND

ANSWERING_PLOT = Path(schema.PLOTS[0]).stem  # the first plot answers the question
ANSWERING_CAPTION = "the full-size steady epoch per strategy: time in steps and at the boundary, with its 95% interval"
ANSWERING_LEGEND = (
    "*The epoch you train, per strategy (lower is faster): blue is the time in training steps (the full epoch's steps "
    "times the strategy's measured time per step), orange the wait at the epoch's boundary at a full epoch's age, the "
    "black dot the projected epoch with its 95% interval over blocks; the dashed line is the compute-bound limit - the "
    "model fed one ready batch over and over, which no feed can beat.*"
)


def answer_lines(result: analysis.Analysis, config: StudyConfig, plots: list) -> list[str]:
    """The answer's paragraphs, the plot that answers it right under them (before any detail), the details, and
    how to feed fit like the strategy recommended."""
    head, details = answer(result, config)
    lines = []
    for paragraph in head:
        lines += [paragraph, ""]
    answering = next((path for path in plots if path.stem == ANSWERING_PLOT), None)
    if answering is not None:
        lines += [f"![{ANSWERING_CAPTION}]({answering.name})", "", ANSWERING_LEGEND, ""]
    for paragraph in filter(None, details):
        lines += [paragraph] if paragraph.startswith("- ") else [paragraph, ""]
    if details and details[-1].startswith("- "):
        lines.append("")
    return lines + usage_lines(result)


def answer(result: analysis.Analysis, config: StudyConfig) -> tuple[list[str], list[str]]:
    """The headline, for the user's epoch (the full setting), as (paragraphs above the answering plot, paragraphs
    below it): what is decided comes first - the strategy to use and the per-step verdicts - then the boundary
    at full age and one line per strategy on why it is slower than the limit and what to change; with a sweep,
    first below the plot, what the swept setting itself did to each strategy's steps. A strategy is called fastest
    only when its verdict is significant."""
    head, details = [], []
    base = result.baseline
    full = analysis.FullSetting.of(config)
    for value in result.sweep_values:
        findings = [f for f in result.at(value) if f.strategy != COMPUTE_BOUND]
        where = "" if value is None else f"At {config.sweep[0]} = {value}: "
        if not findings:
            head.append(f"{where}no strategy finished a trial, so there is no answer yet.")
            continue
        recommended = result.recommendations.get(value)
        opening = where + _setting_sentence(result.at(value), config, full.steps.get(value))
        per_step = _per_step_sentence(findings, base) + _what_would_decide(result.deciding.get(value), config)
        boundary_head = _boundary_headline(findings)
        if recommended is not None and not _nothing_decided(recommended, base):
            head.append(f"{opening} {_recommendation(recommended, base, findings)} {per_step}{boundary_head}")
        else:  # what is decided and measured first; that the whole epochs are not yet told apart, last
            last = " " + _recommendation(recommended, base, findings) if recommended is not None else ""
            head.append(f"{opening} {per_step}{boundary_head}{last}")
        boundary = _boundary_sentence(findings)
        why = why_lines(result.at(value), where, result.diagnostics.get(value), config.batch_size)
        details += ([where + boundary] if boundary else []) + why
    if len(result.failures):
        head.append(f"**{len(result.failures)} trial(s) failed** and are listed below; their strategies' figures use the remaining trials.")
    setting = _setting_paragraph(result.setting_effects, config)  # right under the answering plot
    return head, ([setting] if setting else []) + details


def _setting_paragraph(effects, config: StudyConfig) -> str:
    """With a sweep: what the swept setting itself did to each strategy's steps, each strategy against itself at
    the first value (study/analysis/setting_effects.py); for intra-op threads that made steps shorter, how to set
    them in the user's own training."""
    if not effects:
        return ""
    name, reference = config.sweep[0], effects[0].reference
    sentences = []
    for value in dict.fromkeys(effect.value for effect in effects):
        at = [effect for effect in effects if effect.value == value]
        parts = []
        for verdict, word in ((stats.FASTER, "shorter"), (stats.SLOWER, "longer"), (stats.EQUIVALENT, "as long"),
                              (stats.UNDECIDED, "not decided")):
            group = sorted((e for e in at if e.steps.verdict == verdict), key=lambda e: e.steps.ratio.estimate)
            if verdict == stats.EQUIVALENT and group:
                parts.append(f"as long (within ±{group[0].steps.margin:.0%}): " + ", ".join(f"`{e.strategy}`" for e in group))
            elif group:
                parts.append(f"{word}: " + ", ".join(f"`{e.strategy}` {_change(e.steps)}" for e in group))
        sentences.append(f"{'at' if not sentences else 'At'} {name} = {value}, " + "; ".join(parts))
    paragraph = (f"**What {name} itself does**, each strategy against itself at {name} = {reference}, paired within "
                 f"blocks, per training step: " + ". ".join(sentences) + ".")
    return paragraph + (_intra_op_advice(effects) if name == "intra-op-threads" else "")


def _change(comparison) -> str:
    """A ratio as a signed change with its interval; too few blocks have none (nan, or every ratio)."""
    ratio = comparison.ratio
    if math.isnan(ratio.low) or ratio.low <= 0 or math.isinf(ratio.high):
        return f"{(ratio.estimate - 1) * 100:+.0f}% ({words.blocks(comparison.blocks)}: no interval yet)"
    return words.signed_percent(ratio)


def _intra_op_advice(effects) -> str:
    """The intra-op threads that made the most strategies' steps decidedly shorter, and the line to copy; none: ''."""
    shorter = {}
    for effect in effects:
        if effect.steps.verdict == stats.FASTER:
            shorter.setdefault(effect.value, []).append(effect)
    if not shorter:
        return ""
    best = min(shorter, key=lambda value: (-len(shorter[value]),
                                           math.prod(e.steps.ratio.estimate for e in shorter[value]) ** (1 / len(shorter[value]))))
    feeds = [f"`{e.strategy}`" for e in shorter[best] if e.strategy != COMPUTE_BOUND]
    whom = f"For {', '.join(feeds)}" if feeds else "For this model's own steps (the limit's; no feed decided)"
    return (f" {whom}, train with {best} intra-op thread{'s' if best != 1 else ''}: "
            f"`tf.config.threading.set_intra_op_parallelism_threads({best})` before your first TensorFlow op "
            f"(or `TF_NUM_INTRAOP_THREADS={best}` in the environment).")


def _setting_sentence(findings, config: StudyConfig, steps: int) -> str:
    """What the headline is about: the full-size epoch, and how this study got at it."""
    blocks = max((f.blocks for f in findings), default=0)
    if not config.epochs_shortened:
        return f"For the epoch you train, measured in {words.blocks(blocks)} of full-size epochs:"
    trained = steps_per_epoch(config.examples_per_epoch(), config.batch_size)
    return (f"For the epoch you train - the whole training split, {steps:,} steps of {config.batch_size} - projected from "
            f"{words.blocks(blocks)} of {trained:,}-step epochs (each strategy's time per step, times the full epoch's steps) "
            "plus each strategy's epoch boundary probed at a full epoch's age:")


def _saving(comparison) -> str:
    """What the recommended strategy saves against one alternative, from `alternative / recommended`."""
    r = comparison.ratio
    if comparison.verdict in (stats.FASTER, stats.SLOWER):
        saving = lambda ratio: (1 - 1 / ratio) * 100  # noqa: E731 - share of the alternative's epoch saved
        return f"`{comparison.strategy}` {saving(r.estimate):+.0f}% [95% CI {saving(r.low):+.0f}% to {saving(r.high):+.0f}%]"
    if comparison.verdict == stats.EQUIVALENT:
        return f"`{comparison.strategy}` equivalent within ±{comparison.margin:.0%}"
    return f"`{comparison.strategy}` undecided"


def _recommendation(recommended, base: str, findings) -> str:
    """Use what the verdicts support: the baseline unless a strategy is significantly faster at full size; the
    decided comparisons first, the undecided ones named last."""
    name, against = recommended.strategy, recommended.against
    chosen = next(f for f in findings if f.strategy == name)
    epoch = chosen.projected_seconds
    # What it saves: against the alternatives decided slower or equivalent. One decided faster than it on its own
    # 95% interval was not decided faster with all alternatives counted (else it would be the choice): said apart.
    decided = [c for c in against if c.verdict in (stats.SLOWER, stats.EQUIVALENT)]
    looks_faster = [c for c in against if c.verdict == stats.FASTER]
    undecided = [c for c in against if c.verdict == stats.UNDECIDED]
    caveat = ""  # said after the epoch figure
    counted = _counted(recommended.alternatives)
    if name != base:
        head = f"**Use `{name}`** (significantly faster than `{base}` at full size{counted})"
        caveat = _teardown_caveat(chosen, next((f for f in findings if f.strategy == base), None))
    elif not _nothing_decided(recommended, base):
        head = f"**Keep `{name}`** (no alternative is significantly faster at full size{counted}{_alone(recommended)})"
    else:  # nothing told apart: no advice to keep or to change, only that, why, and how many
        return (f"**The full-size epochs are not yet told apart**{_why_nothing_decided(undecided)}: `{name}` projects to "
                f"{_epoch_interval(epoch)}, and "
                f"{_none_told_apart(len(against))}.")
    head += f": projected steady epoch {_epoch_interval(epoch)}."
    head += caveat
    if decided:
        head += " Epoch time it saves against each alternative: " + "; ".join(_saving(c) for c in sorted(
            decided, key=lambda c: -c.ratio.estimate)) + "."
    if looks_faster and name != base:
        head += " Faster than it on their own 95% interval only: " + "; ".join(_shorter(c) for c in looks_faster) + "."
    if undecided:
        head += f" Not yet told apart from it: {', '.join(f'`{c.strategy}`' for c in undecided)}."
    return head


def _epoch_interval(epoch) -> str:
    """An epoch figure with its 95% interval; one block gives none (its bounds are the figure itself)."""
    if not epoch.high > epoch.low:
        return f"{words.fmt(epoch.estimate)} s (one block: no interval yet)"
    return f"{words.fmt(epoch.estimate)} s [95% CI {words.fmt(epoch.low)}-{words.fmt(epoch.high)}]"


def _nothing_decided(recommended, base: str) -> bool:
    """The baseline stays only because nothing is told apart from it: no alternative decided faster, slower or
    equivalent, none faster on its own interval (then the headline gives no advice to keep or to change)."""
    return recommended.strategy == base and bool(recommended.against) and not recommended.faster_alone and not any(
        c.verdict in (stats.SLOWER, stats.EQUIVALENT) for c in recommended.against)


def _none_told_apart(count: int) -> str:
    if count == 1:
        return "its alternative is not told apart from it"
    return f"none of its {count} alternatives is told apart from it (all counted together)"


def _shorter(comparison, with_interval: bool = False) -> str:
    """An alternative faster than the strategy it is compared with: how much shorter its epoch is."""
    r = comparison.ratio
    text = f"`{comparison.strategy}` {(1 - r.estimate) * 100:.0f}% shorter"
    return text + (f" [95% CI {(1 - r.high) * 100:.0f}% to {(1 - r.low) * 100:.0f}%]" if with_interval else "")


def _counted(alternatives: int) -> str:
    return f", all {alternatives} alternatives counted" if alternatives > 1 else ""


def _alone(recommended) -> str:
    """The alternatives whose own 95% interval said faster, which the choice among all of them does not support."""
    if not recommended.faster_alone:
        return ""
    looked = ", ".join(_shorter(c, with_interval=True) for c in recommended.faster_alone)
    # With m alternatives all as fast as the baseline, some one-sided 95% verdict says "faster" with probability up
    # to 1 - 0.975^m (independent comparisons; sharing the baseline's noise makes it smaller: study/stats.py).
    chance = 1 - (1 - (1 - stats.CONFIDENCE) / 2) ** recommended.alternatives
    return (f"; on its own 95% interval {looked}, but when {recommended.alternatives} alternatives are all as fast, "
            f"chance alone makes one look so in up to {chance:.0%} of studies")


def _teardown_caveat(chosen, baseline) -> str:
    """The per-epoch comparison leaves fit's teardown out (once per fit): when the recommended strategy's teardown
    waits, how long, and from how many epochs on its saving per epoch pays for it."""
    full = chosen.full_boundary.teardown if chosen.full_boundary is not None else None
    if full is not None and not math.isnan(full.seconds):
        wait, how = full.seconds, f"on average at full size: {_teardown_how(full)}"
    elif chosen.full_boundary is not None and chosen.full_boundary.teardown_probes:
        wait = chosen.full_boundary.teardown_seconds[0]
        how = f"median; {chosen.full_boundary.teardown_waits} of {chosen.full_boundary.teardown_probes} probes waited"
    else:
        wait, how = chosen.boundary.teardown_seconds, "its trials' median"
    if not wait > projection.WAIT_SECONDS:
        return ""
    text = (f" Once per fit, fit's teardown (destroying its input iterator when fit ends) takes "
            f"{words.fmt(wait)} s ({how}; left out of the epoch above)")
    saving = baseline.projected_seconds.estimate - chosen.projected_seconds.estimate if baseline is not None else math.nan
    if saving > 0:
        epochs = math.floor(wait / saving) + 1
        when = "from the first epoch" if epochs == 1 else f"in a fit of {epochs} epochs or more"
        text += f": against the {words.fmt(saving)} s it saves per epoch on `{baseline.strategy}`, it pays off {when}"
    return text + "."


def _why_nothing_decided(undecided) -> str:
    """After how many blocks, and - when the study stopped before its plan's first look at the verdicts (or
    below the two blocks any interval needs) - why nothing could decide yet."""
    ran = max(c.blocks for c in undecided)
    first_look = max(stats.looks(undecided[0].planned_blocks, ran)[0], stats.MIN_BLOCKS)
    if ran < first_look:
        return (f" after {words.blocks(ran)} (the verdicts are first looked at after {first_look} blocks: a larger "
                "--budget, or --repeats, runs more)")
    return f" after {words.blocks(ran)}"


def _per_step_sentence(findings, base: str) -> str:
    """The feed's own speed: each strategy's time per training step against the baseline's (boundaries out)."""
    compared = [f for f in findings if f.steps_vs_baseline is not None]
    if not compared:
        return f"Per training step: only `{base}` was measured."
    groups = {verdict: [f for f in compared if f.steps_vs_baseline.verdict == verdict]
              for verdict in (stats.EQUIVALENT, stats.FASTER, stats.SLOWER, stats.UNDECIDED)}
    decided = len(compared) - len(groups[stats.UNDECIDED])
    parts = []
    if groups[stats.EQUIVALENT]:
        parts.append(f"as fast as `{base}` (within ±{compared[0].steps_vs_baseline.margin:.0%}): {words.named(groups[stats.EQUIVALENT])}")
    for verdict in (stats.FASTER, stats.SLOWER):
        if groups[verdict]:
            parts.append(f"{verdict}: " + ", ".join(
                f"`{f.strategy}` {words.signed_percent(f.steps_vs_baseline.ratio)}" for f in sorted(
                    groups[verdict], key=lambda f: f.steps_vs_baseline.ratio.estimate)))
    if not decided:
        return (f"Per training step, against `{base}`: none of {len(compared)} decided yet (the verdicts, with their "
                "intervals, are in the tables below).")
    undecided = len(groups[stats.UNDECIDED])
    if undecided:  # counted, not listed: the tables below name them
        parts.append(f"the other {undecided} not yet decided")
    return f"Per training step, against `{base}` ({decided} of {len(compared)} decided): " + "; ".join(parts) + "."


def _what_would_decide(deciding, config: StudyConfig) -> str:
    """After the per-step verdicts, when some are open: the spread that kept them open and the study that would
    decide them (study/analysis/deciding.py), as options the user adds to the same command."""
    if deciding is None:
        return ""
    whose = "The open verdict's" if deciding.open_verdicts == 1 else f"The {deciding.open_verdicts} open verdicts'"
    said = (f" {whose} log step ratios scattered from block to block by {deciding.spread:.2f} (median), "
            f"at which a difference of {DECIDING_DIFFERENCE:.0%} or more per step decides in "
            f"{words.blocks(deciding.blocks)}")
    if deciding.blocks <= deciding.blocks_run:  # the blocks ran; what stays open is likely a smaller difference
        return said + f": the open ones likely differ by less than {DECIDING_DIFFERENCE:.0%}."
    options = f"--repeats {deciding.blocks} --epochs {config.epochs}" + (
        f" --limit {config.limit}" if config.limit is not None else "")
    if math.isnan(deciding.minutes):
        return said + f", not {deciding.blocks_run}: the same command with `{options}` runs them."
    took = f"{deciding.minutes / 60:.1f} h" if deciding.minutes >= 90 else f"{deciding.minutes:.0f} min"
    return (said + f", not {deciding.blocks_run} - about {took} at this study's pace: the same command with "
            f"`{options} --budget {deciding.budget_minutes}`.")


def _waiting_and_clean(findings) -> tuple[list, list]:
    """The strategies whose fit waits at a full-size epoch's boundary (the longest wait per epoch first), and the
    others whose boundary was measured."""
    measured = [f for f in findings if f.full_boundary is not None]
    waiting = sorted((f for f in measured if analysis.WAITS_AT_BOUNDARY in f.causes), key=lambda f: -f.full_boundary.seconds)
    return waiting, [f for f in measured if f not in waiting]


def _boundary_headline(findings) -> str:
    """The boundary of the full-size epoch in one sentence for the headline: who waits, how long per epoch on
    average (probed at a full epoch's age, or measured in full-size epochs), then fit's teardown, once per fit; the
    details below say how and why."""
    waiting, clean = _waiting_and_clean(findings)
    if not waiting and not clean:
        return ""
    said, rest, most = _who_waits(waiting, clean, lambda f: f.full_boundary.seconds)
    if not waiting:
        return f" At a full-size epoch's boundary no strategy waits noticeably (at most {most:.2f} s per epoch).{_teardown_headline(findings)}"
    return f" At a full-size epoch's boundary, `fit` waits on average per epoch: {said}{rest}.{_teardown_headline(findings)}"


def _who_waits(waiting, rest, seconds) -> tuple[str, str, float]:
    """For a headline sentence: the waiting strategies with their `seconds` ("`a` 12.9 s, ..."), the rest counted
    with their largest ("; the other 3 at most 0.35 s", empty without any), and that largest."""
    most = max((seconds(f) for f in rest), default=0.0)
    said = ", ".join(f"`{f.strategy}` {seconds(f):.1f} s" for f in waiting)
    return said, (f"; the other {len(rest)} at most {most:.2f} s" if rest else ""), most


def _full_teardowns(findings) -> list:
    """The findings whose teardown at the full setting is measured (probed at its age, or in full-size fits)."""
    return [f for f in findings if f.full_boundary is not None and not math.isnan(f.full_boundary.teardown.seconds)]


def _teardown_headline(findings) -> str:
    """fit's teardown at the full setting, once per fit, in one sentence: who waits, how long on average per fit."""
    measured = _full_teardowns(findings)
    if not measured:
        return ""
    unmeasured = sum(1 for f in findings if f.full_boundary is not None and f not in measured)
    unmeasured = f"; not measured at full size for {unmeasured}" if unmeasured else ""
    waiting = sorted((f for f in measured if f.full_boundary.teardown.seconds > projection.WAIT_SECONDS),
                     key=lambda f: -f.full_boundary.teardown.seconds)
    said, others, most = _who_waits(waiting, [f for f in measured if f not in waiting],
                                    lambda f: f.full_boundary.teardown.seconds)
    if not waiting:
        return f" When a full-size fit ends, its teardown waits at most {most:.2f} s on average{unmeasured}."
    return f" Once per fit, when it ends, a full-size fit's teardown waits on average: {said}{others}{unmeasured}."


def _teardown_how(teardown) -> str:
    """How a FullTeardown's mean per fit came about, in words."""
    if not math.isnan(teardown.measured_seconds):
        return f"the mean of this study's {teardown.fits} full-size fit{'' if teardown.fits == 1 else 's'}"
    if teardown.averaged:
        return (f"{teardown.waits} of {teardown.fits} of this study's fits waited; at a full-size fit's end, the "
                f"iterator about {teardown.age_seconds:.0f} s old, a wait lasts 0-{teardown.interval_seconds:.0f} s "
                f"by its exact age, {teardown.miss_seconds:.1f} s on average")
    return (f"{teardown.waits} of {teardown.fits} of this study's fits waited; at a full-size fit's end a wait lasts "
            f"{teardown.miss_seconds:.1f} s, the iterator {teardown.age_seconds:.0f} s old")


def _boundary_sentence(findings) -> str:
    """The wait at a full-size epoch's boundary, as measured (probes at full age, or full-size epochs)."""
    waiting, clean = _waiting_and_clean(findings)
    if not waiting:
        if not clean:
            return ""
        return ("At the boundary of a full-size epoch no strategy waits noticeably: "
                + ", ".join(f"`{f.strategy}` {f.full_boundary.seconds:.2f} s" for f in clean) + " per epoch."
                + _teardown_sentence(findings))
    described = []
    for f in waiting:
        b = f.full_boundary
        if b.source == projection.PROBED and not math.isnan(b.miss_seconds):
            described.append(f"`{f.strategy}` {b.seconds:.1f} s per epoch ({b.missed} of its {b.boundaries} short "
                             f"epochs' boundaries waited idle; at full age such a wait lasts {b.miss_seconds:.1f} s)")
        elif b.source == projection.PROBED:
            busy = "" if math.isnan(b.destroy_busy_share) else f", {b.destroy_busy_share:.0%} busy"
            described.append(f"`{f.strategy}` {b.seconds:.1f} s per epoch ({b.waits} of {b.probes} probes waited, "
                             f"up to {b.destroy_seconds[1]:.1f} s{busy})")
        else:
            described.append(f"`{f.strategy}` {b.seconds:.1f} s per epoch ({b.source})")
    sentence = ("**At the boundary of a full-size epoch**, fit waits: " + "; ".join(described) + f" - {STALL_CAUSE}.")
    if clean:
        sentence += " No noticeable wait: " + ", ".join(f"`{f.strategy}` ({f.full_boundary.seconds:.2f} s)" for f in clean) + "."
    return sentence + _teardown_sentence(findings)


def _teardown_sentence(findings) -> str:
    """fit's teardown, once per fit: how often the study's own fits waited idle destroying their last iterator, what
    such a wait lasts at the end of a full-size fit (probed at that age: study/projection.FullTeardown), and - in a
    study from before the probes watched a kept iterator's wake-ups - what those probes' own destruction took."""
    waited = [f for f in findings if f.boundary.teardown_waits]
    measured = _full_teardowns(findings)
    full = [f for f in measured if f.full_boundary.teardown.seconds > projection.WAIT_SECONDS]
    probed = [f for f in findings if f.full_boundary is not None and f.full_boundary.teardown_probes
              and f not in measured]
    if not waited and not full and not probed:
        return ""
    sentence = ""
    if waited:
        sentence += (" Once per fit, when fit ends and destroys its last iterator, it waited idle in this study's own "
                     "fits: " + ", ".join(
                         f"`{f.strategy}` {f.boundary.teardown_waits} of {f.boundary.teardowns} (up to "
                         f"{f.boundary.teardown_max_seconds:.1f} s)" for f in sorted(
                             waited, key=lambda f: -f.boundary.teardown_waits / f.boundary.teardowns))
                     + " - the boundary's idle wait for tf.data's autotune thread, once more.")
    if full:
        sentence += (" At the end of a full-size fit, where the iterator is older, on average per fit: "
                     + "; ".join(f"`{f.strategy}` {f.full_boundary.teardown.seconds:.1f} s ({_teardown_how(f.full_boundary.teardown)})"
                                 for f in sorted(full, key=lambda f: -f.full_boundary.teardown.seconds))
                     + ". A wait lasts until the autotune thread's next wake-up after the iterator's age (to within a "
                     "second at full size: benchmarks/teardown_ages.py), 0-60 s as that age falls; the age is projected "
                     "from this study's pace, so a fit whose real age differs by some seconds can wait quite another "
                     "time - for an iterator kept for all of fit, whose age is known least well, the wait is the "
                     "average over the interval between the wake-ups around its age (the probes placed both).")
    if probed:
        sentence += (" Keeping one iterator moves the epoch boundary's destruction to the end of fit; what its "
                     "probes' own destruction there took, which rarely waits where fit does: " + "; ".join(
                         f"`{f.strategy}` {f.full_boundary.teardown_seconds[0]:.1f} s median, up to "
                         f"{f.full_boundary.teardown_seconds[1]:.1f} s ({f.full_boundary.teardown_waits} of "
                         f"{f.full_boundary.teardown_probes} waited)" for f in probed) + ".")
    return sentence


def usage_lines(result: analysis.Analysis) -> list[str]:
    """The few lines a user copies into their own fit call, for the strategy recommended."""
    from inputs import registry

    lines = []
    for value in result.sweep_values:
        recommended = result.recommendations.get(value)
        if recommended is None:
            continue
        code = registry.get(recommended.strategy).usage()
        if code and code not in "".join(lines):
            lines += ["", f"## How to feed `fit` like `{recommended.strategy}`", "", "```python", code.rstrip(), "```"]
    slowed = [f for value in result.sweep_values for f in slowed_by_fixed_threshold(result.at(value))]
    restoring = restoring_strategy()
    code = registry.get(restoring).usage() if slowed and restoring else ""
    if code and code not in "".join(lines):
        lines += ["", f"## How to set malloc's mmap threshold back after `from_generator` (as `{restoring}` does)", "",
                  f"For {words.named({f.strategy: f for f in slowed}.values())}: the same callback in their `fit` call.", "",
                  "```python", code.rstrip(), "```"]
    return lines
