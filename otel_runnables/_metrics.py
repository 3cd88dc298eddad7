"""Run metrics: the only module that talks to the OpenTelemetry meter.

Every run that ends (or fails) is one measurement of the ``runnable.run.duration`` histogram,
recorded by the span sink as it ends the run's span, whatever the span's sampling. Another source
of runs may add metrics of its own for some runs (the langchain-core bridge: the GenAI client
metrics of model runs) through the run's span detail: a ``SpanDetail`` with a method
``record_metrics(instruments, run, outputs, error_type, seconds)`` is called with the
:class:`Instruments` after the run's duration is recorded (``outputs`` None for a failed run).

Metrics are on when a ``MeterProvider`` is installed (the global one, or one given to
:meth:`RunMetrics.use_meter_provider`) and ``OTEL_RUNNABLES_METRICS`` is not ``false`` (or
:meth:`RunMetrics.set` turned them off). With no provider installed the span sink checks two
references per run and records nothing: the global provider is read from where the
OpenTelemetry API keeps it, without a call (:func:`global_provider_set`).

Attributes are bounded: the run name, the run type and, for a failure, the error type; never an
id, an input, tags or metadata. Run names come from code and configs; past
:data:`MAX_RUN_NAMES` distinct names in one process, further new names are recorded as
:data:`OTHER_RUN_NAME`.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from opentelemetry import metrics
from opentelemetry.metrics import Histogram, Meter, MeterProvider

from . import _attributes as attrs
from ._env import parse_flag
from ._options import env_snapshot_reader
from ._version import __version__

if TYPE_CHECKING:
    from ._run import Run

__all__ = [
    "ENV_METRICS",
    "MAX_RUN_NAMES",
    "OTHER_RUN_NAME",
    "RUN_DURATION",
    "RUN_DURATION_BUCKETS",
    "RUN_METRICS",
    "RUN_NAME",
    "Instruments",
    "RunMetrics",
    "api_state",
    "global_provider_set",
    "histogram",
]

logger = logging.getLogger("otel_runnables")

ENV_METRICS = "OTEL_RUNNABLES_METRICS"
"""``false`` turns run metrics off (default: on when a MeterProvider is installed)."""

RUN_DURATION = "runnable.run.duration"
"""Histogram (s) of run durations."""
RUN_NAME = "runnable.run_name"
"""Metric attribute: the run name (the span name of a run that is not a model, tool or
retriever run of the bridge)."""
RUN_DURATION_BUCKETS = (
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
    25.0,
    50.0,
    100.0,
    250.0,
)
"""Bucket boundaries (s) advised for ``runnable.run.duration``: 1 ms to 4 min, 1-2.5-5 steps."""
MAX_RUN_NAMES = 1000
"""Distinct run names recorded per process; later new names become :data:`OTHER_RUN_NAME`."""
OTHER_RUN_NAME = "_OTHER"


class _ProviderCheck:  # pragma: no cover - only with an opentelemetry-api of another layout
    """Stands for the API module when it keeps the global provider elsewhere: asks the API."""

    @property
    def _METER_PROVIDER(self) -> Any:
        provider = metrics.get_meter_provider()
        return None if type(provider).__name__.startswith("_Proxy") else provider


api_state: Any
"""Where opentelemetry-api keeps the global MeterProvider: its ``_METER_PROVIDER`` is None until
the application installs one (read without a call on every run end)."""
try:
    from opentelemetry.metrics import _internal as api_state

    api_state._METER_PROVIDER  # noqa: B018
except (ImportError, AttributeError):  # pragma: no cover - another API layout
    api_state = _ProviderCheck()


def global_provider_set() -> bool:
    """True once the application installed a global MeterProvider (the API's proxy is not)."""
    return api_state._METER_PROVIDER is not None


def histogram(
    meter: Meter, name: str, unit: str, description: str, boundaries: Sequence[float]
) -> Histogram:
    """A histogram of ``meter`` advising ``boundaries`` (when the installed API can advise)."""
    try:
        return meter.create_histogram(
            name, unit=unit, description=description, explicit_bucket_boundaries_advisory=boundaries
        )
    except TypeError:  # opentelemetry-api before 1.23 has no advisory parameter
        return meter.create_histogram(name, unit=unit, description=description)


_T = TypeVar("_T")


class Instruments:
    """The instruments of one meter: the run duration, and those other sources make once."""

    __slots__ = ("_lock", "_made", "meter", "run_duration")

    def __init__(self, meter: Meter) -> None:
        self.meter = meter
        self.run_duration = histogram(
            meter, RUN_DURATION, "s", "Duration of runnable runs", RUN_DURATION_BUCKETS
        )
        self._made: dict[str, Any] = {}
        self._lock = threading.Lock()

    def made(self, key: str, make: Callable[[Meter], _T]) -> _T:
        """What ``make(meter)`` returned the first time it was asked for under ``key``."""
        found = self._made.get(key)
        if found is None:
            with self._lock:
                found = self._made.get(key)
                if found is None:
                    found = self._made[key] = make(self.meter)
        return found


class RunMetrics:
    """Records ``runnable.run.duration`` for every run that ends (see the module doc)."""

    __slots__ = (
        "_enabled",
        "_env",
        "_explicit",
        "_instruments",
        "_lock",
        "_names",
        "_read_env",
        "meter_provider",
    )

    def __init__(self) -> None:
        self.meter_provider: MeterProvider | None = None
        """The provider set in code (None: the global one)."""
        self._explicit: bool | None = None
        self._read_env = env_snapshot_reader((ENV_METRICS,))
        self._env: tuple[Any, ...] | None = None
        self._enabled = True
        self._instruments: Instruments | None = None
        self._names: set[str] = set()
        self._lock = threading.Lock()
        self._refresh()

    # -- configuration ---------------------------------------------------------------------
    def use_meter_provider(self, provider: MeterProvider | None) -> None:
        """Record to ``provider`` (None: the global provider, once installed)."""
        with self._lock:
            self.meter_provider = provider
            self._instruments = None

    def set(self, *, enabled: bool | None = None) -> None:
        """Turn run metrics on or off in code (None: follow ``OTEL_RUNNABLES_METRICS``)."""
        self._explicit = None if enabled is None else bool(enabled)
        self._env = None
        self._refresh()

    @property
    def enabled(self) -> bool:
        """Whether runs are measured once a provider is installed (the switch, not the
        provider)."""
        self._refresh()
        return self._enabled

    def _refresh(self) -> None:
        env = self._read_env()
        if env != self._env:
            self._env = env
            explicit = self._explicit
            if explicit is not None:
                self._enabled = explicit
            else:
                raw = os.environ.get(ENV_METRICS, "").strip()  # unset or empty: on
                self._enabled = not raw or parse_flag(ENV_METRICS, raw, unrecognised=True)

    def instruments(self) -> Instruments | None:
        """The instruments of the provider in use, made on first use; None while off."""
        if not self._enabled:
            return None
        found = self._instruments
        if found is None:
            with self._lock:
                found = self._instruments
                if found is None:
                    meter = metrics.get_meter(
                        "otel_runnables", __version__, meter_provider=self.meter_provider
                    )
                    found = self._instruments = Instruments(meter)
        return found

    # -- recording -----------------------------------------------------------------------
    def ended(self, run: Run, outputs: Any, error_type: str | None) -> None:
        """``run`` ended with ``outputs`` (None when it failed or was cancelled);
        ``error_type`` is the span's ``error.type`` of a failed run, else None. Never raises."""
        try:
            if run.parent is None:  # the switch's variable is re-read once per trace
                self._refresh()
            instruments = self.instruments()
            if instruments is None:
                return
            seconds = (time.time_ns() - run.start_ns) / 1e9
            attributes = {RUN_NAME: self._name(run.name), attrs.RUN_TYPE: run.run_type}
            if error_type is not None:
                attributes[attrs.ERROR_TYPE] = error_type
            instruments.run_duration.record(seconds, attributes)
            detail: Any = run.detail
            if detail is not None:
                record = getattr(detail, "record_metrics", None)
                if record is not None:
                    record(instruments, run, outputs, error_type, seconds)
        except Exception:
            logger.exception("otel_runnables failed to record run metrics")

    def _name(self, name: str) -> str:
        names = self._names
        if name in names:
            return name
        if len(names) >= MAX_RUN_NAMES:
            return OTHER_RUN_NAME
        names.add(name)
        return name


RUN_METRICS = RunMetrics()
"""The process-wide run metrics (configured through ``otel_runnables.tracing``)."""
