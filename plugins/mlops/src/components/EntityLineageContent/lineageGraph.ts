import type {
  LineageDatasetVersion,
  LineageField,
  LineageNode,
} from '@loopline/mlops-common';

export type LineageDirection = 'both' | 'upstream' | 'downstream';

/**
 * The nodes reachable from `start` following edges one way (upstream: in
 * edges; downstream: out edges), or all of them for `both`.
 */
export function filterByDirection(
  graph: LineageNode[],
  start: string | null,
  direction: LineageDirection,
): LineageNode[] {
  if (direction === 'both' || !start) {
    return graph;
  }
  const byId = new Map(graph.map(node => [node.id, node]));
  const keep = new Set<string>([start]);
  const queue = [start];
  while (queue.length > 0) {
    const node = byId.get(queue.shift()!);
    if (!node) continue;
    const edges = direction === 'upstream' ? node.inEdges : node.outEdges;
    for (const edge of edges) {
      const next = direction === 'upstream' ? edge.origin : edge.destination;
      if (!keep.has(next)) {
        keep.add(next);
        queue.push(next);
      }
    }
  }
  return graph.filter(node => keep.has(node.id));
}

/** The edges among the given nodes, once each. */
export function edgesOf(
  nodes: LineageNode[],
): Array<{ from: string; to: string }> {
  const ids = new Set(nodes.map(n => n.id));
  const seen = new Set<string>();
  const edges: Array<{ from: string; to: string }> = [];
  for (const node of nodes) {
    for (const edge of [...node.inEdges, ...node.outEdges]) {
      const key = `${edge.origin}->${edge.destination}`;
      if (ids.has(edge.origin) && ids.has(edge.destination) && !seen.has(key)) {
        seen.add(key);
        edges.push({ from: edge.origin, to: edge.destination });
      }
    }
  }
  return edges;
}

/** `dataset:ns:name` → its name (namespaces may contain `:`; the node's data has both). */
export function nodeLabel(node: LineageNode): {
  name: string;
  namespace: string;
} {
  const data = node.data as { namespace?: string; name?: string };
  return { name: data.name ?? node.id, namespace: data.namespace ?? '' };
}

/**
 * What changed in the schema from one version to the next: fields added,
 * removed, or whose type changed. Empty when nothing did.
 */
export function schemaChanges(
  previous: LineageField[] | undefined,
  current: LineageField[],
): string[] {
  if (!previous) {
    return [];
  }
  const before = new Map(previous.map(f => [f.name, f.type]));
  const after = new Map(current.map(f => [f.name, f.type]));
  const changes: string[] = [];
  for (const [name, type] of after) {
    if (!before.has(name)) {
      changes.push(`+${name}`);
    } else if (before.get(name) !== type) {
      changes.push(`${name}: ${before.get(name) ?? '?'} → ${type ?? '?'}`);
    }
  }
  for (const name of before.keys()) {
    if (!after.has(name)) {
      changes.push(`−${name}`);
    }
  }
  return changes;
}

/** Versions newest first, each with its schema changes against the one before it. */
export function withSchemaChanges(
  versions: LineageDatasetVersion[],
): Array<LineageDatasetVersion & { changes: string[] }> {
  return versions.map((version, index) => ({
    ...version,
    changes: schemaChanges(versions[index + 1]?.fields, version.fields),
  }));
}
