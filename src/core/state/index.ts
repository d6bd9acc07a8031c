/** Terraform state recovery: versions, diff, roll-forward restore, local fallback and return. */
export * from './model';
export * from './versions';
export * from './diff';
export * from './location';
export * from './safety';
export * from './terraform';
export * from './restore';
export * from './fallback';
