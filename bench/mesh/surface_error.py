"""Decimation error of both pipelines, measured the same way (VTK cell locators).

For each pipeline: distances from every decimated vertex to that pipeline's own smoothed surface,
and from (a sample of) the smoothed vertices to the decimated surface; mean, 95th percentile and
maximum of each, and their larger maximum (a sampled symmetric Hausdorff distance).

Usage: python3 surface_error.py <work-dir> <name> [<name>...]   (names: ours, vtk)
"""
import json
import sys

import numpy as np
import vtk
from vtk.util import numpy_support as ns

work = sys.argv[1]


def load(name):
    p = np.fromfile(f'{work}/{name}.pos.f32', dtype=np.float32).reshape(-1, 3).astype(np.float64)
    t = np.fromfile(f'{work}/{name}.idx.u32', dtype=np.uint32).reshape(-1, 3).astype(np.int64)
    points = vtk.vtkPoints()
    points.SetData(ns.numpy_to_vtk(p, deep=1))
    cells = np.hstack([np.full((t.shape[0], 1), 3, dtype=np.int64), t]).ravel()
    polys = vtk.vtkCellArray()
    polys.SetCells(t.shape[0], ns.numpy_to_vtkIdTypeArray(cells, deep=1))
    mesh = vtk.vtkPolyData()
    mesh.SetPoints(points)
    mesh.SetPolys(polys)
    return mesh, p


def distances(points, surface):
    locator = vtk.vtkStaticCellLocator()
    locator.SetDataSet(surface)
    locator.BuildLocator()
    closest = [0.0, 0.0, 0.0]
    cell, sub, d2 = vtk.mutable(0), vtk.mutable(0), vtk.mutable(0.0)
    out = np.empty(len(points))
    for i, q in enumerate(points):
        locator.FindClosestPoint(q, closest, cell, sub, d2)
        out[i] = float(d2) ** 0.5
    return out


def stats(d):
    return {'mean': float(d.mean()), 'p95': float(np.percentile(d, 95)), 'max': float(d.max()), 'samples': int(len(d))}


result = {}
for name in sys.argv[2:]:
    smoothed, sp = load(f'{name}-smoothed')
    decimated, dp = load(f'{name}-decimated')
    forward = distances(dp, smoothed)
    step = max(1, len(sp) // 200000)
    backward = distances(sp[::step], decimated)
    result[name] = {
        'decimatedToSmoothedMm': stats(forward),
        'smoothedToDecimatedMm': stats(backward),
        'hausdorffMm': max(float(forward.max()), float(backward.max())),
    }
print(json.dumps(result))
