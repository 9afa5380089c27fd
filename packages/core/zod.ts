/**
 * zod for every module that goes into a function bundle: `zod/mini`, whose functions tree-shake (classic
 * zod's methods bring the whole library into each bundle and its load time), with the English messages
 * classic loads by itself; validation errors show them (configuration, API `invalidParams`, job
 * rejections, upstream responses). Import it as `import * as z from "../core/zod"`: a namespace import is
 * what lets esbuild drop the functions a bundle does not call.
 */
import * as z from "zod/mini";
import { en } from "zod/locales";

z.config(en());

export * from "zod/mini";

/** A string with at least one character: the most common field rule. */
export const nonEmptyString = () => z.string().check(z.minLength(1));
