export { TargetColumnPicker, validateTargetColumn } from './TargetColumnPicker';
export type { TargetColumnPickerUiOptions } from './TargetColumnPicker';
export { targetColumnProblem } from './targetColumns';
