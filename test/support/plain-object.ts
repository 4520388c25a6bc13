/**
 * A class instance as a plain object of its own fields and bound methods, for tests that wrap a
 * few methods of a fake with object spread (spread copies own properties, not prototype methods).
 */
export function plainObject<T extends object>(instance: T): T {
  const methods: Record<string, unknown> = {};
  for (let proto = Object.getPrototypeOf(instance) as object | null; proto && proto !== Object.prototype; proto = Object.getPrototypeOf(proto) as object | null) {
    for (const name of Object.getOwnPropertyNames(proto)) {
      const value = (instance as Record<string, unknown>)[name];
      if (name !== "constructor" && typeof value === "function" && !(name in methods)) methods[name] = (value as (...args: unknown[]) => unknown).bind(instance);
    }
  }
  return { ...instance, ...methods } as T;
}
