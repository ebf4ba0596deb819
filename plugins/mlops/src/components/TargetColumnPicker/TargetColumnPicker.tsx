import { useEffect } from 'react';
import { Entity } from '@backstage/catalog-model';
import { ApiHolder, useApi } from '@backstage/core-plugin-api';
import { catalogApiRef } from '@backstage/plugin-catalog-react';
import {
  CustomFieldValidator,
  FieldExtensionComponentProps,
} from '@backstage/plugin-scaffolder-react';
import FormControl from '@material-ui/core/FormControl';
import FormHelperText from '@material-ui/core/FormHelperText';
import InputLabel from '@material-ui/core/InputLabel';
import MenuItem from '@material-ui/core/MenuItem';
import Select from '@material-ui/core/Select';
import useAsync from 'react-use/esm/useAsync';
import {
  DEFAULT_DATASET_FIELD,
  schemaFieldsOf,
  targetColumnProblem,
} from './targetColumns';

/** `ui:options` of the MlopsTargetColumnPicker field. */
export interface TargetColumnPickerUiOptions {
  /** The form field holding the Dataset's entity ref (default `dataset`). */
  datasetField?: string;
}

async function fetchDataset(
  catalogApi: { getEntityByRef(ref: string): Promise<Entity | undefined> },
  ref: string | undefined,
): Promise<Entity | undefined> {
  return ref ? catalogApi.getEntityByRef(ref) : undefined;
}

/**
 * Picks the target column of a model from the schema fields of the Dataset
 * chosen in another field of the form (`ui:options.datasetField`); the
 * Dataset's `target` field is preselected.
 */
export const TargetColumnPicker = (
  props: FieldExtensionComponentProps<string, TargetColumnPickerUiOptions>,
) => {
  const {
    onChange,
    schema: { title = 'Target column', description },
    required,
    uiSchema,
    rawErrors,
    formData,
    formContext,
    idSchema,
  } = props;
  const catalogApi = useApi(catalogApiRef);
  const datasetField =
    uiSchema?.['ui:options']?.datasetField ?? DEFAULT_DATASET_FIELD;
  const datasetRef = formContext?.formData?.[datasetField] as
    | string
    | undefined;
  const {
    value: dataset,
    loading,
    error,
  } = useAsync(
    () => fetchDataset(catalogApi, datasetRef),
    [catalogApi, datasetRef],
  );
  const fields = schemaFieldsOf(dataset) ?? [];
  const target = fields.find(field => field.role === 'target');

  // The Dataset's own target is the natural choice; a changed Dataset
  // drops a column it does not have.
  useEffect(() => {
    if (loading || !dataset) return;
    if (!formData || !fields.some(field => field.name === formData)) {
      onChange(target?.name);
    }
  }, [loading, dataset, formData, fields, target, onChange]);

  const problem =
    datasetRef && !loading && !error
      ? targetColumnProblem(formData ?? target?.name, datasetRef, dataset)
      : undefined;
  const helper = error
    ? `Could not read ${datasetRef}: ${error.message}`
    : problem ??
      (datasetRef
        ? description ?? 'A field of the Dataset’s schema'
        : 'Choose the training Dataset first');

  return (
    <FormControl
      fullWidth
      margin="normal"
      required={required}
      error={Boolean(rawErrors?.length) || Boolean(problem) || Boolean(error)}
      disabled={!datasetRef || loading}
    >
      <InputLabel id={`${idSchema.$id}-label`}>{title}</InputLabel>
      <Select
        labelId={`${idSchema.$id}-label`}
        id={idSchema.$id}
        value={formData ?? ''}
        onChange={event => onChange(event.target.value as string)}
        inputProps={{ 'aria-label': title }}
      >
        {fields.map(field => (
          <MenuItem key={field.name} value={field.name}>
            {field.name} ({field.type}
            {field.role ? `, ${field.role}` : ''})
          </MenuItem>
        ))}
      </Select>
      <FormHelperText>{helper}</FormHelperText>
    </FormControl>
  );
};

/**
 * The form refuses a target that is not the Dataset's `target` field, and a
 * Dataset without one, before the template runs.
 */
export const validateTargetColumn: CustomFieldValidator<
  string,
  TargetColumnPickerUiOptions
> = async (value, field, context) => {
  const datasetField =
    context.uiSchema?.['ui:options']?.datasetField ?? DEFAULT_DATASET_FIELD;
  const datasetRef = context.formData?.[datasetField] as string | undefined;
  const catalogApi = (context.apiHolder as ApiHolder).get(catalogApiRef);
  const dataset =
    catalogApi && datasetRef
      ? await catalogApi.getEntityByRef(datasetRef)
      : undefined;
  const problem = targetColumnProblem(value, datasetRef, dataset);
  if (problem) {
    field.addError(problem);
  }
};
