/**
 * The Drift tab's charts, hand-drawn SVG on the scales the experiment charts
 * use (no chart library: three small chart shapes do not need one): a score
 * over time with its threshold line and change-point markers, and
 * reference-vs-current distributions as paired bars.
 */
import Box from '@material-ui/core/Box';
import { makeStyles } from '@material-ui/core/styles';
import Typography from '@material-ui/core/Typography';
import { linearScale, niceAxis } from '../EntityModelExperimentsContent/scale';

const WIDTH = 720;
const HEIGHT = 260;
const MARGIN = { top: 12, right: 16, bottom: 56, left: 64 };
const REFERENCE_COLOR = '#4e79a7';
const CURRENT_COLOR = '#f28e2b';
const LINE_COLOR = '#59a14f';
const LIMIT_COLOR = '#e15759';

const useStyles = makeStyles(theme => ({
  svg: { width: '100%', height: 'auto', display: 'block' },
  axis: { stroke: theme.palette.text.secondary, strokeWidth: 1 },
  grid: { stroke: theme.palette.divider, strokeWidth: 1 },
  tick: { fill: theme.palette.text.secondary, fontSize: 11 },
  legend: {
    display: 'flex',
    gap: theme.spacing(2),
    marginTop: theme.spacing(1),
  },
  swatch: { display: 'inline-block', width: 12, height: 12, marginRight: 6 },
}));

function formatTick(value: number): string {
  return Math.abs(value) >= 1000 || (value !== 0 && Math.abs(value) < 0.001)
    ? value.toExponential(1)
    : String(Number(value.toPrecision(4)));
}

function YAxis(props: { ticks: number[]; y: (v: number) => number }) {
  const classes = useStyles();
  return (
    <g data-axis="y">
      {props.ticks.map(tick => (
        <g key={tick}>
          <line
            className={classes.grid}
            x1={MARGIN.left}
            x2={WIDTH - MARGIN.right}
            y1={props.y(tick)}
            y2={props.y(tick)}
          />
          <text
            className={classes.tick}
            x={MARGIN.left - 6}
            y={props.y(tick)}
            textAnchor="end"
            dominantBaseline="middle"
          >
            {formatTick(tick)}
          </text>
        </g>
      ))}
      <line
        className={classes.axis}
        x1={MARGIN.left}
        x2={MARGIN.left}
        y1={MARGIN.top}
        y2={HEIGHT - MARGIN.bottom}
      />
    </g>
  );
}

function Legend(props: { items: Array<{ label: string; color: string }> }) {
  const classes = useStyles();
  return (
    <Box className={classes.legend}>
      {props.items.map(item => (
        <Typography key={item.label} variant="caption" component="span">
          <span className={classes.swatch} style={{ background: item.color }} />
          {item.label}
        </Typography>
      ))}
    </Box>
  );
}

/** A value over time with a horizontal limit (threshold or SLO) and vertical markers. */
export function TimeSeriesChart(props: {
  title: string;
  points: ReadonlyArray<{ t: number; value: number }>;
  limit?: { value: number; label: string };
  markers?: ReadonlyArray<{ t: number; label: string }>;
}) {
  const classes = useStyles();
  const { points, limit, markers = [] } = props;
  const times = [...points.map(p => p.t), ...markers.map(m => m.t)];
  const values = [
    ...points.map(p => p.value),
    ...(limit ? [limit.value] : []),
  ].filter(Number.isFinite);
  const t0 = Math.min(...times);
  const t1 = Math.max(...times);
  const yAxis = niceAxis(Math.min(...values), Math.max(...values));
  const x = linearScale(
    { min: t0, max: t1 === t0 ? t0 + 1 : t1 },
    MARGIN.left,
    WIDTH - MARGIN.right,
  );
  const y = linearScale(yAxis, HEIGHT - MARGIN.bottom, MARGIN.top);
  const path = points
    .filter(p => Number.isFinite(p.value))
    .map(
      (p, i) => `${i ? 'L' : 'M'}${x(p.t).toFixed(1)},${y(p.value).toFixed(1)}`,
    )
    .join('');
  const bottom = HEIGHT - MARGIN.bottom;
  return (
    <Box>
      <svg
        className={classes.svg}
        viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
        role="img"
        aria-label={props.title}
      >
        <title>{props.title}</title>
        <YAxis ticks={yAxis.ticks} y={y} />
        <line
          className={classes.axis}
          x1={MARGIN.left}
          x2={WIDTH - MARGIN.right}
          y1={bottom}
          y2={bottom}
        />
        {[t0, t1]
          .filter((t, i, all) => all.indexOf(t) === i)
          .map(t => (
            <text
              key={t}
              className={classes.tick}
              x={x(t)}
              y={bottom + 16}
              textAnchor="middle"
            >
              {new Date(t).toLocaleString()}
            </text>
          ))}
        {limit && (
          <line
            data-limit={limit.label}
            x1={MARGIN.left}
            x2={WIDTH - MARGIN.right}
            y1={y(limit.value)}
            y2={y(limit.value)}
            stroke={LIMIT_COLOR}
            strokeDasharray="6 4"
            strokeWidth={1.5}
          />
        )}
        {markers.map(m => (
          <line
            key={`${m.t}-${m.label}`}
            data-marker={m.label}
            x1={x(m.t)}
            x2={x(m.t)}
            y1={MARGIN.top}
            y2={bottom}
            stroke={LIMIT_COLOR}
            strokeWidth={1}
          >
            <title>{m.label}</title>
          </line>
        ))}
        <path d={path} fill="none" stroke={LINE_COLOR} strokeWidth={2} />
        {points.map(p => (
          <circle key={p.t} cx={x(p.t)} cy={y(p.value)} r={3} fill={LINE_COLOR}>
            <title>{`${new Date(p.t).toLocaleString()}: ${formatTick(
              p.value,
            )}`}</title>
          </circle>
        ))}
      </svg>
      <Legend
        items={[
          { label: props.title, color: LINE_COLOR },
          ...(limit ? [{ label: limit.label, color: LIMIT_COLOR }] : []),
        ]}
      />
    </Box>
  );
}

/** Reference and current shares per bin, side by side. */
export function DistributionChart(props: {
  title: string;
  bins: string[];
  reference: number[];
  current: number[];
}) {
  const classes = useStyles();
  const { bins, reference, current } = props;
  const yAxis = niceAxis(0, Math.max(...reference, ...current, 0.01));
  const y = linearScale(yAxis, HEIGHT - MARGIN.bottom, MARGIN.top);
  const slot = (WIDTH - MARGIN.left - MARGIN.right) / Math.max(bins.length, 1);
  const bar = Math.max(1, slot * 0.4);
  const bottom = HEIGHT - MARGIN.bottom;
  const labelEvery = Math.ceil(bins.length / 12);
  return (
    <Box>
      <svg
        className={classes.svg}
        viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
        role="img"
        aria-label={props.title}
      >
        <title>{props.title}</title>
        <YAxis ticks={yAxis.ticks} y={y} />
        <line
          className={classes.axis}
          x1={MARGIN.left}
          x2={WIDTH - MARGIN.right}
          y1={bottom}
          y2={bottom}
        />
        {bins.map((bin, i) => {
          const left = MARGIN.left + i * slot + slot * 0.1;
          return (
            <g key={bin} data-bin={bin}>
              <rect
                x={left}
                y={y(reference[i])}
                width={bar}
                height={bottom - y(reference[i])}
                fill={REFERENCE_COLOR}
              >
                <title>{`${bin} reference: ${(reference[i] * 100).toFixed(
                  1,
                )}%`}</title>
              </rect>
              <rect
                x={left + bar}
                y={y(current[i])}
                width={bar}
                height={bottom - y(current[i])}
                fill={CURRENT_COLOR}
              >
                <title>{`${bin} current: ${(current[i] * 100).toFixed(
                  1,
                )}%`}</title>
              </rect>
              {i % labelEvery === 0 && (
                <text
                  className={classes.tick}
                  transform={`translate(${left + bar} ${
                    bottom + 12
                  }) rotate(20)`}
                  textAnchor="start"
                >
                  {bin}
                </text>
              )}
            </g>
          );
        })}
      </svg>
      <Legend
        items={[
          { label: 'reference', color: REFERENCE_COLOR },
          { label: 'current window', color: CURRENT_COLOR },
        ]}
      />
    </Box>
  );
}
