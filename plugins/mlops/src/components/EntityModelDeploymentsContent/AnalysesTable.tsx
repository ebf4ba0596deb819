import Box from '@material-ui/core/Box';
import Typography from '@material-ui/core/Typography';
import type {
  QualitySlo,
  Rollout,
  RolloutAnalysis,
} from '@loopline/mlops-common';
import { CompactColumn, CompactTable, Time } from '../fields';
import { formatNumber } from '../shared';
import { VerdictChip } from './chips';
import { describeArm, describeCheck, formatShare } from './format';

/**
 * Each check on a line: name, value against the SLO's bound, verdict (a
 * chip, whose text screen readers read, unlike core-components' Status*).
 */
function Checks(props: {
  analysis: RolloutAnalysis;
  qualityMetric?: QualitySlo['metric'];
}) {
  const { analysis, qualityMetric } = props;
  return (
    <Box component="ul" m={0} p={0} style={{ listStyle: 'none' }}>
      {analysis.checks.map(check => (
        <Box
          component="li"
          key={check.name}
          data-check={check.name}
          title={check.message}
          mb={0.5}
        >
          <Typography variant="body2" component="span">
            {describeCheck(check, qualityMetric)}:{' '}
          </Typography>
          <VerdictChip verdict={check.verdict} />
        </Box>
      ))}
    </Box>
  );
}

/** The A/B test of the conversion rates and the shadow's agreement, if any. */
export function describeComparison(analysis: RolloutAnalysis): string[] {
  const lines: string[] = [];
  const { comparison, agreement } = analysis;
  if (comparison) {
    const points = formatNumber(comparison.difference * 100);
    lines.push(
      `Conversion ${formatShare(comparison.stableRate)} stable vs ${formatShare(
        comparison.candidateRate,
      )} candidate (${comparison.difference >= 0 ? '+' : ''}${points} pts)`,
      `z = ${formatNumber(comparison.zScore)}, p = ${formatNumber(
        comparison.pValue,
      )}: ${comparison.significant ? 'significant' : 'not significant'}`,
    );
  }
  if (agreement) {
    lines.push(
      `Agreement ${formatShare(agreement.rate)} of ${formatNumber(
        agreement.samples,
      )} mirrored ${agreement.samples === 1 ? 'request' : 'requests'}`,
    );
  }
  return lines;
}

/**
 * The analyses of a rollout, newest first: when, at which step, the verdict,
 * each SLO check with its value against the bound, each arm's figures, and
 * the A/B comparison or shadow agreement.
 */
export function AnalysesTable(props: {
  environment: string;
  rollout: Rollout;
  analyses: RolloutAnalysis[];
}) {
  const { environment, rollout, analyses } = props;
  const qualityMetric = rollout.slo.quality?.metric;
  const compared = analyses.some(a => a.comparison || a.agreement);
  const columns: CompactColumn<RolloutAnalysis>[] = [
    { title: 'Time', render: a => <Time value={a.windowEnd} /> },
    {
      title: 'Step',
      render: a =>
        `${a.stepIndex + 1} of ${rollout.steps.length} · ${a.weight}%`,
    },
    { title: 'Verdict', render: a => <VerdictChip verdict={a.verdict} /> },
    {
      title: 'Checks',
      render: a => (
        <Checks
          analysis={a}
          qualityMetric={
            qualityMetric ??
            a.arms.candidate.quality?.metric ??
            a.arms.stable.quality?.metric
          }
        />
      ),
    },
    { title: 'Stable', render: a => describeArm(a.arms.stable) },
    { title: 'Candidate', render: a => describeArm(a.arms.candidate) },
    ...(compared
      ? [
          {
            title: 'Comparison',
            render: (a: RolloutAnalysis) =>
              describeComparison(a).map(line => <div key={line}>{line}</div>),
          },
        ]
      : []),
  ];
  return (
    <Box overflow="auto">
      <CompactTable
        label={`Analyses in ${environment}`}
        columns={columns}
        rows={analyses}
        rowKey={a => a.id}
      />
    </Box>
  );
}
