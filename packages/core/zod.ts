/**
 * zod for every module that goes into a function bundle: `zod/mini`, whose functions tree-shake (classic
 * zod's methods bring the whole library into each bundle and its load time), with the English messages
 * classic loads by itself; validation errors show them (configuration, API `invalidParams`, job
 * rejections, upstream responses). Import it as `import * as z from "../core/zod"`: a namespace import is
 * what lets esbuild drop the functions a bundle does not call.
 */
import { config } from "zod/mini";
import { en } from "zod/locales";

config(en());

export * from "zod/mini";
