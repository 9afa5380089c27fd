/**
 * A source's recent sync runs as a uPlot chart: images added, changed and removed per run (left axis) and
 * the run's duration (right axis) over time. The canvas is described for screen readers, and the same
 * numbers are in a table beside it.
 */
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import type { SyncRun } from "./types";

const colours = { duration: "#6b4fa3", added: "#1a7f37", changed: "#9a6700", removed: "#cf222e" };

function options(width: number, title: string, times: readonly number[]): uPlot.Options {
  const first = times[0] ?? 0;
  const last = times.at(-1) ?? 0;
  const line = (label: string, stroke: string, scale: string) => ({ label, stroke, scale, width: 2, points: { show: true, size: 6 } });
  return {
    title,
    width,
    height: 240,
    series: [
      {},
      line("added", colours.added, "images"),
      line("changed", colours.changed, "images"),
      line("removed", colours.removed, "images"),
      { ...line("duration (s)", colours.duration, "seconds"), dash: [6, 4] },
    ],
    scales: {
      // Runs within one second get an hour either side (uPlot would span one point over years).
      x: { time: true, range: (_chart, min, max) => (last - first < 1 ? [first - 3600, last + 3600] : [min, max]) },
      images: { range: (_chart, _min, max) => [0, Math.max(max, 1)] },
      seconds: { range: (_chart, _min, max) => [0, Math.max(max, 1)] },
    },
    axes: [{}, { scale: "images", label: "images" }, { scale: "seconds", side: 1, label: "seconds", grid: { show: false } }],
  };
}

/** Draws the runs (any order) into `container`, following its width; returns a function that removes the chart. */
export function runsChart(container: HTMLElement, runs: readonly SyncRun[], title: string): () => void {
  const ordered = runs.toSorted((a, b) => a.startedAt.localeCompare(b.startedAt));
  const times = ordered.map((run) => Date.parse(run.startedAt) / 1000);
  const data: uPlot.AlignedData = [
    times,
    ordered.map((run) => run.counts.added + run.counts.revived),
    ordered.map((run) => run.counts.changed),
    ordered.map((run) => run.counts.removed),
    ordered.map((run) => run.durationMs / 1000),
  ];
  const widthOf = () => Math.max(container.clientWidth, 280);
  const chart = new uPlot(options(widthOf(), title, times), data, container);
  const resize = new ResizeObserver(() => chart.setSize({ width: widthOf(), height: 240 }));
  resize.observe(container);
  container.dataset.chart = "drawn";
  return () => {
    resize.disconnect();
    chart.destroy();
  };
}
