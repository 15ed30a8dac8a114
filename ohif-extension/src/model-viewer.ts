/**
 * The 3D model view: a three.js renderer on a canvas, the GLB's segments lit and framed, orbit
 * and zoom with OrbitControls. Renders on demand (after a change or a control movement), not in
 * a loop, so an idle panel costs nothing.
 */
import {
  AmbientLight,
  Box3,
  Color,
  DirectionalLight,
  HemisphereLight,
  PerspectiveCamera,
  Scene,
  Sphere,
  Vector3,
  WebGLRenderer,
  type Object3D,
} from 'three';
import { OrbitControls } from 'three/examples/jsm/controls/OrbitControls.js';
import { GLTFLoader } from 'three/examples/jsm/loaders/GLTFLoader.js';
import { MeshoptDecoder } from 'three/examples/jsm/libs/meshopt_decoder.module.js';
import { ownMaterials, sceneSegments, setSegmentOpacity, setSegmentVisible, type SceneSegment } from './glb-segments.js';

/** The panel's background; tests tell the model from it. */
export const MODEL_BACKGROUND = 0x0b1030;

export class ModelViewer {
  readonly canvas: HTMLCanvasElement;
  readonly #renderer: WebGLRenderer;
  readonly #scene = new Scene();
  readonly #camera = new PerspectiveCamera(35, 1, 0.001, 100);
  readonly #controls: OrbitControls;
  readonly #resize: ResizeObserver;
  #model: Object3D | null = null;
  #segments: SceneSegment[] = [];
  #frame = 0;

  constructor(readonly container: HTMLElement) {
    this.canvas = document.createElement('canvas');
    this.canvas.style.display = 'block';
    this.canvas.style.width = '100%';
    this.canvas.style.height = '100%';
    this.canvas.dataset.limenModelCanvas = '';
    container.appendChild(this.canvas);
    // preserveDrawingBuffer: the image stays readable (screenshots, tests) after it is shown.
    this.#renderer = new WebGLRenderer({ canvas: this.canvas, antialias: true, preserveDrawingBuffer: true });
    this.#renderer.setPixelRatio(Math.min(globalThis.devicePixelRatio || 1, 2));
    this.#scene.background = new Color(MODEL_BACKGROUND);
    this.#scene.add(new HemisphereLight(0xffffff, 0x303040, 1.2), new AmbientLight(0xffffff, 0.25));
    const headlight = new DirectionalLight(0xffffff, 1.6);
    headlight.position.set(0.5, 1, 1);
    this.#camera.add(headlight);
    this.#scene.add(this.#camera);
    this.#controls = new OrbitControls(this.#camera, this.canvas);
    this.#controls.enableDamping = false;
    this.#controls.addEventListener('change', () => this.render());
    this.#resize = new ResizeObserver(() => this.#fit());
    this.#resize.observe(container);
    this.#fit();
  }

  /** Parses and shows a GLB; resolves with its segments. */
  async load(glb: ArrayBuffer): Promise<SceneSegment[]> {
    const loader = new GLTFLoader();
    loader.setMeshoptDecoder(MeshoptDecoder);
    const gltf = await loader.parseAsync(glb, '');
    if (this.#model) this.#scene.remove(this.#model);
    this.#model = gltf.scene;
    this.#segments = sceneSegments(gltf.scene);
    ownMaterials(this.#segments);
    this.#scene.add(gltf.scene);
    this.resetView();
    return this.#segments;
  }

  get segments(): readonly SceneSegment[] {
    return this.#segments;
  }

  setVisible(segmentNumber: number, visible: boolean): void {
    const s = this.#segments.find((x) => x.number === segmentNumber);
    if (s) setSegmentVisible(s, visible);
    this.render();
  }

  setOpacity(segmentNumber: number, opacity: number): void {
    const s = this.#segments.find((x) => x.number === segmentNumber);
    if (s) setSegmentOpacity(s, opacity);
    this.render();
  }

  /** Frames the whole model, seen from the patient's front (glTF +z is anterior). */
  resetView(): void {
    if (!this.#model) return this.render();
    const sphere = new Box3().setFromObject(this.#model).getBoundingSphere(new Sphere());
    const radius = sphere.radius > 0 ? sphere.radius : 0.1;
    const distance = radius / Math.sin((this.#camera.fov * Math.PI) / 360);
    this.#camera.near = distance / 100;
    this.#camera.far = distance * 100;
    this.#camera.position.copy(sphere.center).add(new Vector3(0, 0, distance * 1.1));
    this.#camera.up.set(0, 1, 0);
    this.#camera.updateProjectionMatrix();
    this.#controls.target.copy(sphere.center);
    this.#controls.update();
    this.render();
  }

  /** Draws on the next animation frame (several calls, one draw). */
  render(): void {
    if (this.#frame) return;
    this.#frame = requestAnimationFrame(() => {
      this.#frame = 0;
      this.#renderer.render(this.#scene, this.#camera);
    });
  }

  dispose(): void {
    cancelAnimationFrame(this.#frame);
    this.#resize.disconnect();
    this.#controls.dispose();
    this.#model?.traverse((o) => {
      const m = o as { geometry?: { dispose(): void }; material?: { dispose(): void } | { dispose(): void }[] };
      m.geometry?.dispose();
      if (Array.isArray(m.material)) m.material.forEach((x) => x.dispose());
      else m.material?.dispose();
    });
    this.#renderer.dispose();
    this.canvas.remove();
  }

  #fit(): void {
    const w = Math.max(1, this.container.clientWidth);
    const h = Math.max(1, this.container.clientHeight);
    this.#renderer.setSize(w, h, false);
    this.#camera.aspect = w / h;
    this.#camera.updateProjectionMatrix();
    this.render();
  }
}
