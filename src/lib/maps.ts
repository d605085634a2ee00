/**
 * The value under `key`, created by `make` and stored first when there is none
 * (the TC39 upsert proposal's `getOrInsertComputed`, until runtimes ship it).
 */
export function getOrInsertComputed<K, V>(map: Map<K, V>, key: K, make: () => V): V;
export function getOrInsertComputed<K extends WeakKey, V>(map: WeakMap<K, V>, key: K, make: () => V): V;
export function getOrInsertComputed<K extends WeakKey, V>(map: Map<K, V> | WeakMap<K, V>, key: K, make: () => V): V {
  if (map.has(key)) return map.get(key) as V;
  const value = make();
  map.set(key, value);
  return value;
}
