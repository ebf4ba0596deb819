import {
  DATASET_KIND,
  MODEL_KIND,
  PipelineEntityV1alpha1,
  PipelineStep,
  PipelineTrigger,
} from '@loopline/mlops-common';
import Typography from '@material-ui/core/Typography';
import { makeStyles } from '@material-ui/core/styles';
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

const stepColumns: CompactColumn<PipelineStep>[] = [
  {
    title: 'Step',
    render: step => (
      <NameCell name={step.name} description={step.description} />
    ),
  },
  { title: 'After', render: step => step.dependsOn?.join(', ') },
  {
    title: 'Runs',
    render: step =>
      (step.image || step.command) && (
        <code>
          {[step.image, ...(step.command ?? [])].filter(Boolean).join(' ')}
        </code>
      ),
  },
];

const useStyles = makeStyles({
  triggers: { margin: 0, paddingLeft: 16 },
});

function Trigger(props: { trigger: PipelineTrigger }) {
  const { trigger } = props;
  if (trigger.type === 'schedule') {
    return (
      <>
        On schedule <code>{trigger.cron}</code>
      </>
    );
  }
  if (trigger.type === 'drift') {
    return (
      <>
        On drift of{' '}
        <SpecRefLinks refs={trigger.model} defaultKind={MODEL_KIND} />
      </>
    );
  }
  if (trigger.type === 'dataset-update') {
    return (
      <>
        On update of{' '}
        <SpecRefLinks refs={trigger.dataset} defaultKind={DATASET_KIND} />
      </>
    );
  }
  return <>Manually</>;
}

export function PipelineOverview(props: { entity: PipelineEntityV1alpha1 }) {
  const { entity } = props;
  const { spec } = entity;
  const classes = useStyles();
  const steps = spec.steps ?? [];
  const triggers = spec.triggers ?? [];
  return (
    <>
      <FieldGrid>
        <Field label="Type" value={spec.type} />
        <Field
          label="Schedule"
          value={spec.schedule && <code>{spec.schedule}</code>}
        />
        <Field label="Runner" value={spec.runner?.type} />
        <Field label="Runner image" value={spec.runner?.image} />
        <CommonFields entity={entity} />
        <Field
          label="Consumes"
          value={
            spec.consumes && (
              <SpecRefLinks refs={spec.consumes} defaultKind={DATASET_KIND} />
            )
          }
        />
        {/* A pipeline may write models and datasets, so each ref names its kind. */}
        <Field
          label="Produces"
          value={spec.produces && <SpecRefLinks refs={spec.produces} />}
        />
        <Field
          label="Triggers"
          value={
            triggers.length > 0 && (
              <Typography
                component="ul"
                variant="body2"
                className={classes.triggers}
              >
                {triggers.map((trigger, index) => (
                  <li key={index}>
                    <Trigger trigger={trigger} />
                  </li>
                ))}
              </Typography>
            )
          }
        />
      </FieldGrid>
      {steps.length > 0 && (
        <Section title="Steps">
          <CompactTable
            label="Steps"
            columns={stepColumns}
            rows={steps}
            rowKey={step => step.name}
          />
        </Section>
      )}
    </>
  );
}
