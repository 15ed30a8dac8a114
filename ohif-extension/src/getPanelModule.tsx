/**
 * The panel module: the review panel and the 3D panel, each rendered by OHIF as a bridge that
 * mounts the extension's own React root (see bridge.ts).
 */
import { bridgePanel } from './bridge.js';
import type { LimenContext } from './context.js';
import { PANEL_MODEL3D, PANEL_REVIEW } from './id.js';
import { Model3DPanel, type Model3DPanelProps } from './panels/Model3DPanel.js';
import { ReviewPanel } from './panels/ReviewPanel.js';

export function getPanelModule(ctx: LimenContext) {
  const Review = bridgePanel<Record<string, unknown>>(PANEL_REVIEW, () => <ReviewPanel ctx={ctx} />);
  const Model3D = bridgePanel<Partial<Omit<Model3DPanelProps, 'ctx'>>>(PANEL_MODEL3D, (props) => (
    <Model3DPanel ctx={ctx} studyInstanceUID={typeof props.studyInstanceUID === 'string' ? props.studyInstanceUID : undefined} />
  ));
  return [
    { name: PANEL_REVIEW, iconName: 'tab-patient-info', iconLabel: 'Review', label: 'AI review', component: Review },
    { name: PANEL_MODEL3D, iconName: 'tool-3d-rotate', iconLabel: '3D', label: '3D model', component: Model3D },
  ];
}
