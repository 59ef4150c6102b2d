/**
 * JSON Merge Patch (RFC 7396 §2): a member set to null is removed, an object merges member by
 * member, anything else replaces. Written out rather than taken from a library: it is the RFC's
 * ten-line algorithm, and the input has already been parsed by the JSON parser that refuses
 * `__proto__` and `constructor.prototype` keys. Results are built as fresh plain objects.
 */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue }

function isJsonObject(value: unknown): value is Record<string, JsonValue> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

export function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (!isJsonObject(patch)) return patch
  const result: Record<string, unknown> = {}
  if (isJsonObject(target)) {
    for (const key of Object.keys(target))
      Object.defineProperty(result, key, { value: target[key], enumerable: true, writable: true, configurable: true })
  }
  for (const key of Object.keys(patch)) {
    const value = patch[key]
    if (value === null) {
      delete result[key]
      continue
    }
    const merged = applyMergePatch(Object.hasOwn(result, key) ? result[key] : undefined, value)
    Object.defineProperty(result, key, { value: merged, enumerable: true, writable: true, configurable: true })
  }
  return result
}
