import { ReactNode } from 'react';
import Table from '@material-ui/core/Table';
import TableBody from '@material-ui/core/TableBody';
import TableCell from '@material-ui/core/TableCell';
import TableHead from '@material-ui/core/TableHead';
import TableRow from '@material-ui/core/TableRow';
import Typography from '@material-ui/core/Typography';

export interface CompactColumn<T> {
  title: string;
  render: (row: T) => ReactNode;
}

/**
 * A small read-only table for lists inside a card (schema fields, checks,
 * steps), where core-components' Table with its toolbar and paging would be
 * a card within a card.
 */
export function CompactTable<T>(props: {
  label: string;
  columns: CompactColumn<T>[];
  rows: ReadonlyArray<T>;
  rowKey: (row: T, index: number) => string;
}) {
  const { label, columns, rows, rowKey } = props;
  return (
    <Table size="small" aria-label={label}>
      <TableHead>
        <TableRow>
          {columns.map(column => (
            <TableCell key={column.title}>{column.title}</TableCell>
          ))}
        </TableRow>
      </TableHead>
      <TableBody>
        {rows.map((row, index) => (
          <TableRow key={rowKey(row, index)}>
            {columns.map(column => (
              <TableCell key={column.title}>{column.render(row)}</TableCell>
            ))}
          </TableRow>
        ))}
      </TableBody>
    </Table>
  );
}

/** A cell naming a row (a schema field, a step) with its optional description. */
export function NameCell(props: { name: string; description?: string }) {
  return (
    <>
      <code>{props.name}</code>
      {props.description && (
        <Typography variant="body2" color="textSecondary">
          {props.description}
        </Typography>
      )}
    </>
  );
}
