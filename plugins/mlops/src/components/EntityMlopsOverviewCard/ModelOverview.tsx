import {
  DATASET_KIND,
  DriftMethod,
  ModelEntityV1alpha1,
  PIPELINE_KIND,
} from '@loopline/mlops-common';
import { Chips, Field, FieldGrid, Section, SpecRefLinks } from '../fields';
import { CommonFields } from './CommonFields';

const DRIFT_METHODS: Record<DriftMethod, string> = {
  psi: 'Population stability index',
  ks: 'Kolmogorov-Smirnov',
  chi2: 'Chi-squared',
  wasserstein: 'Wasserstein distance',
  'jensen-shannon': 'Jensen-Shannon distance',
  chisquare: 'Chi-squared',
  z: 'Z-test for proportions',
  kl_div: 'Kullback-Leibler divergence',
  jensenshannon: 'Jensen-Shannon distance',
};

const percent = new Intl.NumberFormat('en-US', {
  style: 'percent',
  maximumFractionDigits: 2,
});

const milliseconds = (value?: number) =>
  value === undefined ? undefined : `${value} ms`;

export function ModelOverview(props: { entity: ModelEntityV1alpha1 }) {
  const { entity } = props;
  const { modelCard, monitoring, serving, fairness, ...spec } = entity.spec;
  const drift = monitoring?.drift;
  const slos = monitoring?.slos;
  return (
    <>
      <FieldGrid>
        <Field label="Task" value={spec.type} />
        <Field label="Framework" value={spec.framework} />
        <CommonFields entity={entity} />
        <Field
          label="Trained on"
          value={
            spec.trainedOn && (
              <SpecRefLinks refs={spec.trainedOn} defaultKind={DATASET_KIND} />
            )
          }
        />
        <Field
          label="Produced by"
          value={
            spec.producedBy && (
              <SpecRefLinks
                refs={spec.producedBy}
                defaultKind={PIPELINE_KIND}
              />
            )
          }
        />
      </FieldGrid>
      {modelCard && (
        <Section title="Model card">
          <FieldGrid>
            <Field label="Intended use" value={modelCard.intendedUse} prose />
            <Field label="Limitations" value={modelCard.limitations} prose />
            <Field
              label="Ethical considerations"
              value={modelCard.ethicalConsiderations}
              prose
            />
            <Field
              label="Metrics"
              value={modelCard.metrics && <Chips values={modelCard.metrics} />}
            />
          </FieldGrid>
        </Section>
      )}
      {monitoring && (
        <Section title="Monitoring">
          <FieldGrid>
            <Field
              label="Drift method"
              value={drift && DRIFT_METHODS[drift.method]}
            />
            <Field label="Drift threshold" value={drift?.threshold} />
            <Field
              label="Drift check schedule"
              value={drift?.schedule && <code>{drift.schedule}</code>}
            />
            <Field
              label="Drift reference"
              value={
                drift?.reference && (
                  <SpecRefLinks
                    refs={drift.reference}
                    defaultKind={DATASET_KIND}
                  />
                )
              }
            />
            <Field
              label="Latency p95"
              value={milliseconds(slos?.latencyP95Ms)}
            />
            <Field
              label="Latency p99"
              value={milliseconds(slos?.latencyP99Ms)}
            />
            <Field
              label="Max error rate"
              value={
                slos?.maxErrorRate === undefined
                  ? undefined
                  : percent.format(slos.maxErrorRate)
              }
            />
            <Field label="Min requests" value={slos?.minRequests} />
          </FieldGrid>
        </Section>
      )}
      {serving && (
        <Section title="Serving">
          <FieldGrid>
            <Field label="Runtime" value={serving.runtime} />
            <Field label="Target" value={serving.target} />
            <Field
              label="Environments"
              value={
                serving.environments && <Chips values={serving.environments} />
              }
            />
          </FieldGrid>
        </Section>
      )}
      {fairness && (
        <Section title="Fairness">
          <FieldGrid>
            <Field
              label="Sensitive features"
              value={<Chips values={fairness.sensitiveFeatures} />}
            />
            <Field
              label="Thresholds"
              value={Object.entries(fairness.thresholds ?? {})
                .map(([metric, limit]) => `${metric} ≤ ${limit}`)
                .join(', ')}
            />
          </FieldGrid>
        </Section>
      )}
    </>
  );
}
