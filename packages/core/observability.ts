/**
 * Powertools logger and metrics, configured once per process and shared by every handler. Their
 * `POWERTOOLS_*` environment variables (level, namespace, dev mode) apply as documented by Powertools.
 */
import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics, type MetricUnit } from "@aws-lambda-powertools/metrics";
import { metricsNamespace, serviceName } from "./resources";

export const logger = new Logger({ serviceName });

export const metrics = new Metrics({ namespace: metricsNamespace, serviceName });

/**
 * Publishes each metric now under one extra dimension (besides `service`). A single metric clears its
 * dimensions once it publishes, so every metric gets its own.
 */
export function publishDimensioned(
  dimension: { name: string; value: string },
  entries: readonly (readonly [name: string, unit: (typeof MetricUnit)[keyof typeof MetricUnit], value: number])[],
): void {
  for (const [name, unit, value] of entries) metrics.singleMetric().addDimension(dimension.name, dimension.value).addMetric(name, unit, value);
}
