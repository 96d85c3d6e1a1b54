// Handing a value to the application's listeners: one that throws must not keep the others, or the
// client's own bookkeeping (the events delivered, a catch-up under way), from going on.

export type Listener<T> = (value: T) => void;

/**
 * Calls each listener with `value`. An error a listener throws goes to `onError`, else is reported
 * as an uncaught error afterwards (the browser's console, Node's uncaughtException), as EventTarget
 * does; the other listeners still run.
 */
export function deliver<T>(
  listeners: Iterable<Listener<T>>,
  value: T,
  onError: (err: unknown) => void = rethrowLater,
): void {
  for (const fn of listeners) {
    try {
      fn(value);
    } catch (err) {
      onError(err);
    }
  }
}

function rethrowLater(err: unknown): void {
  setTimeout(() => {
    throw err;
  });
}
