import { test } from "node:test";
import assert from "node:assert/strict";
import { runSteps, StepsFailedError } from "../../src/runner/run-steps.ts";
import { BuildInterruptedError, BuildTimeoutError } from "../../src/runner/errors.ts";
import type { Step } from "../../src/runner/step.ts";
import type { BuildEvent } from "../../src/runner/events.ts";

interface State {
  readonly journal: string[];
  /** Called when a step starts to hang: the moment a test interrupts, instead of a guessed delay. */
  onHang?: () => void;
}

/** A step that acquires a resource (released through the stack) and has a step cleanup. */
function step(name: string, behaviour: "ok" | "fail" | "hang" = "ok", keepOnError = false): Step<State> {
  return {
    name,
    title: `step ${name}`,
    async run(ctx, state) {
      state.journal.push(`run ${name}`);
      ctx.cleanup.push(`resource of ${name}`, async () => void state.journal.push(`release ${name}`), { keepOnError });
      if (behaviour === "fail") throw new Error(`${name} broke`);
      if (behaviour === "hang") {
        state.onHang?.();
        await new Promise(() => undefined);
      }
    },
    async cleanup(state) {
      state.journal.push(`cleanup ${name}`);
    },
  };
}

const cases: readonly { name: string; steps: Step<State>[]; interruptWhenHanging?: boolean; timeoutMs?: number; expectJournal: string[]; expectError?: new (...a: never[]) => Error }[] = [
  {
    name: "success unwinds every step's cleanup in reverse order",
    steps: [step("a"), step("b")],
    expectJournal: ["run a", "run b", "release b", "cleanup b", "release a", "cleanup a"],
  },
  {
    name: "failure unwinds the failing step too and nothing after it runs",
    steps: [step("a"), step("b", "fail"), step("c")],
    expectJournal: ["run a", "run b", "release b", "cleanup b", "release a", "cleanup a"],
    expectError: Error,
  },
  {
    name: "an abort in the middle of a step unwinds and reports an interruption",
    steps: [step("a"), step("b", "hang")],
    interruptWhenHanging: true,
    expectJournal: ["run a", "run b", "release b", "cleanup b", "release a", "cleanup a"],
    expectError: BuildInterruptedError,
  },
  {
    name: "the build time limit unwinds and reports a build timeout",
    steps: [step("a", "hang")],
    timeoutMs: 20,
    expectJournal: ["run a", "release a", "cleanup a"],
    expectError: BuildTimeoutError,
  },
];

for (const c of cases) {
  test(c.name, async () => {
    const controller = new AbortController();
    const state: State = { journal: [], ...(c.interruptWhenHanging ? { onHang: () => controller.abort(new Error("interrupted by SIGINT")) } : {}) };
    const events: BuildEvent[] = [];
    const run = runSteps(c.steps, state, { signal: controller.signal, emit: (e) => events.push(e), ...(c.timeoutMs ? { timeoutMs: c.timeoutMs } : {}) });
    if (c.expectError) {
      const error = await run.then(() => undefined, (e: unknown) => e);
      assert.ok(error instanceof StepsFailedError, `expected StepsFailedError, got ${String(error)}`);
      assert.ok(error.error instanceof c.expectError, `expected ${c.expectError.name}, got ${error.error.name}: ${error.error.message}`);
    } else {
      await run;
    }
    assert.deepEqual(state.journal, c.expectJournal);
    const ends = events.filter((e) => e.type === "step-end");
    assert.equal(ends.length, state.journal.filter((j) => j.startsWith("run ")).length, "one step-end event per step that ran");
  });
}

test("the keep policy leaves keep-on-error resources after a failure and reports them", async () => {
  const state: State = { journal: [] };
  let kept: readonly string[] = [];
  const steps = [step("vm", "ok", true), step("work", "fail")];
  await assert.rejects(
    runSteps(steps, state, { signal: new AbortController().signal, emit: () => undefined, onError: "keep", onKept: (k) => (kept = k) }),
    StepsFailedError,
  );
  assert.deepEqual(kept, ["resource of vm"]);
  assert.ok(!state.journal.includes("release vm"), "the VM is left running");
  assert.ok(state.journal.includes("release work"), "other resources are still released");
});

for (const interrupt of [false, true]) {
  test(`the keep policy still releases everything after ${interrupt ? "an interrupt" : "a success"}`, async () => {
    const controller = new AbortController();
    const state: State = { journal: [], onHang: () => controller.abort(new Error("SIGINT")) };
    let kept: readonly string[] | undefined;
    const steps = [step("vm", "ok", true), step("work", interrupt ? "hang" : "ok")];
    const run = runSteps(steps, state, { signal: controller.signal, emit: () => undefined, onError: "keep", onKept: (k) => (kept = k) });
    if (interrupt) await assert.rejects(run, (e: unknown) => e instanceof StepsFailedError && e.error instanceof BuildInterruptedError);
    else assert.deepEqual((await run).steps.map((s) => [s.id, s.status]), [["vm", "ok"], ["work", "ok"]]);
    assert.deepEqual(state.journal, ["run vm", "run work", "release work", "cleanup work", "release vm", "cleanup vm"]);
    assert.equal(kept, undefined, "nothing is reported as kept");
  });
}

test("a failing release does not hide the build's own error", async () => {
  const state: State = { journal: [] };
  const events: BuildEvent[] = [];
  const broken: Step<State> = {
    name: "broken",
    title: "broken",
    async run(ctx) {
      ctx.cleanup.push("flaky release", async () => {
        throw new Error("release failed");
      });
      throw new Error("the real problem");
    },
  };
  const error = await runSteps([broken], state, { signal: new AbortController().signal, emit: (e) => events.push(e) }).catch((e: StepsFailedError) => e);
  assert.ok(error instanceof StepsFailedError);
  assert.equal(error.error.message, "the real problem");
  assert.equal(error.unwind.errors[0]?.error.message, "release failed");
  assert.ok(events.some((e) => e.type === "log" && e.message.includes("flaky release")));
});
