export { Actor } from './Actor';
export { Chips } from './Chips';
export { CompactTable, NameCell } from './CompactTable';
export type { CompactColumn } from './CompactTable';
export { Field, FieldGrid, Section } from './Field';
export { SpecRefLinks } from './SpecRefLinks';
export { Time } from './Time';
