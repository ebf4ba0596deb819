import { useState } from 'react';
import { useApi } from '@backstage/core-plugin-api';
import TextField from '@material-ui/core/TextField';
import Typography from '@material-ui/core/Typography';
import type { ModelVersion } from '@loopline/mlops-common';
import { mlopsApiRef } from '../../api';
import { ActionDialog, CommentField } from '../shared';

/**
 * Why an alias name is not allowed, or undefined when it is: MLflow's rules
 * (letters, digits, `_` and `-`; not `latest`, not `v<digits>`, which name
 * versions).
 */
export function aliasProblem(alias: string): string | undefined {
  if (!alias) {
    return 'Required';
  }
  if (alias.length > 255) {
    return 'At most 255 characters';
  }
  if (!/^[A-Za-z0-9_-]+$/.test(alias)) {
    return 'Letters, digits, _ and - only';
  }
  if (alias.toLowerCase() === 'latest' || /^v\d+$/i.test(alias)) {
    return `"${alias}" is reserved`;
  }
  return undefined;
}

/** Points an alias at a version (moving it if another version has it). */
export function SetAliasDialog(props: {
  version: ModelVersion;
  versions: ModelVersion[];
  onClose: () => void;
  onDone: (message: string) => void;
}) {
  const { version, versions, onClose, onDone } = props;
  const mlopsApi = useApi(mlopsApiRef);
  const [alias, setAlias] = useState('');
  const [comment, setComment] = useState('');
  const [touched, setTouched] = useState(false);
  const name = alias.trim();
  const problem = aliasProblem(name);
  const holder = versions.find(other => other.aliases.includes(name));
  return (
    <ActionDialog
      open
      title={`Set an alias on version ${version.version} of ${version.name}`}
      submitLabel="Set alias"
      canSubmit={!problem && holder?.version !== version.version}
      onClose={onClose}
      onDone={onDone}
      onSubmit={async () => {
        const updated = await mlopsApi.setModelAlias(version.name, name, {
          version: version.version,
          comment: comment.trim() || undefined,
        });
        return `@${name} now points at version ${updated.version} of ${updated.name}.`;
      }}
    >
      <TextField
        id="alias-name"
        label="Alias"
        value={alias}
        onChange={event => {
          setAlias(event.target.value);
          setTouched(true);
        }}
        error={touched && Boolean(problem)}
        helperText={
          (touched && problem) ||
          'e.g. champion, challenger; letters, digits, _ and -'
        }
        fullWidth
        margin="dense"
      />
      {holder && holder.version !== version.version && (
        <Typography variant="body2" color="textSecondary">
          @{name} points at version {holder.version} now; it will move to
          version {version.version}.
        </Typography>
      )}
      {holder?.version === version.version && (
        <Typography variant="body2" color="textSecondary">
          Version {version.version} already has @{name}.
        </Typography>
      )}
      <CommentField value={comment} onChange={setComment} />
    </ActionDialog>
  );
}

/** Removes one of a version's aliases. */
export function RemoveAliasDialog(props: {
  version: ModelVersion;
  onClose: () => void;
  onDone: (message: string) => void;
}) {
  const { version, onClose, onDone } = props;
  const mlopsApi = useApi(mlopsApiRef);
  const [alias, setAlias] = useState(version.aliases[0] ?? '');
  const [comment, setComment] = useState('');
  return (
    <ActionDialog
      open
      title={`Remove an alias from version ${version.version} of ${version.name}`}
      submitLabel="Remove alias"
      canSubmit={version.aliases.includes(alias)}
      onClose={onClose}
      onDone={onDone}
      onSubmit={async () => {
        await mlopsApi.deleteModelAlias(version.name, alias, {
          comment: comment.trim() || undefined,
        });
        return `@${alias} removed from version ${version.version} of ${version.name}.`;
      }}
    >
      <TextField
        id="alias-remove-name"
        select
        label="Alias"
        value={alias}
        onChange={event => setAlias(event.target.value)}
        SelectProps={{ native: true }}
        fullWidth
        margin="dense"
      >
        {version.aliases.map(option => (
          <option key={option} value={option}>
            {option}
          </option>
        ))}
      </TextField>
      <CommentField value={comment} onChange={setComment} />
    </ActionDialog>
  );
}
