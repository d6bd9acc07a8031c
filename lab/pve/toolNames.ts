/** The commands a simulated node provides (shims in its bin dir). */
export const TOOL_NAMES = ['pvesh', 'qm', 'pct', 'qmrestore', 'vzdump', 'pvesm', 'vma'] as const;
