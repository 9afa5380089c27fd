import { secretNames, type SecretName } from "../packages/core/resources";

/**
 * Credentials live in SST secrets (encrypted, delivered to linked functions only):
 *   TritonSources   JSON array of Triton sources, private keys inline (see README "Configuration")
 *   CoxEdgeSources  JSON array of Cox Edge sources with their API keys
 *   ApiToken        bearer token for the inventory HTTP API
 */
export const secrets = Object.fromEntries(secretNames.map((name) => [name, new sst.Secret(name)])) as Record<
  SecretName,
  sst.Secret
>;
