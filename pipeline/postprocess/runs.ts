/**
 * 6-connected components by runs: each row (fixed y and z) of a label map is cut into runs of
 * voxels that belong to a set of labels; runs that overlap a run of the row before (y − 1) or of
 * the slice before (z − 1) join it in a union-find. One sequential pass over the voxels, then work
 * proportional to the number of runs: far faster than a voxel flood, iterative, and its memory is
 * 12 bytes per run (typically a few runs per row) instead of a byte per voxel.
 */

/** The runs of one voxel set and their components. */
export interface RunComponents {
  count: number;
  /** First voxel index of each run. */
  start: Int32Array;
  /** One past the last voxel index of each run. */
  end: Int32Array;
  /** Row (y + ny · z) of each run. */
  row: Int32Array;
  /** Component root of each run (a run index); `root[r] === r` for roots. */
  root: Int32Array;
}

class RunList {
  start: Int32Array<ArrayBuffer> = new Int32Array(1 << 16);
  end: Int32Array<ArrayBuffer> = new Int32Array(1 << 16);
  row: Int32Array<ArrayBuffer> = new Int32Array(1 << 16);
  count = 0;

  push(s: number, e: number, r: number): void {
    if (this.count === this.start.length) {
      const grow = (a: Int32Array): Int32Array<ArrayBuffer> => {
        const b = new Int32Array(a.length * 2);
        b.set(a);
        return b;
      };
      this.start = grow(this.start);
      this.end = grow(this.end);
      this.row = grow(this.row);
    }
    this.start[this.count] = s;
    this.end[this.count] = e;
    this.row[this.count] = r;
    this.count++;
  }
}

function find(parent: Int32Array, i: number): number {
  while (parent[i] !== i) {
    parent[i] = parent[parent[i]];
    i = parent[i];
  }
  return i;
}

function union(parent: Int32Array, a: number, b: number): void {
  const ra = find(parent, a);
  const rb = find(parent, b);
  // The smaller index becomes the root, so roots are deterministic.
  if (ra < rb) parent[rb] = ra;
  else if (rb < ra) parent[ra] = rb;
}

/**
 * Components of the voxels whose label `l` has `member[l] === 1`. With `acrossSlices` false,
 * runs join only within their slice (z), giving each slice's 2D components.
 */
export function runComponents(labels: Uint8Array, dims: readonly [number, number, number], member: Uint8Array, acrossSlices = true): RunComponents {
  const [nx, ny, nz] = dims;
  const rows = ny * nz;
  const runs = new RunList();
  // First run of each row, and one past the last (rowFirst[r + 1]).
  const rowFirst = new Int32Array(rows + 1);
  for (let r = 0; r < rows; r++) {
    rowFirst[r] = runs.count;
    const base = r * nx;
    let x = 0;
    while (x < nx) {
      while (x < nx && member[labels[base + x]] !== 1) x++;
      if (x === nx) break;
      const s = x;
      while (x < nx && member[labels[base + x]] === 1) x++;
      runs.push(base + s, base + x, r);
    }
  }
  rowFirst[rows] = runs.count;
  const parent = new Int32Array(runs.count);
  for (let i = 0; i < runs.count; i++) parent[i] = i;
  const joinRows = (r: number, q: number, shift: number): void => {
    // Runs of row r against runs of row q (whose voxel indices are `shift` lower), both sorted.
    let i = rowFirst[r];
    let j = rowFirst[q];
    const iEnd = rowFirst[r + 1];
    const jEnd = rowFirst[q + 1];
    while (i < iEnd && j < jEnd) {
      const s1 = runs.start[i] - shift;
      const e1 = runs.end[i] - shift;
      const s2 = runs.start[j];
      const e2 = runs.end[j];
      if (s1 < e2 && s2 < e1) union(parent, i, j);
      if (e1 < e2) i++;
      else j++;
    }
  };
  for (let r = 0; r < rows; r++) {
    if (rowFirst[r] === rowFirst[r + 1]) continue;
    const y = r % ny;
    if (y > 0) joinRows(r, r - 1, nx);
    if (acrossSlices && r >= ny) joinRows(r, r - ny, nx * ny);
  }
  for (let i = 0; i < runs.count; i++) parent[i] = find(parent, i);
  return {
    count: runs.count,
    start: runs.start.subarray(0, runs.count),
    end: runs.end.subarray(0, runs.count),
    row: runs.row.subarray(0, runs.count),
    root: parent,
  };
}
