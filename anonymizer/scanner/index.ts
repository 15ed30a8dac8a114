export { scanResidualPhi, needlesOf, type ResidualHit, type ScanOptions } from './residual-phi.js';
