/**
 * Level-of-detail selection shared by terrain tiles and point-cloud tiles: one quadtree over a layer's
 * bounds (level L has 2**L x 2**L tiles, x from the west, y from the north, like the server's), refined
 * where the camera needs it, under a budget.
 */

export interface ITileKey {
  level: number;
  x: number;
  y: number;
}

export interface ILodOptions {
  /** samples across a tile: its ground spacing is the tile's width / samples */
  samples: number;
  /** refine a tile whose spacing covers more than this many pixels (after the distance falloff) */
  pixels?: number;
  /** the most the selected tiles may cost in all (a tile count, or points) */
  budget: number;
  /** what one tile costs (default 1) */
  cost?: (key: ITileKey) => number;
}

export interface ILodSelection {
  /** the finest selected tiles: they cover the layer once (terrain draws these) */
  leaves: ITileKey[];
  /** the leaves and all their ancestors, coarse first (point clouds, whose levels add up, draw these) */
  nodes: ITileKey[];
}

export function tileId(key: ITileKey): string {
  return `${key.level}/${key.x}/${key.y}`;
}

/**
 * Tiles to draw for a camera looking at ``view.target`` with ``2**view.zoom`` pixels per metre: starting
 * from the root, the leaf whose samples cover the most pixels is split into its 4 children, as long as it
 * covers more than ``pixels`` and the children fit in the budget. A tile's pixels fall off with its distance
 * from the target (the orbit view looks at the target; far tiles are seen at a grazing angle).
 */
export function selectTiles(
  bounds: [number, number, number, number],
  origin: [number, number],
  levels: number,
  view: { target: number[]; zoom: number },
  options: ILodOptions
): ILodSelection {
  const [w, s, e, n] = bounds;
  const scale = Math.pow(2, view.zoom);
  const target = view.target;
  const pixels = options.pixels ?? 3;
  const cost = options.cost ?? ((): number => 1);
  const score = (key: ITileKey): number => {
    const tiles = Math.pow(2, key.level);
    const tw = (e - w) / tiles;
    const th = (n - s) / tiles;
    const cx = w + (key.x + 0.5) * tw - origin[0];
    const cy = n - (key.y + 0.5) * th - origin[1];
    const distance = Math.max(Math.hypot(cx - target[0], cy - target[1]) - Math.max(tw, th) / 2, 0);
    const falloff = 1 / (1 + (distance * scale) / 600);
    return (Math.max(tw, th) / options.samples) * scale * falloff;
  };
  const root = { level: 0, x: 0, y: 0 };
  const nodes: ITileKey[] = [root];
  let leaves: { key: ITileKey; score: number }[] = [{ key: root, score: score(root) }];
  let spent = cost(root);
  for (;;) {
    let best = -1;
    for (let i = 0; i < leaves.length; i++) {
      const leaf = leaves[i];
      if (leaf.key.level + 1 < levels && leaf.score > pixels && (best < 0 || leaf.score > leaves[best].score)) {
        best = i;
      }
    }
    if (best < 0) {
      break;
    }
    const { key } = leaves[best];
    const children = [[0, 0], [1, 0], [0, 1], [1, 1]].map(([dx, dy]) => ({
      level: key.level + 1,
      x: key.x * 2 + dx,
      y: key.y * 2 + dy
    }));
    const extra = children.reduce((sum, child) => sum + cost(child), 0);
    if (spent + extra > options.budget) {
      leaves[best] = { key, score: 0 }; // over budget: this tile stays a leaf
      continue;
    }
    spent += extra;
    nodes.push(...children);
    leaves = leaves.filter((_, i) => i !== best).concat(children.map(child => ({ key: child, score: score(child) })));
  }
  nodes.sort((a, b) => a.level - b.level);
  return { leaves: leaves.map(leaf => leaf.key), nodes };
}
