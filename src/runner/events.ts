/**
 * What a build reports while it runs. The runner emits these; src/cli/progress renders them as a
 * live TTY line, plain timestamped lines or a JSON event stream (one object per line).
 */
export type StepStatus = "ok" | "failed" | "cached" | "skipped" | "interrupted";

export type BuildEvent =
  | { readonly type: "build-start"; readonly at: string; readonly recipe: string; readonly buildId: string; readonly steps: readonly { readonly id: string; readonly title: string }[] }
  | { readonly type: "step-start"; readonly at: string; readonly step: string; readonly title: string }
  | {
      readonly type: "step-end";
      readonly at: string;
      readonly step: string;
      readonly status: StepStatus;
      readonly cached: boolean;
      /** Why a step was cached or skipped. */
      readonly why?: string;
      readonly durationMs: number;
      readonly error?: string;
    }
  /** Work of known size (download, upload, conversion): drives the TTY bar. */
  | { readonly type: "progress"; readonly at: string; readonly step: string; readonly done: number; readonly total: number }
  | { readonly type: "log"; readonly at: string; readonly step?: string; readonly message: string }
  /** A line the VM printed on its console while a step waited on it: the live view shows the last one. */
  | { readonly type: "console"; readonly at: string; readonly step: string; readonly line: string }
  | { readonly type: "build-end"; readonly at: string; readonly status: "ok" | "failed" | "interrupted"; readonly durationMs: number; readonly error?: string };

export type EmitEvent = (event: BuildEvent) => void;

/** The event's timestamp, from an injectable clock. */
export type Clock = () => Date;
export const systemClock: Clock = () => new Date();
