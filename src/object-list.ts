/**
 * An empty array whose elements are objects from its birth. V8 starts an empty `[]` with
 * small-integer elements and moves it to object elements at its first object, so the arrays of
 * a new session have another layout ("map") than those of the sessions before it, which the
 * optimized frame path was compiled for: each new publisher then threw that code away and V8
 * compiled it again (`bench/RESULTS.md`, session 19). An array made here has the steady layout
 * from the start. Elsewhere (JavaScriptCore) it is just an empty array.
 */
export function objectList<T>(): T[] {
  const a: (T | null)[] = [null];
  a.pop();
  return a as T[];
}

/**
 * An array of `length` empty slots (`undefined`) with object elements from its birth, for a
 * table read and written at any index below `length` (see `objectList`).
 */
export function objectTable<T>(length: number): (T | undefined)[] {
  return new Array<T | undefined>(length).fill(undefined);
}
