import { useState } from 'react';
import { useApi } from '@backstage/core-plugin-api';
import Checkbox from '@material-ui/core/Checkbox';
import FormControlLabel from '@material-ui/core/FormControlLabel';
import TextField from '@material-ui/core/TextField';
import Typography from '@material-ui/core/Typography';
import { usePermission } from '@backstage/plugin-permission-react';
import {
  MODEL_STAGES,
  modelGateOverridePermission,
  ModelStage,
  ModelVersion,
} from '@loopline/mlops-common';
import { mlopsApiRef } from '../../api';
import { ActionDialog, CommentField } from '../shared';

/** Where a version usually goes next. */
const NEXT_STAGE: Record<ModelStage, ModelStage> = {
  None: 'Staging',
  Staging: 'Production',
  Production: 'Archived',
  Archived: 'None',
};

/** Only these stages hold one live version that a newcomer can replace. */
const ARCHIVABLE: ReadonlyArray<ModelStage> = ['Staging', 'Production'];

/** Moves a version to another stage, optionally archiving the versions there. */
export function TransitionStageDialog(props: {
  version: ModelVersion;
  /** The model's other versions, to say which would be archived. */
  versions: ModelVersion[];
  onClose: () => void;
  onDone: (message: string) => void;
}) {
  const { version, versions, onClose, onDone } = props;
  const mlopsApi = useApi(mlopsApiRef);
  const [stage, setStage] = useState<ModelStage>(NEXT_STAGE[version.stage]);
  const [comment, setComment] = useState('');
  const [archive, setArchive] = useState(false);
  const [override, setOverride] = useState(false);
  // A platform group may promote past failing gates, saying why.
  const mayOverride = usePermission({
    permission: modelGateOverridePermission,
  }).allowed;
  const overriding = mayOverride && stage === 'Production' && override;

  const canArchive = ARCHIVABLE.includes(stage);
  const occupants = versions.filter(
    other => other.version !== version.version && other.stage === stage,
  );

  return (
    <ActionDialog
      open
      title={`Transition version ${version.version} of ${version.name}`}
      submitLabel="Transition"
      canSubmit={
        stage !== version.stage && (!overriding || comment.trim() !== '')
      }
      onClose={onClose}
      onDone={onDone}
      onSubmit={async () => {
        const archiveExistingVersions = canArchive && archive;
        const updated = await mlopsApi.transitionModelVersionStage(
          version.name,
          version.version,
          {
            stage,
            comment: comment.trim() || undefined,
            archiveExistingVersions,
            ...(overriding ? { overrideGates: true } : {}),
          },
        );
        return `Version ${updated.version} of ${updated.name} moved from ${version.stage} to ${updated.stage}.`;
      }}
    >
      <Typography variant="body2" paragraph>
        Version {version.version} is in <strong>{version.stage}</strong>.
      </Typography>
      <TextField
        id="transition-stage"
        select
        label="Stage"
        value={stage}
        onChange={event => setStage(event.target.value as ModelStage)}
        SelectProps={{ native: true }}
        fullWidth
        margin="dense"
      >
        {MODEL_STAGES.filter(option => option !== version.stage).map(option => (
          <option key={option} value={option}>
            {option}
          </option>
        ))}
      </TextField>
      <CommentField value={comment} onChange={setComment} />
      <FormControlLabel
        control={
          <Checkbox
            checked={canArchive && archive}
            disabled={!canArchive}
            onChange={event => setArchive(event.target.checked)}
            color="primary"
          />
        }
        label="Archive existing versions in that stage"
      />
      {mayOverride && stage === 'Production' && (
        <FormControlLabel
          control={
            <Checkbox
              checked={override}
              onChange={event => setOverride(event.target.checked)}
              color="primary"
            />
          }
          label="Override the Model's gates if they refuse (needs a comment; audited)"
        />
      )}
      {canArchive && archive && occupants.length > 0 && (
        <Typography variant="body2" color="textSecondary">
          Will archive {occupants.length === 1 ? 'version' : 'versions'}{' '}
          {occupants.map(other => other.version).join(', ')}.
        </Typography>
      )}
    </ActionDialog>
  );
}
