"""The progress watch: stalled only when a partition's committed offset stands still past
stall_seconds while its lag grows (the clock is the test's)."""

from __future__ import annotations

from streams.kafka.progress import ProgressWatch

P = ("llm.traces", 0)


def watch() -> tuple[ProgressWatch, list[float]]:
    now = [0.0]
    return ProgressWatch(10, clock=lambda: now[0]), now


def test_an_offset_standing_still_while_the_lag_grows_is_a_stall_until_it_moves() -> None:
    progress, now = watch()
    progress.observe({P: 100}, {P: 0})
    now[0] = 11
    progress.observe({P: 100}, {P: 500})
    assert progress.stalled == [P] and not progress.status()["progressing"]
    now[0] = 12
    progress.observe({P: 600}, {P: 20})
    assert progress.progressing


def test_a_backlog_worked_through_or_a_lag_that_does_not_grow_is_no_stall() -> None:
    progress, now = watch()
    for second, committed in enumerate(range(0, 3000, 100)):  # commits as it goes
        now[0] = second
        progress.observe({P: committed}, {P: 5000 - committed})
    assert progress.progressing
    # A transactional producer's commit marker: a lag of one no consumer commits past.
    progress.observe({P: 3000}, {P: 1})
    now[0] = 1000
    progress.observe({P: 3000}, {P: 1})
    assert progress.progressing
