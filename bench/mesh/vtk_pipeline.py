"""VTK's side of the meshing benchmark (Debian python3-vtk9, run with /usr/bin/python3).

Same mask, same grid: vtkFlyingEdges3D on one thread (sequential SMP backend), then
vtkWindowedSincPolyDataFilter with the same order and pass band, then vtkQuadricDecimation to the
same ratio. The mask is padded by one empty voxel first (outside the timing) so surfaces touching
the volume border close, as ours do. Prints one JSON line; writes the meshes for the error pass.

Usage: python3 vtk_pipeline.py <work-dir> <runs> <decimation-runs> <iterations> <pass-band> <ratio>
"""
import json
import resource
import statistics
import sys
import time

import numpy as np
import vtk
from vtk.util import numpy_support as ns

work, runs, dec_runs, iterations, pass_band, ratio = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5]), float(sys.argv[6])
geometry = json.load(open(work + '/geometry.json'))
nx, ny, nz = geometry['dims']
vtk.vtkSMPTools.SetBackend('Sequential')

mask = np.fromfile(work + '/mask.raw', dtype=np.uint8)
image = vtk.vtkImageData()
image.SetDimensions(nx, ny, nz)
image.SetSpacing(*geometry['spacing'])
image.SetOrigin(*geometry['imagePositionPatient'])  # axial, identity orientation
image.GetPointData().SetScalars(ns.numpy_to_vtk(mask, deep=1, array_type=vtk.VTK_UNSIGNED_CHAR))
pad = vtk.vtkImageConstantPad()
pad.SetInputData(image)
pad.SetConstant(0)
pad.SetOutputWholeExtent(-1, nx, -1, ny, -1, nz)
pad.Update()
padded = pad.GetOutput()


def timed(f):
    c = time.process_time()
    t = time.perf_counter()
    r = f()
    return r, time.perf_counter() - t, time.process_time() - c


def extract():
    fe = vtk.vtkFlyingEdges3D()
    fe.SetInputData(padded)
    fe.SetValue(0, 0.5)
    fe.ComputeNormalsOff()
    fe.ComputeGradientsOff()
    fe.ComputeScalarsOff()
    fe.Update()
    return fe.GetOutput()


def smooth(mesh):
    f = vtk.vtkWindowedSincPolyDataFilter()
    f.SetInputData(mesh)
    f.SetNumberOfIterations(iterations)
    f.SetPassBand(pass_band)
    f.BoundarySmoothingOff()
    f.FeatureEdgeSmoothingOff()
    f.NonManifoldSmoothingOn()
    f.NormalizeCoordinatesOn()
    f.Update()
    return f.GetOutput()


def decimate(mesh):
    f = vtk.vtkQuadricDecimation()
    f.SetInputData(mesh)
    f.SetTargetReduction(1 - ratio)
    f.Update()
    return f.GetOutput()


def volume(mesh):
    m = vtk.vtkMassProperties()
    m.SetInputData(mesh)
    m.Update()
    return m.GetVolume() / 1000


def write(name, mesh):
    ns.vtk_to_numpy(mesh.GetPoints().GetData()).astype(np.float32).tofile(f'{work}/{name}.pos.f32')
    polys = ns.vtk_to_numpy(mesh.GetPolys().GetConnectivityArray()).astype(np.uint32)
    polys.tofile(f'{work}/{name}.idx.u32')


ex, sm, de = [], [], []
cpu = {'extract': [], 'smooth': [], 'decimate': []}
for r in range(runs):
    extracted, t, c = timed(extract)
    ex.append(t)
    cpu['extract'].append(c)
    smoothed, t, c = timed(lambda: smooth(extracted))
    sm.append(t)
    cpu['smooth'].append(c)
    if r < dec_runs:
        decimated, t, c = timed(lambda: decimate(smoothed))
        de.append(t)
        cpu['decimate'].append(c)

# With no decimation runs (a later round of an interleaved benchmark) only extraction and
# smoothing are timed, and the meshes of the round that decimated are kept.
decimating = dec_runs > 0
if decimating:
    write('vtk-extracted', extracted)
    write('vtk-smoothed', smoothed)
    write('vtk-decimated', decimated)
summary = lambda xs: {'median': statistics.median(xs), 'first': xs[0], 'runs': xs} if xs else None
print(json.dumps({
    'extractS': summary(ex),
    'smoothS': summary(sm),
    'decimateS': summary(de),
    'cpuS': {k: statistics.median(v) for k, v in cpu.items() if v},
    'cpuRunsS': cpu,
    'triangles': {'extracted': extracted.GetNumberOfPolys(), 'decimated': decimated.GetNumberOfPolys() if decimating else None},
    'volumeMl': {'extracted': volume(extracted), 'smoothed': volume(smoothed), 'decimated': volume(decimated) if decimating else None},
    'peakRssMb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    'vtkVersion': vtk.vtkVersion.GetVTKVersion(),
}))
