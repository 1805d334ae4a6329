"""The typed results of a run: one SizeResult per population size (with
the concurrent scrapes at one of them) and RunInfo about the machine and
tools. Their field names are the keys of results.json, which
`run.py --report-from` reads back."""

import dataclasses
import json
import typing

NAN = float("nan")
TOOLS = ["exporter", "floor", "lsns", "node_exporter"]


@dataclasses.dataclass
class ScrapeTiming:
    """One scrape of a concurrent round."""
    code: int
    curl_total: float
    wall: float
    scrape_duration: typing.Optional[float]


@dataclasses.dataclass
class ConcurrencyResult:
    """`clients` curl clients started at once, `rounds` times."""
    clients: int
    rounds: int
    single_median: float
    limit: float
    max_latency: float
    median_latency: float
    over_limit: int
    failures: typing.List[str]
    scrape_duration_min: float
    scrape_duration_max: float
    distinct_scrape_durations: int
    cpu_seconds_total: float
    detail: typing.List[typing.List[ScrapeTiming]]

    @classmethod
    def from_dict(cls, d):
        d = dict(d)
        d["detail"] = [[ScrapeTiming(**x) for x in rnd] for rnd in d.get("detail", [])]
        return cls(**d)


@dataclasses.dataclass
class SizeResult:
    """Everything measured at one population size. Times are seconds; a
    tool that did not run has NaN medians and no samples."""
    target: int
    populated: int = 0
    sets: int = 0
    populate_seconds: float = 0.0
    populate_failed: int = 0
    load_before: str = "?"
    load_after: str = "?"
    # CPU cores used by anything but the measured tools while they ran.
    foreign_cpus: typing.Optional[float] = None
    processes: int = 0
    namespaces: int = 0
    lsns_runs: int = 0
    exporter_median: float = NAN
    floor_median: float = NAN
    lsns_median: float = NAN
    node_exporter_median: float = NAN
    exporter_samples: typing.List[float] = dataclasses.field(default_factory=list)
    floor_samples: typing.List[float] = dataclasses.field(default_factory=list)
    lsns_samples: typing.List[float] = dataclasses.field(default_factory=list)
    node_exporter_samples: typing.List[float] = dataclasses.field(default_factory=list)
    exporter_curl_total_median: float = NAN
    exporter_internal_median: float = NAN
    exporter_bytes: int = 0
    exporter_cpu_per_scrape: float = NAN
    node_exporter_cpu_per_scrape: float = NAN
    exporter_vmhwm_kib: typing.Optional[int] = None
    exporter_vmrss_kib: typing.Optional[int] = None
    # utime+stime of the floor process per walk.
    floor_cpu_per_scrape: float = NAN
    # Body size on the wire with Accept-Encoding: gzip.
    exporter_gzip_bytes: int = 0
    # Every exporter measured at this size ("exporter", "exporter_gzip",
    # "workers2", "holders_none", "holder_<kind>") -> median, samples,
    # cpu_per_scrape, bytes (on the wire), vmhwm_kib.
    variants: typing.Dict[str, typing.Dict[str, typing.Any]] = dataclasses.field(
        default_factory=dict)
    errors: typing.List[str] = dataclasses.field(default_factory=list)
    concurrency: typing.Optional[ConcurrencyResult] = None

    def median(self, tool):
        """The median wall time of one of TOOLS."""
        return getattr(self, f"{tool}_median")

    def set_samples(self, tool, samples, median):
        """Records the wall times of one of TOOLS and their median."""
        setattr(self, f"{tool}_samples", samples)
        setattr(self, f"{tool}_median", median)

    @classmethod
    def from_dict(cls, d):
        known = {f.name for f in dataclasses.fields(cls)}
        d = {k: v for k, v in d.items() if k in known}
        if d.get("concurrency"):
            d["concurrency"] = ConcurrencyResult.from_dict(d["concurrency"])
        return cls(**d)


@dataclasses.dataclass
class RunInfo:
    """The machine, the tools' versions and the limits of one run."""
    date: str
    cpus: int
    cpu_model: str
    mem_gib: float
    kernel: str
    exporter_version: str
    lsns_version: str
    node_exporter_version: str
    limits: typing.List[str]
    wall_seconds: float = 0.0


def save(path, info, results, args):
    """Writes results.json: the run's info, results and numeric/string
    options."""
    with open(path, "w") as f:
        json.dump({"meta": dataclasses.asdict(info),
                   "results": [dataclasses.asdict(r) for r in results],
                   "args": {k: v for k, v in vars(args).items()
                            if isinstance(v, (int, float, str))}},
                  f, indent=1, default=str)


def load(path):
    """(RunInfo, [SizeResult], options dict) from a results.json."""
    with open(path) as f:
        saved = json.load(f)
    info = RunInfo(**saved["meta"])
    results = [SizeResult.from_dict(r) for r in saved["results"]]
    return info, results, saved.get("args", {})
