"""Process-level tuning shared by the heavy batch paths (Excel import, PDF rendering)."""
import gc
from contextlib import contextmanager


@contextmanager
def cycle_collector_paused():
    """Pause Python's cycle collector for a burst of allocation-heavy work; re-enabled afterwards, also
    on error, and left off if the caller had it off.

    A 10,000-row import or a 36-page WeasyPrint layout allocates 10⁵–10⁶ container objects; with the
    default thresholds each burst sets off full collections that walk the whole Django heap again:
    ≈ 10 % of an allocation import, ≈ 15 % of a plan annex, ≈ 25 % of a report render
    (bench/bench_import.py, bench/bench_report.py). Nothing leaks: reference counting still frees
    everything that is not in a cycle, and cyclic garbage left behind is collected as usual once the
    collector is back on.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def at_worker_start(func, what):
    """Run ``func()`` when a Celery worker comes up (after a crash, or once the broker is back), so lost
    work is recovered without waiting for beat; a failure is logged, never stops the worker. ``what``
    names the work in the log. Connected strongly: the handler is a closure nobody else holds."""
    import logging

    from celery.signals import worker_ready

    def handler(sender=None, **kwargs):
        try:
            func()
        except Exception:
            logging.getLogger(func.__module__).warning("%s at worker start failed", what, exc_info=True)

    worker_ready.connect(handler, weak=False)
    return handler
