"""Seismo's dashboards, built as code with grafana-foundation-sdk.

Two dashboards: the overview of every app, and a drill-down into chosen apps and models
(template variables ``app`` and ``model``, filled from ClickHouse). Every query comes from
:mod:`grafana.queries`; this module only arranges panels. ``generate`` writes the JSON next to
the provisioning files, ``push`` sends the same dicts to a Grafana.
"""

from __future__ import annotations

import json
from typing import Any

from grafana_foundation_sdk.builders import common as common_builders
from grafana_foundation_sdk.builders import dashboard as dash
from grafana_foundation_sdk.builders import stat, table, timeseries, xychart
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models import common
from grafana_foundation_sdk.models.dashboard import (
    DashboardCursorSync,
    DashboardLinkType,
    DataTransformerConfig,
    Threshold,
    ThresholdsMode,
    VariableOption,
    VariableRefresh,
    VariableSort,
)
from grafana_foundation_sdk.models.xychart import SeriesMapping

from grafana import queries as q
from grafana.datasource import datasource_ref
from grafana.queries import SqlQuery

OVERVIEW_UID = "seismo-overview"
APP_UID = "seismo-app"
TAGS = ["seismo", "llm"]
REFRESH = "30s"
DEFAULT_RANGE = ("now-6h", "now")
FULL_WIDTH = 24  # Grafana's grid is 24 columns wide
_HALF = FULL_WIDTH // 2
_QUARTER = FULL_WIDTH // 4


# -- panel factories -------------------------------------------------------------------------
def _legend() -> common_builders.VizLegendOptions:
    return (
        common_builders.VizLegendOptions()
        .show_legend(True)
        .display_mode(common.LegendDisplayMode.LIST)
        .placement(common.LegendPlacement.BOTTOM)
    )


_MDE_DESCRIPTION = (
    "Smallest share of a window's events moving to a new topic that its sample detects with "
    "power 0.8 at the test's alpha. Above drift_min_effect the window says insufficient_data, "
    "not no drift.")


def _timeseries(
    title: str, query: SqlQuery, unit: str, description: str, *, log_scale: bool = False
) -> timeseries.Panel:
    panel = (
        timeseries.Panel()
        .title(title)
        .description(description)
        .datasource(datasource_ref())
        .with_target(query.target())
        .unit(unit)
        .span(_HALF)
        .height(8)
        .line_width(1)
        .fill_opacity(10)
        .span_nulls(False)
        .legend(_legend())
        .tooltip(common_builders.VizTooltipOptions().mode(common.TooltipDisplayMode.MULTI))
    )
    if log_scale:
        panel = panel.scale_distribution(
            common_builders.ScaleDistributionConfig().type(common.ScaleDistribution.LOG).log(10)
        )
    return panel


def _stat(
    title: str, query: SqlQuery, unit: str, description: str, warn_at: float | None = None
) -> stat.Panel:
    steps = [Threshold(value=None, color="green")]
    if warn_at is not None:
        steps.append(Threshold(value=warn_at, color="red"))
    return (
        stat.Panel()
        .title(title)
        .description(description)
        .datasource(datasource_ref())
        .with_target(query.target())
        .unit(unit)
        .span(_QUARTER)
        .height(4)
        .graph_mode(common.BigValueGraphMode.NONE)
        .color_mode(common.BigValueColorMode.VALUE)
        .thresholds(dash.ThresholdsConfig().mode(ThresholdsMode.ABSOLUTE).steps(steps))
    )


def _table(title: str, query: SqlQuery, description: str) -> table.Panel:
    return (
        table.Panel()
        .title(title)
        .description(description)
        .datasource(datasource_ref())
        .with_target(query.target())
        .span(FULL_WIDTH)
        .height(8)
        .show_header(True)
        .cell_height(common.TableCellHeight.SM)
    )


def _topic_projection() -> xychart.Panel:
    """The embedded sample on its reference's principal plane, a colour per topic cluster."""
    return (
        xychart.Panel()
        .title("Embedded sample by topic cluster")
        .description(
            "Every sampled prompt/completion on the first two principal axes of its stream's "
            "reference, coloured by the reference's topic cluster. Choose one model: each "
            "stream has its own axes and cluster ids. A new topic is named in the cluster-share "
            "table; the HTML report (seismo report) draws the sample with UMAP."
        )
        .datasource(datasource_ref())
        .with_target(q.APP_TOPIC_PROJECTION.target())
        # One frame per series value, so auto mapping draws each cluster as its own series.
        .with_transformation(
            DataTransformerConfig(id_val="partitionByValues", options={"fields": ["series"]})
        )
        .span(_HALF)
        .height(10)
        .series_mapping(SeriesMapping.AUTO)
        .dims(xychart.XYDimensionConfig().x("x"))
        .legend(_legend())
    )


def _finish(builder: dash.Dashboard) -> dict[str, Any]:
    """The dashboard as Grafana's JSON, with stable panel ids (the SDK leaves them unset)."""
    model = json.loads(json.dumps(builder.build(), cls=JSONEncoder))
    for number, panel in enumerate(model["panels"], start=1):
        panel["id"] = number
    return model


def _dashboard(uid: str, title: str, description: str) -> dash.Dashboard:
    return (
        dash.Dashboard(title)
        .uid(uid)
        .description(description)
        .tags(TAGS)
        .timezone("utc")
        .time(*DEFAULT_RANGE)
        .refresh(REFRESH)
        .tooltip(DashboardCursorSync.CROSSHAIR)
        .readonly()
        .link(
            dash.DashboardLink("Seismo")
            .type(DashboardLinkType.DASHBOARDS)
            .tags(["seismo"])
            .as_dropdown(True)
            .include_vars(True)
            .keep_time(True)
        )
    )


# -- overview --------------------------------------------------------------------------------
def overview() -> dict[str, Any]:
    """Every app at a glance: traffic, errors, latency, cost, safety signals, drift, alerts."""
    builder = (
        _dashboard(
            OVERVIEW_UID,
            "Seismo / Overview",
            "All LLM apps watched by Seismo: traffic, quality signals, drift and alerts.",
        )
        .with_row(dash.Row("Now"))
        .with_panel(_stat("Events/s", q.EVENT_RATE, "reqps", "Mean call rate over the range."))
        .with_panel(
            _stat("Error rate", q.ERROR_RATE, "percentunit", "Failed calls over all calls.")
        )
        .with_panel(_stat("Cost", q.COST, "currencyUSD", "Priced cost of the calls in range."))
        .with_panel(
            _stat("Firing alerts", q.FIRING_COUNT, "none", "Alerts firing at the end of the "
                  "range (latest transition per alert).", warn_at=1)
        )
        .with_row(dash.Row("Traffic and errors"))
        .with_panel(_timeseries("Traffic by app", q.TRAFFIC_BY_APP, "reqps", "Calls per second."))
        .with_panel(
            _timeseries("Error rate by app", q.ERROR_RATE_BY_APP, "percentunit",
                        "Share of calls with status error.")
        )
        .with_row(dash.Row("Latency and cost"))
        .with_panel(
            _timeseries("Latency quantiles", q.LATENCY_QUANTILES, "ms",
                        "p50/p95/p99 of closed windows, events-weighted mean over streams.")
        )
        .with_panel(
            _timeseries("Tokens and cost by model", q.TOKENS_AND_COST_BY_MODEL, "short",
                        "Total tokens per second and priced cost in USD per hour.")
        )
        .with_row(dash.Row("Safety signals"))
        .with_panel(
            _timeseries("Toxicity rate by app", q.TOXICITY_BY_APP, "percentunit",
                        "Share of calls whose prompt or completion scored toxic.")
        )
        .with_panel(
            _timeseries("PII, leak and injection rates by app", q.PII_AND_INJECTION_BY_APP,
                        "percentunit", "Share of calls with PII found, with a completion "
                        "leaking PII or a secret its prompt did not hold, and with a prompt "
                        "injection score over the threshold.")
        )
        .with_row(dash.Row("Embedding drift"))
        .with_panel(
            _timeseries("MMD² by stream", q.DRIFT_STATISTIC, "none",
                        "Unbiased MMD² of each window's embeddings against the reference.")
        )
        .with_panel(
            _timeseries("MMD p-value by stream", q.DRIFT_P_VALUE, "none",
                        "Permutation p-value; a window drifted when it is below alpha.",
                        log_scale=True)
        )
        .with_panel(
            _timeseries("Minimum detectable effect by stream", q.DRIFT_MIN_DETECTABLE_EFFECT,
                        "percentunit", _MDE_DESCRIPTION)
        )
        .with_row(dash.Row("Alerts"))
        .with_panel(
            _table("Firing alerts", q.FIRING_ALERTS,
                   "Alerts whose latest transition before the end of the range is firing.")
        )
    )
    return _finish(builder)


# -- drill-down ------------------------------------------------------------------------------
def _all_option() -> VariableOption:
    return VariableOption(selected=True, text="All", value="$__all")


def _query_variable(name: str, label: str, query: SqlQuery) -> dash.QueryVariable:
    # Multi-value with "All": the plugin then always formats the value as a quoted list,
    # which the queries' ``IN (${name})`` expects.
    return (
        dash.QueryVariable(name)
        .id(name)
        .label(label)
        .datasource(datasource_ref())
        .query(query.sql)
        .refresh(VariableRefresh.ON_TIME_RANGE_CHANGED)
        .sort(VariableSort.ALPHABETICAL_ASC)
        .multi(True)
        .include_all(True)
        .current(_all_option())
    )


def app_drilldown() -> dict[str, Any]:
    """One or more apps and models in detail."""
    builder = (
        _dashboard(
            APP_UID,
            "Seismo / App",
            "The chosen apps and models in detail: every signal, every test, every alert.",
        )
        .with_variable(_query_variable("app", "App", q.APP_VARIABLE))
        .with_variable(_query_variable("model", "Model", q.MODEL_VARIABLE))
    )
    for section in (_app_traffic, _app_latency, _app_safety_and_drift, _app_topics_and_alerts):
        builder = section(builder)
    return _finish(builder)


def _app_traffic(builder: dash.Dashboard) -> dash.Dashboard:
    return (
        builder
        .with_row(dash.Row("Traffic and errors"))
        .with_panel(_timeseries("Traffic by model", q.APP_TRAFFIC, "reqps", "Calls per second."))
        .with_panel(
            _timeseries("Error rate by model", q.APP_ERROR_RATE, "percentunit",
                        "Share of calls with status error.")
        )
        .with_panel(
            _timeseries("Errors by type", q.APP_ERRORS_BY_TYPE, "reqps",
                        "Failed calls per second by error type.")
        )
        .with_panel(
            _timeseries("Mean user feedback by model", q.APP_FEEDBACK, "none",
                        "Mean feedback value in [-1, 1] of the rated calls.")
        )
    )


def _app_latency(builder: dash.Dashboard) -> dash.Dashboard:
    return (
        builder
        .with_row(dash.Row("Latency, tokens and cost"))
        .with_panel(
            _timeseries("Latency quantiles by model", q.APP_LATENCY, "ms",
                        "p50/p95/p99 of closed windows, events-weighted.")
        )
        .with_panel(
            _timeseries("Time to first token and throughput", q.APP_TTFT_AND_THROUGHPUT, "short",
                        "p95 time to first token (ms) and output tokens per second.")
        )
        .with_panel(
            _timeseries("Tokens and cost by model", q.APP_TOKENS_AND_COST, "short",
                        "Total tokens per second and priced cost in USD per hour.")
        )
        .with_panel(
            xychart.Panel()
            .title("Latency vs completion tokens")
            .description("A fixed sample of successful calls: latency grows with output length.")
            .datasource(datasource_ref())
            .with_target(q.APP_LATENCY_VS_TOKENS.target())
            .span(_HALF)
            .height(8)
            .series_mapping(SeriesMapping.MANUAL)
            .series(
                [
                    xychart.ScatterSeriesConfig()
                    .name("calls")
                    .x("completion_tokens")
                    .y("latency_ms")
                ]
            )
        )
    )


def _app_safety_and_drift(builder: dash.Dashboard) -> dash.Dashboard:
    return (
        builder
        .with_row(dash.Row("Safety signals"))
        .with_panel(
            _timeseries("Toxicity, PII, leak, injection and refusal rates", q.APP_SIGNAL_RATES,
                        "percentunit", "Shares of calls flagged by each per-event detector.")
        )
        .with_panel(
            _timeseries("All test p-values", q.APP_TEST_P_VALUES, "none",
                        "p-value of every window test (drift, latency, rates) per model.",
                        log_scale=True)
        )
        .with_row(dash.Row("Drift"))
        .with_panel(
            _timeseries("MMD² by model and field", q.APP_MMD_STATISTIC, "none",
                        "Embedding drift statistic of prompts and completions.")
        )
        .with_panel(
            _timeseries("Drifted and insufficient-data tests per window", q.APP_DRIFT_COUNTS,
                        "none", "How many window tests decided 'changed', and how many had too "
                        "few events to detect the configured minimum effect (verdict "
                        "insufficient_data: not evidence of no change), by field.")
        )
        .with_panel(
            _table("Drifted windows", q.APP_DRIFTED_WINDOWS,
                   "Every window test that decided 'changed', newest first.")
        )
        .with_panel(
            _timeseries("Minimum detectable effect", q.APP_MIN_DETECTABLE_EFFECT,
                        "percentunit", _MDE_DESCRIPTION)
        )
    )


def _app_topics_and_alerts(builder: dash.Dashboard) -> dash.Dashboard:
    return (
        builder
        .with_row(dash.Row("Topics"))
        .with_panel(_topic_projection())
        .with_panel(
            _table("Topic mix per window (cluster share)", q.APP_CLUSTER_SHARE,
                   "Chi-square test of each window's topic clusters against the reference's "
                   "(exact permutation p-value when clusters are sparse); the clusters that "
                   "grew or shrank, by their keywords, with their shares.").span(_HALF)
        )
        .with_row(dash.Row("Alerts"))
        .with_panel(
            _table("Alert transitions", q.APP_ALERT_TRANSITIONS,
                   "Pending, firing and resolved transitions of the chosen apps' alerts.")
        )
    )


def all_dashboards() -> dict[str, dict[str, Any]]:
    """Every dashboard by uid."""
    return {OVERVIEW_UID: overview(), APP_UID: app_drilldown()}
