import { useApi, ApiHolder } from '@backstage/core-plugin-api';
import { catalogApiRef } from '@backstage/plugin-catalog-react';
import {
  CustomFieldValidator,
  FieldExtensionComponentProps,
} from '@backstage/plugin-scaffolder-react';
import TextField from '@material-ui/core/TextField';
import { useEffect, useState } from 'react';
import { mlopsApiRef } from '../../api';
import {
  NamePickerUiOptions,
  nameFormatProblem,
  takenBy,
  takenMessage,
} from './nameProblems';

/** How long typing pauses before the name is looked up. */
const LOOKUP_DELAY_MS = 400;

/**
 * The name of a new ML project, Dataset or Pipeline: an entity name that
 * nothing the template would create has yet. It says so while typing; the
 * validator refuses a taken name before the template runs.
 */
export const NamePicker = (
  props: FieldExtensionComponentProps<string, NamePickerUiOptions>,
) => {
  const {
    onChange,
    schema: { title = 'Name', description = 'Unique name of the new entity' },
    required,
    uiSchema,
    rawErrors,
    formData,
    idSchema,
  } = props;
  const catalogApi = useApi(catalogApiRef);
  const mlopsApi = useApi(mlopsApiRef);
  const options = uiSchema?.['ui:options'] ?? {};
  const [problem, setProblem] = useState<string | undefined>();
  const optionsKey = JSON.stringify(options);

  useEffect(() => {
    setProblem(undefined);
    const name = formData;
    if (!name || nameFormatProblem(name)) {
      setProblem(nameFormatProblem(name));
      return undefined;
    }
    let current = true;
    const timer = setTimeout(async () => {
      const taken = await takenBy(name, JSON.parse(optionsKey), {
        catalogApi,
        mlopsApi,
      });
      if (current && taken.length > 0) setProblem(takenMessage(name, taken));
    }, LOOKUP_DELAY_MS);
    return () => {
      current = false;
      clearTimeout(timer);
    };
  }, [formData, optionsKey, catalogApi, mlopsApi]);

  return (
    <TextField
      id={idSchema?.$id}
      label={title}
      placeholder={description}
      helperText={problem ?? description}
      required={required}
      value={formData ?? ''}
      onChange={({ target: { value } }) => onChange(value)}
      margin="normal"
      error={Boolean(problem) || (rawErrors?.length ?? 0) > 0}
      inputProps={{ autoFocus: uiSchema?.['ui:autofocus'] }}
      fullWidth
    />
  );
};

/** Refuses a name that is no entity name, or that is taken. */
export const validateName: CustomFieldValidator<
  string,
  NamePickerUiOptions
> = async (value, field, context) => {
  const format = nameFormatProblem(value);
  if (format) {
    field.addError(format);
    return;
  }
  if (!value) return;
  const apis = context.apiHolder as ApiHolder;
  const taken = await takenBy(value, context.uiSchema?.['ui:options'] ?? {}, {
    catalogApi: apis.get(catalogApiRef),
    mlopsApi: apis.get(mlopsApiRef),
  });
  if (taken.length > 0) {
    field.addError(takenMessage(value, taken));
  }
};
