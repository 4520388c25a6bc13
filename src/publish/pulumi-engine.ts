/**
 * The Pulumi engine as publish uses it: preview or update one stack of the project. The default
 * drives the Pulumi CLI through the Automation API (LocalWorkspace); tests pass a recording fake.
 */
export interface EngineRun {
  readonly stack: string;
  readonly workDir: string;
  readonly env: NodeJS.ProcessEnv;
  readonly onOutput: (text: string) => void;
  readonly signal: AbortSignal;
}

export interface PulumiEngine {
  /** The change summary (resource operation -> count). */
  preview(run: EngineRun): Promise<Record<string, number>>;
  /** The stack's `published` output: site or catalog -> vDisk name or image path. */
  up(run: EngineRun): Promise<Record<string, string>>;
}

async function workspaceStack(run: EngineRun) {
  const { LocalWorkspace } = await import("@pulumi/pulumi/automation/index.js");
  const envVars = Object.fromEntries(Object.entries(run.env).filter((e): e is [string, string] => e[1] !== undefined));
  return LocalWorkspace.createOrSelectStack({ stackName: run.stack, workDir: run.workDir }, { envVars });
}

export const automationEngine: PulumiEngine = {
  async preview(run) {
    const stack = await workspaceStack(run);
    const result = await stack.preview({ onOutput: run.onOutput, signal: run.signal } as Parameters<typeof stack.preview>[0]);
    return result.changeSummary as Record<string, number>;
  },
  async up(run) {
    const stack = await workspaceStack(run);
    const result = await stack.up({ onOutput: run.onOutput, signal: run.signal } as Parameters<typeof stack.up>[0]);
    return (result.outputs.published?.value ?? {}) as Record<string, string>;
  },
};
