/**
 * Collects the keys requested while one GraphQL level resolves and loads them with one query,
 * so a page of 100 runs costs one lookup per field instead of 100.
 */
export function createBatchLoader<K, V>(
  loadMany: (keys: K[]) => Promise<Map<K, V>>,
): (key: K) => Promise<V | undefined> {
  let pending: {
    key: K;
    resolve: (value: V | undefined) => void;
    reject: (error: unknown) => void;
  }[] = [];

  const dispatch = () => {
    const batch = pending;
    pending = [];
    const keys = [...new Set(batch.map((entry) => entry.key))];
    loadMany(keys).then(
      (values) => {
        for (const entry of batch) entry.resolve(values.get(entry.key));
      },
      (error: unknown) => {
        for (const entry of batch) entry.reject(error);
      },
    );
  };

  return (key: K) =>
    new Promise<V | undefined>((resolve, reject) => {
      if (pending.length === 0) setImmediate(dispatch);
      pending.push({ key, resolve, reject });
    });
}
