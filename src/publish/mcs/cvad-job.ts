/**
 * Follows a CVAD asynchronous job to its end, as Citrix's own client does
 * (citrix/citrix-daas-rest-go client/client.go WaitForJob): GET /Jobs/{id} while the status is
 * Unknown, NotStarted or InProgress. The job id is the last segment of the Location header of the
 * 202 that started it (client.go GetJobIdFromHttpResponse). Statuses from
 * citrixorchestration/model_job_status.go; the error text is the job's ErrorString
 * (model_job_response_model.go), which terraform-provider-citrix reports the same way
 * (internal/util ProcessAsyncJobResponse).
 */
import { pause } from "../../util/pause.ts";
import { requestJson, type Fetch } from "./http.ts";

/** How often a job is polled: WaitForJob sleeps 30 s between polls. */
export const JOB_POLL_MS = 30_000;
/** terraform-provider-citrix gives an image update 60 minutes (ProcessAsyncJobResponse(..., 60, ...)). */
export const JOB_TIMEOUT_MS = 60 * 60_000;

const RUNNING = new Set(["Unknown", "NotStarted", "InProgress"]);
const SUCCEEDED = new Set(["Complete", "CompleteWithWarning"]);

export interface CvadJob {
  readonly Id: string;
  readonly Status: string;
  readonly ErrorString?: string | null;
  readonly ErrorParameters?: readonly { readonly Name?: string | null; readonly Value?: string | null }[];
}

export class CvadJobError extends Error {
  constructor(message: string, readonly job?: CvadJob) {
    super(message);
    this.name = new.target.name;
  }
}

export interface JobPolling {
  readonly fetch: Fetch;
  readonly headers: Record<string, string>;
  /** `<url>/cvad/manage` */
  readonly apiBase: string;
  /** @default JOB_POLL_MS */
  readonly pollMs?: number;
  /** @default JOB_TIMEOUT_MS */
  readonly timeoutMs?: number;
  /** @default Date.now */
  readonly now?: () => number;
  /** @default pause */
  readonly sleep?: (ms: number) => Promise<void>;
}

/** The job id a 202 points at. */
export function jobIdFromLocation(location: string | null): string {
  const id = location?.replace(/\/+$/, "").split("/").at(-1);
  if (!id) throw new CvadJobError(`the CVAD API started a job but answered no Location header to follow it (got ${JSON.stringify(location)})`);
  return decodeURIComponent(id);
}

/** Resolves when the job completed (with or without warnings); throws with the job's error otherwise. */
export async function waitForJob(jobId: string, what: string, polling: JobPolling): Promise<CvadJob> {
  const now = polling.now ?? Date.now;
  const sleep = polling.sleep ?? ((ms: number) => pause(ms));
  const deadline = now() + (polling.timeoutMs ?? JOB_TIMEOUT_MS);
  for (;;) {
    const job = (await requestJson(polling.fetch, "GET", `${polling.apiBase}/Jobs/${encodeURIComponent(jobId)}`, polling.headers)) as CvadJob;
    if (SUCCEEDED.has(job.Status)) return job;
    if (!RUNNING.has(job.Status)) {
      const details = (job.ErrorParameters ?? []).filter((p) => p.Name === "ErrorDetails" && p.Value).map((p) => p.Value);
      throw new CvadJobError(`${what}: CVAD job ${job.Id} ended ${job.Status}: ${job.ErrorString || "no error text"}${details.length ? ` (${details.join("; ")})` : ""}`, job);
    }
    if (now() >= deadline) throw new CvadJobError(`${what}: CVAD job ${job.Id} still ${job.Status} after ${Math.round((polling.timeoutMs ?? JOB_TIMEOUT_MS) / 60_000)} minutes`, job);
    await sleep(polling.pollMs ?? JOB_POLL_MS);
  }
}
