/* Hand-maintained copy of what `sst dev`/`sst deploy` generate (they overwrite it with the same shape).
   Offline `sst install` does not write it; keep it in step with infra/. */
import "sst";
declare module "sst" {
  export interface Resource {
    "ApiToken": { "type": "sst.sst.Secret"; "value": string };
    "CoxEdgeSources": { "type": "sst.sst.Secret"; "value": string };
    "Inventory": { "name": string; "type": "sst.aws.Dynamo" };
    "JobDeadLetterQueue": { "type": "sst.aws.Queue"; "url": string };
    "JobQueue": { "type": "sst.aws.Queue"; "url": string };
    "TritonSources": { "type": "sst.sst.Secret"; "value": string };
  }
}
export {};
