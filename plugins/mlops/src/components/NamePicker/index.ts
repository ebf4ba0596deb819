export { NamePicker, validateName } from './NamePicker';
export type { NamePickerUiOptions } from './nameProblems';
