#!/usr/bin/env node
// The operator CLI (packages/cli/main.ts), run through tsx's loader so it needs no build step.
import { register } from "tsx/esm/api";

register();
await import("../packages/cli/main.ts");
