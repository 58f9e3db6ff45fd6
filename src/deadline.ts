// A check that must answer in bounded time: /readyz and the store's readiness probe.

/** Resolves false after ms unless `check` settles first (its own result, or false on error). */
export function within(check: Promise<boolean>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  return Promise.race([check.catch(() => false), late]).finally(() => clearTimeout(timer));
}
