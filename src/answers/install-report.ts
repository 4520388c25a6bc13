/**
 * How an unattended install proves it finished. A VM that powers off is not proof: an OOM kill or
 * a crash also ends the process. So the answer media make the installer print one line on the
 * first serial port as its very last act (cloud-init's final_message; the Windows first-logon
 * script writes it to COM1), naming this build's instance, and the runner commits the installed
 * disk only when its console shows that line.
 */

/** What the runner looks for on the console after the installer powered the VM off. */
export interface InstallReport {
  /** The exact line a finished install prints. */
  readonly success: string;
  /** The start of a line an installer that failed prints, followed by the reason. */
  readonly failurePrefix: string;
}

export const INSTALL_OK = "REBAKE-INSTALL: OK";
export const INSTALL_FAILED = "REBAKE-INSTALL: FAILED:";

export function installReport(buildId: string): InstallReport {
  return { success: `${INSTALL_OK} ${instanceId(buildId)}`, failurePrefix: INSTALL_FAILED };
}

/** The build id cannot form an instance-id. */
export class BuildIdError extends Error {
  constructor(message: string, readonly buildId: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** The cloud-init instance-id (and install report name) of a build: every build is a fresh instance. */
export function instanceId(buildId: string): string {
  const cleaned = buildId.replace(/[^A-Za-z0-9-]+/g, "-").replace(/^-+|-+$/g, "");
  if (cleaned === "") {
    throw new BuildIdError(`build id ${JSON.stringify(buildId)} has no letters or digits to form a cloud-init instance-id; pass a build id such as "20240501-1"`, buildId);
  }
  return `rebake-${cleaned}`;
}

