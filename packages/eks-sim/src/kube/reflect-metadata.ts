// @peculiar/x509 wires its algorithms through tsyringe, which refuses to load without the
// Reflect metadata API (normally the `reflect-metadata` package). x509 never reads decorator type
// metadata, so this small stand-in, covering the three calls tsyringe makes, is enough and spares a
// dependency. It must be imported before @peculiar/x509.
type MetadataTarget = object;

const store = new WeakMap<MetadataTarget, Map<unknown, unknown>>();

function getOwnMetadata(key: unknown, target: MetadataTarget): unknown {
  return store.get(target)?.get(key);
}

function getMetadata(key: unknown, target: MetadataTarget): unknown {
  for (
    let t: MetadataTarget | null = target;
    t !== null;
    t = Object.getPrototypeOf(t) as MetadataTarget | null
  ) {
    const map = store.get(t);
    if (map?.has(key)) return map.get(key);
  }
  return undefined;
}

function defineMetadata(key: unknown, value: unknown, target: MetadataTarget): void {
  let map = store.get(target);
  if (!map) store.set(target, (map = new Map()));
  map.set(key, value);
}

const reflect = Reflect as unknown as Record<string, unknown>;
if (typeof reflect.getMetadata !== 'function') {
  reflect.getMetadata = getMetadata;
  reflect.getOwnMetadata = getOwnMetadata;
  reflect.defineMetadata = defineMetadata;
}
