import { useEffect, useState } from "react";

/**
 * False on the server and during hydration, true once React runs in the browser: widgets
 * render their no-JavaScript form first and swap to the enhanced behaviour after this.
 */
export function useHydrated(): boolean {
  const [hydrated, setHydrated] = useState(false);
  useEffect(() => {
    setHydrated(true);
  }, []);
  return hydrated;
}
