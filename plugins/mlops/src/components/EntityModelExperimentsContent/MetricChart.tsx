import { useMemo } from 'react';
import Box from '@material-ui/core/Box';
import { makeStyles } from '@material-ui/core/styles';
import Typography from '@material-ui/core/Typography';
import { formatNumber } from '../shared';
import { linearScale, niceAxis, thin } from './scale';

/** One line of the chart. */
export interface ChartSeries {
  id: string;
  label: string;
  color: string;
  points: ReadonlyArray<{ x: number; y: number }>;
}

/** One colour per run; Tableau's 10, distinct on light and dark themes. */
export const SERIES_COLORS = [
  '#4e79a7',
  '#f28e2b',
  '#e15759',
  '#76b7b2',
  '#59a14f',
  '#edc948',
  '#b07aa1',
  '#ff9da7',
  '#9c755f',
  '#bab0ac',
];

const WIDTH = 720;
const HEIGHT = 320;
const MARGIN = { top: 12, right: 16, bottom: 40, left: 64 };
/** Points drawn per line at most; longer histories are thinned. */
const MAX_POINTS = 1000;
/** Up to this many points a line also gets a dot (with a tooltip) per point. */
const MAX_DOTS = 60;

const useStyles = makeStyles(theme => ({
  svg: { width: '100%', height: 'auto', display: 'block' },
  axis: { stroke: theme.palette.text.secondary, strokeWidth: 1 },
  grid: { stroke: theme.palette.divider, strokeWidth: 1 },
  tick: { fill: theme.palette.text.secondary, fontSize: 11 },
  label: { fill: theme.palette.text.primary, fontSize: 12 },
  legend: {
    listStyle: 'none',
    display: 'flex',
    flexWrap: 'wrap',
    gap: theme.spacing(2),
    margin: theme.spacing(1, 0, 0),
    padding: 0,
  },
  legendItem: { display: 'flex', alignItems: 'center' },
  swatch: {
    display: 'inline-block',
    width: 14,
    height: 3,
    marginRight: theme.spacing(1),
  },
}));

/** A path through the points, broken where a value is NaN or infinite. */
function linePath(
  points: ReadonlyArray<{ x: number; y: number }>,
  x: (value: number) => number,
  y: (value: number) => number,
): string {
  let path = '';
  let drawing = false;
  for (const point of points) {
    if (!Number.isFinite(point.y)) {
      drawing = false;
      continue;
    }
    path += `${drawing ? 'L' : 'M'}${x(point.x).toFixed(1)},${y(
      point.y,
    ).toFixed(1)}`;
    drawing = true;
  }
  return path;
}

/**
 * A small line chart (SVG): one line per series over a shared x axis, with
 * axes, grid lines and a legend.
 */
export function MetricChart(props: {
  title: string;
  xLabel: string;
  yLabel: string;
  series: ReadonlyArray<ChartSeries>;
}) {
  const { title, xLabel, yLabel, series } = props;
  const classes = useStyles();

  const { xAxis, yAxis, lines } = useMemo(() => {
    // A loop, not Math.min(...): histories may hold many thousand points.
    const extent = { x0: Infinity, x1: -Infinity, y0: Infinity, y1: -Infinity };
    for (const line of series) {
      for (const point of line.points) {
        if (Number.isFinite(point.y)) {
          extent.x0 = Math.min(extent.x0, point.x);
          extent.x1 = Math.max(extent.x1, point.x);
          extent.y0 = Math.min(extent.y0, point.y);
          extent.y1 = Math.max(extent.y1, point.y);
        }
      }
    }
    const xAxisOf = niceAxis(extent.x0, extent.x1, { integer: true });
    const yAxisOf = niceAxis(extent.y0, extent.y1);
    return {
      xAxis: xAxisOf,
      yAxis: yAxisOf,
      lines: series.map(line => ({
        ...line,
        points: thin(line.points, MAX_POINTS),
      })),
    };
  }, [series]);

  const x = linearScale(xAxis, MARGIN.left, WIDTH - MARGIN.right);
  const y = linearScale(yAxis, HEIGHT - MARGIN.bottom, MARGIN.top);
  const bottom = HEIGHT - MARGIN.bottom;
  const titleId = `metric-chart-${yLabel.replace(/\W+/g, '-')}`;

  return (
    <Box>
      <svg
        className={classes.svg}
        viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
        role="img"
        aria-labelledby={titleId}
      >
        <title id={titleId}>{title}</title>
        <g data-axis="y">
          {yAxis.ticks.map(tick => (
            <g key={tick}>
              <line
                className={classes.grid}
                x1={MARGIN.left}
                x2={WIDTH - MARGIN.right}
                y1={y(tick)}
                y2={y(tick)}
              />
              <text
                className={classes.tick}
                x={MARGIN.left - 6}
                y={y(tick)}
                textAnchor="end"
                dominantBaseline="middle"
              >
                {formatNumber(tick)}
              </text>
            </g>
          ))}
          <line
            className={classes.axis}
            x1={MARGIN.left}
            x2={MARGIN.left}
            y1={MARGIN.top}
            y2={bottom}
          />
          <text
            className={classes.label}
            transform={`translate(14 ${(MARGIN.top + bottom) / 2}) rotate(-90)`}
            textAnchor="middle"
          >
            {yLabel}
          </text>
        </g>
        <g data-axis="x">
          {xAxis.ticks.map(tick => (
            <text
              key={tick}
              className={classes.tick}
              x={x(tick)}
              y={bottom + 16}
              textAnchor="middle"
            >
              {tick}
            </text>
          ))}
          <line
            className={classes.axis}
            x1={MARGIN.left}
            x2={WIDTH - MARGIN.right}
            y1={bottom}
            y2={bottom}
          />
          <text
            className={classes.label}
            x={(MARGIN.left + WIDTH - MARGIN.right) / 2}
            y={HEIGHT - 4}
            textAnchor="middle"
          >
            {xLabel}
          </text>
        </g>
        {lines.map(line => (
          <g key={line.id}>
            <path
              data-series={line.label}
              d={linePath(line.points, x, y)}
              fill="none"
              stroke={line.color}
              strokeWidth={2}
              strokeLinejoin="round"
            />
            {line.points.length <= MAX_DOTS &&
              line.points
                .filter(point => Number.isFinite(point.y))
                .map((point, index) => (
                  <circle
                    key={index}
                    cx={x(point.x)}
                    cy={y(point.y)}
                    r={3}
                    fill={line.color}
                  >
                    <title>{`${line.label}: ${xLabel} ${
                      point.x
                    }, ${yLabel} ${formatNumber(point.y)}`}</title>
                  </circle>
                ))}
          </g>
        ))}
      </svg>
      <ul className={classes.legend} aria-label="Legend">
        {series.map(line => (
          <li key={line.id} className={classes.legendItem}>
            <span
              className={classes.swatch}
              style={{ backgroundColor: line.color }}
            />
            <Typography variant="body2" component="span">
              {line.label}
            </Typography>
          </li>
        ))}
      </ul>
    </Box>
  );
}
