// Resolved instead of the real 'execa' package by tsconfig.core.json / tsconfig.node.json: importing it
// from a layer that must not use it fails the type check with the message below.
const layerViolation: 'This layer must not import execa (see docs/architecture.md).' = 'forbidden';
export default layerViolation;
