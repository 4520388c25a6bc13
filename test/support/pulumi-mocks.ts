/**
 * Pulumi mocks that record every resource a program registers, for tests that run a program or a
 * component under mocks: set them before importing the code under test.
 */
import * as pulumi from "@pulumi/pulumi";

export interface RegisteredResource {
  readonly type: string;
  readonly name: string;
  readonly inputs: Record<string, unknown>;
}

/**
 * `registered` grows with each new resource (tests empty it between cases); each resource's id is
 * `<name>-id` and its state is `state(inputs)`, by default the inputs themselves.
 */
export function recordingMocks(state: (inputs: Record<string, unknown>) => Record<string, unknown> = (inputs) => inputs): {
  readonly mocks: pulumi.runtime.Mocks;
  readonly registered: RegisteredResource[];
} {
  const registered: RegisteredResource[] = [];
  const mocks: pulumi.runtime.Mocks = {
    newResource: (args) => {
      const inputs = args.inputs as Record<string, unknown>;
      registered.push({ type: args.type, name: args.name, inputs });
      return { id: `${args.name}-id`, state: state(inputs) };
    },
    call: (args) => args.inputs,
  };
  return { mocks, registered };
}

/** What one resource waits for, by resource name. */
export interface ResourceDependencies {
  /** `dependsOn` and every resource an input comes from. */
  readonly dependsOn: readonly string[];
  /** Input name -> the resources whose outputs it is made from. */
  readonly inputsFrom: Readonly<Record<string, readonly string[]>>;
}

interface RegisterRequest {
  getType(): string;
  getName(): string;
  getDependenciesList(): string[];
  getPropertydependenciesMap(): { forEach(callback: (value: { getUrnsList(): string[] }, key: string) => void): void };
}

/**
 * Wraps the mock monitor that setMocks installed, recording the dependencies the SDK sends with
 * each registration (the mocks' newResource does not receive them). Call after setMocks.
 */
export function recordDependencies(): { of(type: string, name: string): ResourceDependencies } {
  const monitor = pulumi.runtime.getMonitor() as unknown as { registerResource(req: RegisterRequest, callback: unknown): unknown };
  const recorded = new Map<string, ResourceDependencies>();
  const nameOf = (urn: string) => urn.slice(urn.lastIndexOf("::") + 2);
  const original = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req, callback) => {
    const inputsFrom: Record<string, string[]> = {};
    req.getPropertydependenciesMap().forEach((value, key) => {
      if (value.getUrnsList().length) inputsFrom[key] = value.getUrnsList().map(nameOf);
    });
    recorded.set(`${req.getType()}::${req.getName()}`, { dependsOn: req.getDependenciesList().map(nameOf), inputsFrom });
    return original(req, callback);
  };
  return { of: (type, name) => recorded.get(`${type}::${name}`) ?? { dependsOn: [], inputsFrom: {} } };
}

/**
 * Resolves once every registration the program started has reached the mocks, the event a test
 * waits for instead of a pause. The SDK counts each registration in flight (`rpcKeepAlive`) and
 * `waitForRPCs` (exported by runtime/settings.js, used by `disconnect`) waits until that count
 * drains, looping while new registrations, such as those made inside an `apply`, keep arriving.
 */
export async function registrationsSettled(): Promise<void> {
  const settings = (await import("@pulumi/pulumi/runtime/settings.js")) as unknown as { waitForRPCs(): Promise<void> };
  await settings.waitForRPCs();
}
