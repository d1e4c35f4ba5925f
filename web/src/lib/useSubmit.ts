import { useState } from "react";
import type { FormEvent } from "react";

/**
 * A form's submit handler: busy while `action` runs, its error kept for the form to show. On
 * success the form stays busy: `action` navigates away.
 */
export function useSubmit(action: () => Promise<void>) {
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await action();
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };
  return { busy, error, submit };
}
