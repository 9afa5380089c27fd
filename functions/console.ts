import { join } from "node:path";
import { consoleBuildDir } from "../packages/core/resources";
import { siteHandler } from "../packages/static/site";

/** The operator console's files: copied into the function's package on AWS (infra/console.ts), built by `npm start` locally. */
export const handler = siteHandler(join(process.env.LAMBDA_TASK_ROOT ?? process.cwd(), consoleBuildDir));
