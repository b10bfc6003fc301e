"""The JSON shape of a simulation run (CONTRACT.md §3 `/api/simulations/`), the create body and the CSV export."""
import io

from rest_framework import renderers, serializers

from ..models import SimulationRun
from .renderers import SafeCSVWriter


def _dt(value):
    return value.isoformat().replace("+00:00", "Z") if value else None


def simulation_repr(run: SimulationRun, *, full: bool = True) -> dict:
    """`params` without the stored model snapshot; list views (full=False) leave out the bulky playback."""
    results = run.results
    if results is not None and not full:
        results = {k: v for k, v in results.items() if k != "playback"}
    return {
        "id": run.id,
        "layout": run.layout_id,
        "factory": run.layout.factory_id,
        "layout_revision": run.layout_revision,
        "status": run.status,
        "progress": run.progress,
        "params": {k: v for k, v in (run.params or {}).items() if k != "model"},
        "results": results,
        "error": run.error,
        "attempts": run.attempts,
        "created_by": run.created_by.username if run.created_by_id else None,
        "created_at": _dt(run.created_at),
        "started_at": _dt(run.started_at),
        "finished_at": _dt(run.finished_at),
    }


class SimulationSerializer(serializers.ModelSerializer):
    factory = serializers.IntegerField(read_only=True)
    created_by = serializers.CharField(read_only=True, allow_null=True)

    class Meta:
        model = SimulationRun
        fields = ["id", "layout", "factory", "layout_revision", "status", "progress", "params", "results", "error",
                  "attempts", "created_by", "created_at", "started_at", "finished_at"]
        read_only_fields = fields

    def to_representation(self, instance):
        return simulation_repr(instance, full=self.context.get("full", True))


class SimulationCreateSerializer(serializers.Serializer):
    """Documents the POST body; the service validates it (one set of messages for every interface)."""
    layout = serializers.IntegerField()
    horizon_s = serializers.FloatField(required=False, help_text="Simulated time in seconds (default 8 h, at most 90 days).")
    warmup_s = serializers.FloatField(required=False, help_text="Statistics start after this (default 0); less than horizon_s.")
    replications = serializers.IntegerField(required=False, min_value=1, max_value=200, help_text="Default 10.")
    seed = serializers.IntegerField(required=False, min_value=0, help_text="Default: a random seed, stored with the run.")
    calendar = serializers.JSONField(required=False, help_text=(
        'Shift calendar (CONTRACT §7): {"period_s": 86400, "on": [[start_s, end_s], ...]}; work happens only '
        "inside the intervals of each period. Default: always on."))
    initial_state = serializers.ChoiceField(choices=["live", "empty"], required=False, help_text=(
        '"live": a forecast that starts from what the twins report now (queues, stations down); results carry '
        "`forecast` bands (CONTRACT §9). Default: an empty plant."))


class CSVRenderer(renderers.BaseRenderer):
    """Lets `?format=csv` through DRF's content negotiation; the export view builds the CSV itself, and
    errors are rendered as JSON (twins/api/errors.py), so this never renders a body."""
    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data


def results_csv(run: SimulationRun) -> str:
    """One flat table: `section, asset, name, metric, t, value, ci95`; asset names are user text (SafeCSVWriter)."""
    res = run.results or {}
    out = io.StringIO()
    w = SafeCSVWriter(out)
    w.writerow(["section", "asset", "name", "metric", "t", "value", "ci95"])
    for metric in ("throughput_per_hour", "lead_time_s", "wip"):
        value = res.get(metric) or {}
        w.writerow(["summary", "", "", metric, "", value.get("mean"), value.get("ci95")])
    w.writerow(["summary", "", "", "lead_time_p95_s", "", (res.get("lead_time_s") or {}).get("p95"), ""])
    w.writerow(["summary", "", "", "bottleneck", "", res.get("bottleneck"), ""])
    for st in res.get("stations", []):
        row = ["station", st.get("asset"), st.get("name")]
        w.writerow([*row, "throughput_per_hour", "", st.get("throughput_per_hour"), ""])
        w.writerow([*row, "mean_queue", "", st.get("mean_queue"), ""])
        for state, share in (st.get("utilization") or {}).items():
            w.writerow([*row, f"utilization_{state}", "", share, ""])
    ts = res.get("timeseries") or {}
    for series in ("throughput_per_hour", "wip"):
        for t, value in zip(ts.get("t", []), ts.get(series, [])):
            w.writerow(["timeseries", "", "", series, t, value, ""])
    return out.getvalue()
