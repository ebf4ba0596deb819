import {
  DATASET_KIND,
  DatasetEntityV1alpha1,
  DatasetExpectation,
  DatasetField,
} from '@loopline/mlops-common';
import {
  CompactColumn,
  CompactTable,
  Field,
  FieldGrid,
  NameCell,
  Section,
  SpecRefLinks,
} from '../fields';
import { CommonFields } from './CommonFields';

const schemaColumns: CompactColumn<DatasetField>[] = [
  {
    title: 'Field',
    render: field => (
      <NameCell name={field.name} description={field.description} />
    ),
  },
  { title: 'Type', render: field => field.type },
  { title: 'Role', render: field => field.role },
  { title: 'Nullable', render: field => (field.nullable ? 'yes' : 'no') },
];

/** What an expectation requires of its column, e.g. "between 2.5 and 4.5". */
export function describeExpectation(expectation: DatasetExpectation): string {
  const { min, max, values, regex, mostly } = expectation;
  const parts: string[] = [];
  if (min !== undefined && max !== undefined) {
    parts.push(`between ${min} and ${max}`);
  } else if (min !== undefined) {
    parts.push(`at least ${min}`);
  } else if (max !== undefined) {
    parts.push(`at most ${max}`);
  }
  if (values) {
    parts.push(`one of ${values.join(', ')}`);
  }
  if (regex) {
    parts.push(`matches /${regex}/`);
  }
  if (mostly !== undefined) {
    parts.push(`for ${mostly * 100}% of rows`);
  }
  return parts.join(', ');
}

const expectationColumns: CompactColumn<DatasetExpectation>[] = [
  { title: 'Check', render: expectation => <code>{expectation.type}</code> },
  { title: 'Column', render: expectation => expectation.column },
  { title: 'Condition', render: describeExpectation },
];

export function DatasetOverview(props: { entity: DatasetEntityV1alpha1 }) {
  const { entity } = props;
  const { spec } = entity;
  const fields = spec.schema?.fields ?? [];
  const expectations = spec.expectations ?? [];
  return (
    <>
      <FieldGrid>
        <Field label="Type" value={spec.type} />
        <Field label="Format" value={spec.format} />
        <Field label="Freshness (max age)" value={spec.freshness?.maxAge} />
        <CommonFields entity={entity} />
        <Field
          label="Derived from"
          value={
            spec.derivedFrom && (
              <SpecRefLinks
                refs={spec.derivedFrom}
                defaultKind={DATASET_KIND}
              />
            )
          }
        />
        <Field label="Location" value={spec.location} fullWidth />
      </FieldGrid>
      {fields.length > 0 && (
        <Section title={`Schema (${fields.length} fields)`}>
          <CompactTable
            label="Schema"
            columns={schemaColumns}
            rows={fields}
            rowKey={field => field.name}
          />
        </Section>
      )}
      {expectations.length > 0 && (
        <Section title="Expectations">
          <CompactTable
            label="Expectations"
            columns={expectationColumns}
            rows={expectations}
            rowKey={(_, index) => String(index)}
          />
        </Section>
      )}
    </>
  );
}
