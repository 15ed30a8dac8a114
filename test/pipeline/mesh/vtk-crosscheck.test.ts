/**
 * Cross-check against VTK (Debian python3-vtk9): on the same mask and grid, VTK's flying edges at
 * iso-value 0.5 must put its vertices exactly where ours are (one per crossed grid edge, at its
 * midpoint), and enclose the same volume up to the different handling of ambiguous faces.
 */
import { expect } from 'chai';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { extractSurface, measureMesh } from '../../../pipeline/mesh/index.js';
import { requirePeers, runPeer } from '../../support/peers.js';
import { axialGeometry, blobbyMask, type Dims } from './masks.js';

const SCRIPT = `
import sys, numpy as np, vtk
from vtk.util import numpy_support as ns
path, nx, ny, nz, sx, sy, sz, ox, oy, oz = sys.argv[1], *map(int, sys.argv[2:5]), *map(float, sys.argv[5:11])
a = np.fromfile(path + '/mask.raw', dtype=np.uint8)
img = vtk.vtkImageData(); img.SetDimensions(nx, ny, nz); img.SetSpacing(sx, sy, sz); img.SetOrigin(ox, oy, oz)
img.GetPointData().SetScalars(ns.numpy_to_vtk(a, deep=1, array_type=vtk.VTK_UNSIGNED_CHAR))
pad = vtk.vtkImageConstantPad(); pad.SetInputData(img); pad.SetConstant(0)
pad.SetOutputWholeExtent(-1, nx, -1, ny, -1, nz)
fe = vtk.vtkFlyingEdges3D(); fe.SetInputConnection(pad.GetOutputPort()); fe.SetValue(0, 0.5); fe.ComputeNormalsOff(); fe.Update()
out = fe.GetOutput()
mp = vtk.vtkMassProperties(); mp.SetInputData(out); mp.Update()
ns.vtk_to_numpy(out.GetPoints().GetData()).astype(np.float64).tofile(path + '/points.f64')
print(mp.GetVolume(), out.GetNumberOfPolys())
`;

describe('pipeline/mesh cross-check with VTK flying edges', () => {
  before(function () {
    requirePeers(this, 'python3-vtk9');
  });

  it('places the same vertices and encloses the same volume as vtkFlyingEdges3D', async () => {
    const dims: Dims = [30, 26, 20];
    const spacing: [number, number, number] = [0.7, 0.8, 1.5];
    const origin: [number, number, number] = [-100.5, 20.25, -310];
    const mask = blobbyMask(dims, 12, 21);
    const ours = extractSurface(mask, axialGeometry(dims, spacing, origin));
    const dir = await mkdtemp(join(tmpdir(), 'limen-vtk-'));
    try {
      await writeFile(join(dir, 'mask.raw'), mask);
      const run = runPeer('/usr/bin/python3', ['-c', SCRIPT, dir, ...dims.map(String), ...spacing.map(String), ...origin.map(String)]);
      expect(run.status, run.stderr).to.equal(0);
      const [vtkVolume, vtkTriangles] = run.stdout.trim().split(/\s+/).map(Number);
      const raw = await readFile(join(dir, 'points.f64'));
      const points = new Float64Array(raw.buffer, raw.byteOffset, raw.byteLength / 8);
      const key = (x: number, y: number, z: number): string => `${x.toFixed(3)},${y.toFixed(3)},${z.toFixed(3)}`;
      const theirs = new Set<string>();
      for (let i = 0; i < points.length; i += 3) theirs.add(key(points[i], points[i + 1], points[i + 2]));
      const mine = new Set<string>();
      for (let i = 0; i < ours.positions.length; i += 3) mine.add(key(ours.positions[i], ours.positions[i + 1], ours.positions[i + 2]));
      expect(mine.size).to.equal(ours.positions.length / 3);
      expect(mine.size).to.equal(theirs.size);
      for (const k of mine) expect(theirs.has(k), k).to.equal(true);
      const volume = measureMesh(ours).signedVolumeMm3;
      expect(Math.abs(volume - vtkVolume) / vtkVolume).to.be.lessThan(0.005);
      expect(Math.abs(ours.indices.length / 3 - vtkTriangles) / vtkTriangles).to.be.lessThan(0.02);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
