/**
 * Loads a TypeScript module by absolute URL through tsx's `tsImport`, for the dynamic providers:
 * the Pulumi engine serialises a provider and runs it in a plain Node host without a TypeScript
 * loader, so a provider captures only this loader and the URL (a string), never imported modules.
 */
export function tsModule<T>(url: string): () => Promise<T> {
  return async () => {
    const { tsImport } = await import("tsx/esm/api");
    return (await tsImport(url, url)) as T;
  };
}
