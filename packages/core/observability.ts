/**
 * Powertools logger and metrics, configured once per process and shared by every handler. Their
 * `POWERTOOLS_*` environment variables (level, namespace, dev mode) apply as documented by Powertools.
 */
import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics } from "@aws-lambda-powertools/metrics";

export const serviceName = "imagesync";

export const logger = new Logger({ serviceName });

export const metrics = new Metrics({ namespace: "imagesync", serviceName });
