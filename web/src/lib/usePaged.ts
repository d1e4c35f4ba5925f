import { useCallback, useEffect, useState } from "react";
import type { Page } from "../api/types";

/**
 * A list read page by page with the API's cursors: the first page on mount, the next on
 * `load(cursor)`. `fetchPage` must be stable (wrap it in useCallback).
 */
export function usePaged<T>(fetchPage: (after: string | null) => Promise<Page<T>>) {
  const [items, setItems] = useState<T[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<unknown>(null);

  const load = useCallback(
    async (after: string | null) => {
      setLoading(true);
      setError(null);
      try {
        const page = await fetchPage(after);
        setItems((prev) => (after ? [...prev, ...page.items] : page.items));
        setCursor(page.next_cursor);
      } catch (err) {
        setError(err);
      } finally {
        setLoading(false);
      }
    },
    [fetchPage],
  );

  useEffect(() => {
    void load(null);
  }, [load]);

  return { items, setItems, cursor, loading, error, setError, load };
}
