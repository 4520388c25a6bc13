import type { Rule } from "../document.ts";

/** Every named rule, in the order their problems are reported. */
export const rules: readonly Rule[] = [];
